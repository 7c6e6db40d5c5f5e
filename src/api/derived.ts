// What a policy means beyond its fields: values other parts derive from the spec in one agreed way.
import { shownName } from "../engine/shown.ts";
import type { AiApiPolicy } from "./policy.ts";

/** The host of spec.api.endpoint, lower case, e.g. api.openai.com. */
export function endpointHost(policy: AiApiPolicy): string {
  return new URL(policy.spec.api.endpoint).hostname;
}

/**
 * What the objects a policy owns are named and labelled after, and its default mount path: its name, or its uid
 * when the name holds a key (a DeepSeek key is a valid name), which would otherwise be written into all of them.
 */
export function ownerToken(policy: AiApiPolicy): string {
  const { name, uid } = policy.metadata;
  return shownName(name) === name ? name : (uid ?? "");
}

/** spec.credentials.mountPath, or its default /var/run/secrets/ai-api/<policy name> (see ownerToken). */
export function credentialsMountPath(policy: AiApiPolicy): string {
  return policy.spec.credentials?.mountPath ?? `/var/run/secrets/ai-api/${ownerToken(policy)}`;
}

export type ReviewState =
  | { state: "Current" | "Overdue"; due: string }
  | { state: "NeverReviewed" }
  /** The CRD schema cannot refuse a future date (CEL in CRDs has no clock): the webhook refuses it. */
  | { state: "InFuture" };

const LATEST_UTC_OFFSET_MS = 14 * 3_600_000;

/** Where the policy stands on its security review at `now`; anything but Current means ReviewOverdue=True. */
export function reviewState(policy: AiApiPolicy, now: Date): ReviewState {
  const { lastReviewed, reviewIntervalDays } = policy.spec.api;
  if (lastReviewed === undefined) return { state: "NeverReviewed" };
  const reviewed = Date.parse(`${lastReviewed}T00:00:00Z`);
  // A date is in the future only once it is after today everywhere: a reviewer at UTC+14 writes their own date.
  if (reviewed > now.getTime() + LATEST_UTC_OFFSET_MS) return { state: "InFuture" };
  const due = new Date(reviewed + reviewIntervalDays * 86_400_000).toISOString().slice(0, 10);
  return { state: due < now.toISOString().slice(0, 10) ? "Overdue" : "Current", due };
}
