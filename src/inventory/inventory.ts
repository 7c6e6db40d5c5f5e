// The AI API inventory, pure: the AiApiPolicies are the registered APIs; workloads are fed one at a
// time (a cluster is read in pages), each adding itself to the policies that select it and to the
// unregistered AI APIs it calls.
import { type AiApiPolicy, reviewState } from "../api/index.ts";
import type { Json } from "../engine/objects.ts";
import {
  type InventoryContext,
  podLabels,
  registeredApi,
  unregisteredAiApis,
} from "../engine/rules/unregistered-ai-api.ts";
import { shownName } from "../engine/shown.ts";
import type { Finding } from "../engine/types.ts";
import { matchesSelector } from "../kube/label-selector.ts";
import { byCodePoint } from "../kube/order.ts";

export interface InventoryEntry {
  namespace: string;
  policy: string;
  apiName: string;
  endpoint: string;
  authType: string;
  sensitivity: string;
  owner: string;
  /** YYYY-MM-DD, or "" when never reviewed. */
  lastReviewed: string;
  /** `ok`, `due in N days`, `overdue by N days`, `never reviewed` or `review date in the future`. */
  reviewStatus: string;
  /** Kind/name of the workloads the policy selects. */
  workloads: string[];
  /** The policy's Ready condition, when read from a cluster. */
  ready?: { status: string; reason?: string };
}

/** An AI API that workloads call and no policy selecting them declares. */
export interface UnregisteredEntry {
  namespace: string;
  host: string;
  /** The provider's name; absent for the endpoint of a policy (elsewhere). */
  provider?: string;
  workloads: string[];
}

export interface Inventory {
  apis: InventoryEntry[];
  unregistered: UnregisteredEntry[];
}

/** Within this many days of the due date the status says `due in N days` rather than `ok`. */
export const DUE_SOON_DAYS = 30;
const DAY_MS = 86_400_000;

export function reviewStatus(policy: AiApiPolicy, now: Date): string {
  const review = reviewState(policy, now);
  if (review.state === "NeverReviewed") return "never reviewed";
  // A typo (2062 for 2026), which the policy's ReviewOverdue condition reports too: not a review to trust.
  if (review.state === "InFuture") return "review date in the future";
  const days = Math.round((Date.parse(review.due) - Date.parse(now.toISOString().slice(0, 10))) / DAY_MS);
  if (days < 0) return `overdue by ${-days} days`;
  return days <= DUE_SOON_DAYS ? `due in ${days} days` : "ok";
}

export class InventoryBuilder {
  readonly context: InventoryContext;
  private readonly entries: { policy: AiApiPolicy; entry: InventoryEntry }[];
  private readonly unregistered = new Map<string, UnregisteredEntry>();

  constructor(policies: readonly AiApiPolicy[], now: Date, configMap?: InventoryContext["configMap"]) {
    this.context = { policies: policies.map(registeredApi), ...(configMap ? { configMap } : {}) };
    this.entries = policies.map((policy) => ({ policy, entry: entryOf(policy, now) }));
  }

  /**
   * A top-level workload (see isTopLevel): joins the policies that select it and the unregistered APIs
   * it calls (its unregistered-ai-api findings, when the caller has them already).
   */
  addWorkload(object: Json, unregistered: readonly Finding[] = unregisteredAiApis(object, this.context)): void {
    const kind = String(object.kind);
    const metadata = (object.metadata ?? {}) as { namespace?: string; name?: string };
    const namespace = metadata.namespace ?? "";
    // A name that holds a key (a DeepSeek key is a valid name) is listed by its hint.
    const name = `${kind}/${shownName(metadata.name ?? "")}`;
    const labels = podLabels(object);
    for (const { policy, entry } of this.entries) {
      if (entry.namespace === namespace && matchesSelector(policy.spec.selector, labels)) entry.workloads.push(name);
    }
    for (const finding of unregistered) {
      const key = `${namespace}\u0000${finding.hint}`;
      let entry = this.unregistered.get(key);
      if (!entry) {
        entry = {
          namespace,
          host: finding.hint,
          ...(finding.provider ? { provider: finding.provider } : {}),
          workloads: [],
        };
        this.unregistered.set(key, entry);
      }
      if (!entry.workloads.includes(name)) entry.workloads.push(name);
    }
  }

  result(): Inventory {
    const byPlace = (a: { namespace: string }, b: { namespace: string }, ka: string, kb: string) =>
      byCodePoint(a.namespace, b.namespace) || byCodePoint(ka, kb);
    const apis = this.entries.map((e) => ({ ...e.entry, workloads: [...e.entry.workloads].sort() }));
    apis.sort((a, b) => byPlace(a, b, a.policy, b.policy));
    const unregistered = [...this.unregistered.values()].map((u) => ({ ...u, workloads: [...u.workloads].sort() }));
    unregistered.sort((a, b) => byPlace(a, b, a.host, b.host));
    return { apis, unregistered };
  }
}

function entryOf(policy: AiApiPolicy, now: Date): InventoryEntry {
  const { api } = policy.spec;
  const ready = policy.status?.conditions?.find((c) => c.type === "Ready");
  return {
    namespace: policy.metadata.namespace ?? "",
    policy: policy.metadata.name,
    apiName: api.displayName ?? policy.metadata.name,
    endpoint: api.endpoint,
    authType: api.authType,
    sensitivity: api.sensitivity,
    owner: api.owner ?? "",
    lastReviewed: api.lastReviewed ?? "",
    reviewStatus: reviewStatus(policy, now),
    workloads: [],
    ...(ready ? { ready: { status: ready.status, reason: ready.reason } } : {}),
  };
}
