// What a failed write means for the user: a condition reason and a message that says what to do.
// The message goes into the policy's status and an Event, so it is redacted here: ai-api-guard's own
// webhook redacts its refusals, but another admission webhook may quote the object it refused.
import { redactedHint } from "../engine/redact.ts";
import { SECRET_FORMATS } from "../engine/rules/secret-formats.ts";
import { OWNED_PREFIX } from "../kube/cached.ts";
import { describeError, isApiError } from "../kube/errors.ts";

/** Longest message kept of a refusal: a summary, not the webhook's whole answer. */
export const MAX_REFUSAL_LENGTH = 300;

/** The API server's answer to taking off a volume that a mount still names: `volumeMounts[0].name: Not found: "aiapiguard-x"`. */
const VOLUME_STILL_MOUNTED = new RegExp(`volumeMounts\\[\\d+\\]\\.name: Not found: "${OWNED_PREFIX}`);

export interface Refusal {
  reason: string;
  message: string;
}

export function refusal(error: unknown): Refusal {
  if (isApiError(error)) {
    const message = redacted(statusMessage(error.body) ?? describeError(error));
    // A webhook's refusal, or a ValidatingAdmissionPolicy's (HTTP 422 or 403): admission, not a bad intent.
    if (/admission webhook|ValidatingAdmissionPolicy/.test(message)) return { reason: "AdmissionRefused", message };
    if (error.code === 409)
      return {
        reason: "Conflict",
        message: `${message} (ai-api-guard does not overwrite what another field manager set: undo that change to its ${OWNED_PREFIX} volume or mount, or, if the mount at that path is your own, set a different spec.credentials.mountPath)`,
      };
    // Every namespaced create while the namespace is being deleted: the namespace goes, the policy with it.
    if (error.code === 403 && /because it is being terminated/.test(message))
      return { reason: "NamespaceTerminating", message: `${message} (the namespace is being deleted: nothing to do)` };
    if (error.code === 403)
      return { reason: "Forbidden", message: `${message} (grant ai-api-guard's service account this permission)` };
    if (error.code === 422 && VOLUME_STILL_MOUNTED.test(message))
      return {
        reason: "VolumeInUse",
        message: `${message} (a mount ai-api-guard did not add uses its volume: remove that mount from the workload, and ai-api-guard removes the volume)`,
      };
    if (error.code === 422) return { reason: "Invalid", message };
  }
  return { reason: "WriteFailed", message: redacted(describeError(error)) };
}

function statusMessage(body: unknown): string | undefined {
  return body && typeof body === "object" && "message" in body ? String(body.message) : undefined;
}

/** Every value in a known credential format replaced by its hint; cut to MAX_REFUSAL_LENGTH. */
export function redacted(message: string): string {
  let out = message;
  for (const format of SECRET_FORMATS) {
    out = out.replace(format.pattern, (match, ...rest) => {
      const groups = rest.at(-1) as Record<string, string> | undefined;
      const secret = groups?.secret ?? match;
      return match.replace(
        secret,
        format.showTail === false ? `${format.provider} (redacted)` : redactedHint(format.provider, secret),
      );
    });
  }
  return out.length > MAX_REFUSAL_LENGTH ? `${out.slice(0, MAX_REFUSAL_LENGTH - 1)}…` : out;
}
