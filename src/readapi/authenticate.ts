// Bearer JWT authentication with jose: the signature against the issuer's JWKS, an allow-list of
// asymmetric algorithms, issuer, audience, exp and nbf with a small clock skew. A failure carries the
// RFC 6750 error code and a description for WWW-Authenticate; never the token.
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { SubjectOf } from "./subjects.ts";
import type { TokenReview } from "./token-review.ts";

/** Asymmetric only: no `none`, and no HS* (an HMAC "verified" with a public key is a forgery). */
export const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

export interface AuthenticatorOptions {
  issuer: string;
  audience: string | string[];
  /** The issuer's keys: jose's createRemoteJWKSet (cached, refreshed on an unknown kid) or a local set in tests. */
  keys: JWTVerifyGetKey;
  algorithms?: readonly string[];
  clockToleranceSeconds?: number;
  /** Who the token's claims name, for SubjectAccessReview (subjects.ts). */
  subjectOf: SubjectOf;
  /** The API server's TokenReview, for what the keys cannot tell (token-review.ts); absent: the keys decide. */
  review?: TokenReview;
}

export interface Subject {
  user: string;
  groups: string[];
  uid?: string;
}

export type Authentication =
  | { ok: true; subject: Subject }
  | {
      ok: false;
      status: 401 | 503;
      error: "invalid_request" | "invalid_token" | "temporarily_unavailable";
      description: string;
    };

export type Authenticate = (authorization: string | undefined) => Promise<Authentication>;

export function authenticator(options: AuthenticatorOptions): Authenticate {
  const algorithms = [...(options.algorithms ?? ALLOWED_ALGORITHMS)];
  const refused = algorithms.filter((a) => !(ALLOWED_ALGORITHMS as readonly string[]).includes(a));
  if (refused.length > 0)
    throw new Error(
      `read API: algorithms ${refused.join(", ")} are not allowed; use asymmetric ones: ${ALLOWED_ALGORITHMS.join(", ")}`,
    );
  return async (authorization) => {
    if (!authorization) return invalid("invalid_request", "missing bearer token: send Authorization: Bearer <JWT>");
    const match = /^Bearer +([A-Za-z0-9\-_.]+=*) *$/i.exec(authorization);
    if (!match?.[1]) return invalid("invalid_request", "malformed Authorization header: expected Bearer <JWT>");
    const token = match[1];
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: options.clockToleranceSeconds ?? 30,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      return failure(error);
    }
    const subject = options.subjectOf(payload);
    if (typeof subject === "string") return invalid("invalid_token", subject);
    return options.review ? reviewed(options.review, token, subject) : { ok: true, subject };
  };
}

async function reviewed(review: TokenReview, token: string, subject: Subject): Promise<Authentication> {
  try {
    if (await review(token)) return { ok: true, subject };
    return invalid(
      "invalid_token",
      "the API server does not accept the token: was its service account, or the pod or Secret it is bound to, deleted?",
    );
  } catch {
    return unavailable("the API server cannot review the token");
  }
}

function invalid(error: "invalid_request" | "invalid_token", description: string): Authentication {
  return { ok: false, status: 401, error, description };
}

export function unavailable(description: string): Authentication {
  return { ok: false, status: 503, error: "temporarily_unavailable", description };
}

function failure(error: unknown): Authentication {
  if (isKeyFetchFailure(error)) return unavailable("the issuer's keys cannot be fetched");
  if (error instanceof errors.JWTExpired) return invalid("invalid_token", "the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return invalid("invalid_token", "the token is not valid yet (nbf)");
    if (error.claim === "iss") return invalid("invalid_token", "the token is from another issuer");
    if (error.claim === "aud") return invalid("invalid_token", "the token is for another audience");
    if (error.reason === "missing") return invalid("invalid_token", `the token has no ${error.claim} claim`);
    return invalid("invalid_token", `the token's ${error.claim} claim is not valid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return invalid("invalid_token", "the token is signed by an unknown key");
  if (error instanceof errors.JOSEAlgNotAllowed)
    return invalid("invalid_token", "the token's algorithm is not allowed");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return invalid("invalid_token", "the token's signature does not verify");
  return invalid("invalid_token", "the token is malformed");
}

/** What is not about the token is about fetching the issuer's keys: the network, a non-200, a bad JWKS. */
function isKeyFetchFailure(error: unknown): boolean {
  return (
    !(error instanceof errors.JOSEError) ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    error.code === "ERR_JOSE_GENERIC"
  );
}

/** The WWW-Authenticate value for a failure (RFC 6750 §3). */
export function challenge(failure: { error: string; description: string }): string {
  return `Bearer realm="ai-api-guard", error="${failure.error}", error_description="${failure.description}"`;
}
