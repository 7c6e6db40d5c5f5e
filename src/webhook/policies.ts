// Which AiApiPolicy governs an object: the policies of its namespace whose selector matches its pod
// template's labels; the strictest of their actions wins.
import { workloadKind } from "../api/workload-kinds.ts";
import type { RegisteredApi } from "../engine/rules/unregistered-ai-api.ts";
import { type Labels, matchesSelector } from "../kube/label-selector.ts";
import { isRecord, pathValue } from "../kube/objects.ts";
import type { Action } from "./config.ts";

/** An AiApiPolicy as the webhook needs it; the caller maps the custom resource onto this. */
/** A policy as the webhook reads it: what the inventory rule reads, plus its actions. A plaintext URL to its
 * endpoint host is always a finding. */
export interface PolicyView extends RegisteredApi {
  action: Action;
  /** Its own action for `unregistered-ai-api` findings, when it sets one. */
  unregisteredAction?: Action;
}

/** The action that applies to an object and the policy it comes from (none: the default action). */
export interface Governance {
  action: Action;
  policy?: PolicyView;
  /** The policy's own action, when the floor raised it. */
  raisedFrom?: Action;
  /** Where the action comes from, when it is neither a policy nor the default action (a setting). */
  setting?: string;
}

/** The namespace label through which a cluster admin lets policies there act below the cluster's floor. */
export const FLOOR_LABEL = "aiapiguard.dev/action-floor";

const STRICTNESS: Record<Action, number> = { Deny: 3, Warn: 2, Audit: 1 };

export function isLooser(action: Action, than: Action): boolean {
  return STRICTNESS[action] < STRICTNESS[than];
}

/**
 * A policy may not act below the floor: whoever may write an AiApiPolicy (or relabel a pod template to
 * fall under a lax one) must not be able to switch Deny off. The default action is the admin's own.
 */
export function withFloor(governance: Governance, floor: Action): Governance {
  if (!governance.policy || !isLooser(governance.action, floor)) return governance;
  return { ...governance, action: floor, raisedFrom: governance.action };
}

export function governingPolicy(
  policies: readonly PolicyView[],
  namespace: string,
  labels: Labels,
  defaultAction: Action,
): Governance {
  let strictest: PolicyView | undefined;
  for (const policy of policies) {
    if (policy.namespace !== namespace || !matchesSelector(policy.selector, labels)) continue;
    if (!strictest || outranks(policy, strictest)) strictest = policy;
  }
  return strictest ? { action: strictest.action, policy: strictest } : { action: defaultAction };
}

/**
 * The action for an object's `unregistered-ai-api` findings: the strictest `unregisteredAction` among the
 * policies that select it, else the operator's setting. No floor: the product must not block deploys for
 * this unless someone asked it to.
 */
export function unregisteredGovernance(
  policies: readonly PolicyView[],
  namespace: string,
  labels: Labels,
  setting: Action,
): Governance {
  const choosing = policies.flatMap(({ unregisteredAction, ...policy }) =>
    unregisteredAction ? [{ ...policy, action: unregisteredAction }] : [],
  );
  const governance = governingPolicy(choosing, namespace, labels, setting);
  return governance.policy ? governance : { action: setting, setting: "--unregistered-action" };
}

/** Stricter action first; between equals the first name, so the message does not depend on cache order. */
function outranks(a: PolicyView, b: PolicyView): boolean {
  const difference = STRICTNESS[a.action] - STRICTNESS[b.action];
  return difference > 0 || (difference === 0 && a.name < b.name);
}

const hostsOf = new WeakMap<readonly PolicyView[], readonly string[]>();

/** Every policy's endpoint host, once; computed once per policy list (the cache hands out the same array until it changes). */
export function endpointHosts(policies: readonly PolicyView[]): readonly string[] {
  let hosts = hostsOf.get(policies);
  if (!hosts) {
    hosts = [...new Set(policies.map((policy) => policy.endpointHost).filter((host) => host !== ""))];
    hostsOf.set(policies, hosts);
  }
  return hosts;
}

/**
 * The pod-template labels of an object of a reviewed kind (where the workload table says; Pods and
 * ConfigMaps stand in with their own); {} when absent or malformed (the engine reports that).
 * Validating webhooks see objects after schema validation, so label values are strings.
 */
export function podTemplateLabels(kind: { group: string; kind: string }, object: unknown): Labels {
  const path = workloadKind(kind.group, kind.kind)?.labels;
  const labels = path ? pathValue(object, path) : undefined;
  return isRecord(labels) ? (labels as Labels) : {};
}
