// How a verified token names its subject for SubjectAccessReview: as the API server names the same
// token, so the RBAC bindings written for the API server's users are the ones the read API honours.
// The API server's own service-account tokens as its service-account authenticator does; an OIDC
// issuer's as its OIDC authenticator does (k8s.io/apiserver plugin/pkg/authenticator/token/oidc, with
// the --oidc-* flags' defaults from pkg/kubeapiserver/options/authentication.go).
import type { JWTPayload } from "jose";
import type { Subject } from "./authenticate.ts";

/** The subject of a verified token, or why the token names none (an RFC 6750 error description). */
export type SubjectOf = (payload: JWTPayload) => Subject | string;

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):[^:]+$/;

/** Service-account tokens carry no groups: the API server gives them these. */
export function serviceAccountSubject(payload: JWTPayload): Subject | string {
  const user = payload.sub ?? "";
  const serviceAccount = SERVICE_ACCOUNT.exec(user);
  if (!serviceAccount?.[1])
    return "the token's sub claim names no service account (system:serviceaccount:<namespace>:<name>)";
  const uid = (payload["kubernetes.io"] as { serviceaccount?: { uid?: unknown } } | undefined)?.serviceaccount?.uid;
  return authenticated({
    user,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`],
    ...(typeof uid === "string" ? { uid } : {}),
  });
}

/** The API server's --oidc-username-claim, --oidc-username-prefix, --oidc-groups-claim, --oidc-groups-prefix. */
export interface ClaimMappingSettings {
  usernameClaim?: string;
  /** Unset: `<issuer>#` for claims other than email, as the API server; "-": none. */
  usernamePrefix?: string;
  /** Unset: no groups, as the API server. */
  groupsClaim?: string;
  groupsPrefix?: string;
}

export interface ClaimMappings {
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim?: string;
  groupsPrefix: string;
}

/** The mappings the API server takes from the same flags, defaults included. */
export function claimMappings(issuer: string, settings: ClaimMappingSettings): ClaimMappings {
  const usernameClaim = settings.usernameClaim || "sub";
  // Unprefixed, a token whose sub is "alice" or "system:serviceaccount:..." would be that user of another
  // authenticator: the API server prefixes every claim but email (kubernetes/kubernetes#31380).
  const usernamePrefix = settings.usernamePrefix || (usernameClaim === "email" ? "" : `${issuer}#`);
  return {
    usernameClaim,
    usernamePrefix: usernamePrefix === "-" ? "" : usernamePrefix,
    ...(settings.groupsClaim ? { groupsClaim: settings.groupsClaim } : {}),
    groupsPrefix: settings.groupsPrefix ?? "",
  };
}

export function oidcSubject(mappings: ClaimMappings): SubjectOf {
  const { usernameClaim, usernamePrefix, groupsClaim, groupsPrefix } = mappings;
  return (payload) => {
    const name = payload[usernameClaim];
    if (typeof name !== "string" || name === "") return `the token has no ${usernameClaim} claim to name its subject`;
    // An email is a name only once the issuer has verified it; absent, the API server takes it as is.
    if (usernameClaim === "email" && "email_verified" in payload && payload.email_verified !== true)
      return "the token's email is not verified (email_verified is not true)";
    const claimed = groupsClaim === undefined ? undefined : payload[groupsClaim];
    // Some issuers send one group as a string; the API server takes that too.
    const groups = typeof claimed === "string" ? [claimed] : (claimed ?? []);
    if (!Array.isArray(groups) || !groups.every((group) => typeof group === "string"))
      return `the token's ${groupsClaim} claim is neither a string nor a list of strings`;
    return authenticated({ user: usernamePrefix + name, groups: groups.map((group) => groupsPrefix + group) });
  };
}

const ALL_AUTHENTICATED = "system:authenticated";

/** The API server adds system:authenticated to every authenticated user (but the anonymous one). */
function authenticated(subject: Subject): Subject {
  const { user, groups } = subject;
  const marked =
    user === "system:anonymous" || groups.includes(ALL_AUTHENTICATED) || groups.includes("system:unauthenticated");
  return { ...subject, groups: [...new Set(marked ? groups : [...groups, ALL_AUTHENTICATED])] };
}
