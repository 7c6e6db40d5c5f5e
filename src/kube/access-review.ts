// A SubjectAccessReview: whether the API server's authorizers (RBAC, ...) allow a user an action.
import type { KubeRest } from "./rest.ts";

export interface AccessReviewSpec {
  user: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  resourceAttributes: { verb: string; group: string; resource: string; namespace?: string };
}

/** Rejects when the API server does not answer within `timeoutMs`: the caller decides what that means. */
export async function accessAllowed(rest: KubeRest, spec: AccessReviewSpec, timeoutMs: number): Promise<boolean> {
  const review = await rest.request<{ status?: { allowed?: boolean } }>(
    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    {
      method: "POST",
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  return review.status?.allowed === true;
}
