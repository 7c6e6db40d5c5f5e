// The credential's conditions: CredentialsReady (the Secret exists and is mounted) and
// CredentialRotationOverdue (its age, from the aiapiguard.dev/rotated-at annotation or else its
// creation time, against maxAgeDays).
import { type AiApiPolicy, credentialsMountPath } from "../api/index.ts";
import { shownName } from "../engine/index.ts";
import { type CachedSecret, ROTATED_AT_ANNOTATION } from "../kube/cached.ts";
import type { Observed } from "./conditions.ts";
import { describeFailure, type WorkloadFailure } from "./workloads.ts";

const DAY_MS = 86_400_000;

export interface CredentialObservations {
  rotation: Observed;
  /** Secret age in days, when there is a Secret. */
  ageDays?: number;
  ready(matched: number, changed: number, failures: readonly WorkloadFailure[]): Observed;
}

export function credentialObservations(
  policy: AiApiPolicy,
  secret: CachedSecret | undefined,
  now: Date,
): CredentialObservations {
  const credentials = policy.spec.credentials;
  if (!credentials) {
    const none = { status: "False" as const, reason: "NotRequested", message: "spec.credentials is not set." };
    return { rotation: none, ready: () => ({ ...none, status: "True" }) };
  }
  // Named by their hints when they hold a key: they go into the status and Events.
  const namespace = shownName(policy.metadata.namespace ?? "");
  const shown = shownName(credentials.secretName);
  if (!secret) {
    const missing = `Secret ${shown} does not exist in namespace ${namespace}: create it; it is mounted as soon as it exists.`;
    return {
      rotation: { status: "Unknown", reason: "SecretNotFound", message: missing },
      ready: () => ({ status: "False", reason: "SecretNotFound", message: missing }),
    };
  }
  const since = secret.metadata.rotatedAt ?? secret.metadata.creationTimestamp;
  const sinceMs = since ? Date.parse(since) : Number.NaN;
  const ageDays = Number.isNaN(sinceMs) ? 0 : Math.floor((now.getTime() - sinceMs) / DAY_MS);
  const source = secret.metadata.rotatedAt ? `its ${ROTATED_AT_ANNOTATION} annotation` : "its creation";
  const rotation: Observed =
    ageDays > credentials.maxAgeDays
      ? {
          status: "True",
          reason: "CredentialTooOld",
          message: `Secret ${shown} is ${ageDays} days old (from ${source}), over maxAgeDays ${credentials.maxAgeDays}: rotate the credential and set ${ROTATED_AT_ANNOTATION} to the date.`,
        }
      : {
          status: "False",
          reason: "CredentialFresh",
          message: `Secret ${shown} is ${ageDays} days old (from ${source}); maxAgeDays is ${credentials.maxAgeDays}.`,
        };
  return {
    rotation,
    ageDays,
    ready(matched, _changed, failures) {
      const [first] = failures;
      if (first) return { status: "False", reason: first.reason, message: failures.map(describeFailure).join("; ") };
      if (matched === 0)
        return {
          status: "True",
          reason: "NoWorkloads",
          message: "No Deployment, StatefulSet or DaemonSet in the namespace matches spec.selector; nothing to mount.",
        };
      return {
        status: "True",
        reason: "Mounted",
        message: `Secret ${shown} is mounted read-only at ${credentialsMountPath(policy)} in ${matched} workload(s).`,
      };
    },
  };
}
