// The policy's status, built from what one reconcile observed: conditions with reasons a user can
// act on, Ready summing up the three *Ready ones, and lastTransitionTime kept while a status holds.
import { type AiApiPolicy, type AiApiPolicyStatus, type Condition, MAX_WORKLOAD_NAMES } from "../api/index.ts";
import { canonical } from "../kube/order.ts";

export type ConditionType =
  | "EgressReady"
  | "CredentialsReady"
  | "RateLimitReady"
  | "ReviewOverdue"
  | "CredentialRotationOverdue";

export interface Observed {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export type Observations = Record<ConditionType, Observed>;

export const READY_PARTS = ["EgressReady", "CredentialsReady", "RateLimitReady"] as const;

export function readySummary(observations: Observations): Observed {
  const failing = READY_PARTS.filter((type) => observations[type].status !== "True");
  if (failing.length === 0)
    return { status: "True", reason: "Reconciled", message: "Every part of the policy is in place." };
  const first = observations[failing[0] as ConditionType];
  return {
    status: "False",
    reason: first.reason,
    message: failing.map((type) => `${type}: ${observations[type].message}`).join(" "),
  };
}

export function buildStatus(
  policy: AiApiPolicy,
  observations: Observations,
  workloads: readonly string[],
  networkPolicy: string | undefined,
  now: Date,
): AiApiPolicyStatus {
  const previous = new Map((policy.status?.conditions ?? []).map((c) => [c.type, c]));
  const generation = policy.metadata.generation;
  const condition = (type: string, observed: Observed): Condition => {
    const before = previous.get(type);
    return {
      type,
      status: observed.status,
      ...(generation !== undefined && { observedGeneration: generation }),
      lastTransitionTime:
        before?.status === observed.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, "Z"),
      reason: observed.reason,
      message: observed.message,
    };
  };
  const sorted = [...workloads].sort();
  return {
    ...(generation !== undefined && { observedGeneration: generation }),
    conditions: [
      condition("Ready", readySummary(observations)),
      ...(Object.keys(observations) as ConditionType[]).map((type) => condition(type, observations[type])),
    ],
    workloads: { count: sorted.length, names: sorted.slice(0, MAX_WORKLOAD_NAMES) },
    ...(networkPolicy && { networkPolicy }),
  };
}

export function sameStatus(a: AiApiPolicyStatus | undefined, b: AiApiPolicyStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

/** The condition types that turned True in this status (for Events). */
export function turnedTrue(previous: AiApiPolicyStatus | undefined, next: AiApiPolicyStatus, type: string): boolean {
  const before = previous?.conditions?.find((c) => c.type === type)?.status;
  const after = next.conditions?.find((c) => c.type === type)?.status;
  return after === "True" && before !== "True";
}

/** The condition when it is not True in `next` and was not, for the same reason, in `previous`. */
export function turnedFailing(
  previous: AiApiPolicyStatus | undefined,
  next: AiApiPolicyStatus,
  type: string,
): Condition | undefined {
  const before = previous?.conditions?.find((c) => c.type === type);
  const after = next.conditions?.find((c) => c.type === type);
  if (!after || after.status === "True") return undefined;
  return before?.status === after.status && before.reason === after.reason ? undefined : after;
}
