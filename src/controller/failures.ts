// What a failed write means for the user: a condition reason and a message that says what to do.
// Admission refusals carry the webhook's message, which is already redacted.
import * as k8s from "@kubernetes/client-node";
import { describeError } from "../kube/errors.ts";

export interface Refusal {
  reason: string;
  message: string;
}

export function refusal(error: unknown): Refusal {
  if (error instanceof k8s.ApiException) {
    const message = statusMessage(error.body) ?? describeError(error);
    if (message.includes("admission webhook")) return { reason: "AdmissionRefused", message };
    if (error.code === 409)
      return {
        reason: "Conflict",
        message: `${message} (another field manager owns these fields: remove them from your manifest or change the policy)`,
      };
    if (error.code === 403)
      return { reason: "Forbidden", message: `${message} (grant ai-api-guard's service account this permission)` };
    if (error.code === 422) return { reason: "Invalid", message };
  }
  return { reason: "WriteFailed", message: describeError(error) };
}

function statusMessage(body: unknown): string | undefined {
  return body && typeof body === "object" && "message" in body ? String(body.message) : undefined;
}
