// Quarantine: with spec.response.quarantine on a policy that selects a workload with an exposed
// credential, a deny-all-egress NetworkPolicy for the workload's pods stands until the finding is gone.
// Level-triggered: every audit run computes the quarantines that should exist and makes the cluster
// match (server-side apply, field manager ai-api-guard), with an Event each way.
import { createHash } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { shownName } from "../engine/shown.ts";
import { describeError } from "../kube/errors.ts";
import type { RecordEvent } from "../kube/events.ts";
import type { Labels } from "../kube/label-selector.ts";
import { listPages } from "../kube/pages.ts";
import { apiVersionOf, objectPath, resources } from "../kube/resources.ts";
import { isStatus, KubeRest } from "../kube/rest.ts";

export interface QuarantineTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  /** The labels of its pods: the NetworkPolicy's podSelector. */
  labels: Labels;
}

const NETWORK_POLICY = resources.networkPolicy;
const QUARANTINE_LABEL = "aiapiguard.dev/quarantine";

type Identity = Pick<QuarantineTarget, "kind" | "name" | "uid">;

/**
 * Kind/name as the quarantine's annotation, keys and log lines show it. A name that holds a key (a
 * DeepSeek key is a valid name) is shown by its hint, and told apart from another with the same hint by uid.
 */
function shownTarget(t: Identity): string {
  const shown = shownName(t.name);
  return shown === t.name ? `${t.kind}/${t.name}` : `${t.kind}/${shown} uid ${t.uid ?? ""}`;
}

const holdsKey = (t: Identity) => shownName(t.name) !== t.name;
const labelsHoldKey = (labels: Labels) =>
  Object.entries(labels).some(([key, value]) => shownName(key) !== key || shownName(value) !== value);

export function quarantineKey(t: Identity & Pick<QuarantineTarget, "namespace">): string {
  return `${t.namespace}/${shownTarget(t)}`;
}

/**
 * aiapiguard-quarantine-<kind>-<name> (the uid for a name that holds a key), shortened with a hash when
 * that is not a valid name.
 */
export function quarantineName(t: Identity): string {
  const name = `aiapiguard-quarantine-${t.kind.toLowerCase()}-${holdsKey(t) ? t.uid : t.name}`;
  if (name.length <= 253) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 10);
  return `${name.slice(0, 242)}-${hash}`;
}

/** Deny all egress for the workload's pods: policyTypes Egress and no egress rule. */
export function quarantinePolicy(t: QuarantineTarget) {
  return {
    apiVersion: apiVersionOf(NETWORK_POLICY),
    kind: NETWORK_POLICY.kind,
    metadata: {
      name: quarantineName(t),
      namespace: t.namespace,
      labels: { "app.kubernetes.io/managed-by": "ai-api-guard", [QUARANTINE_LABEL]: "true" },
      annotations: { "aiapiguard.dev/quarantined": shownTarget(t) },
      // An owner reference must name its owner: a quarantine of a name that holds a key has none, and is
      // lifted by the next audit after the workload is gone.
      ...(t.uid && !holdsKey(t)
        ? { ownerReferences: [{ apiVersion: t.apiVersion, kind: t.kind, name: t.name, uid: t.uid }] }
        : {}),
    },
    spec: { podSelector: { matchLabels: { ...t.labels } }, policyTypes: ["Egress"], egress: [] },
  };
}

/** Whether a quarantine as the API server holds it selects exactly the desired pods and allows them no egress. */
function denies(current: unknown, desired: ReturnType<typeof quarantinePolicy>["spec"]): boolean {
  const spec = (current ?? {}) as {
    podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    policyTypes?: string[];
    egress?: unknown[];
  };
  const labels = (l: Record<string, string> | undefined) => JSON.stringify(Object.entries(l ?? {}).sort());
  return (
    labels(spec.podSelector?.matchLabels) === labels(desired.podSelector.matchLabels) &&
    (spec.podSelector?.matchExpressions ?? []).length === 0 &&
    (spec.policyTypes ?? []).includes("Egress") &&
    (spec.egress ?? []).length === 0
  );
}

export async function reconcileQuarantines(
  kc: k8s.KubeConfig,
  targets: ReadonlyMap<string, QuarantineTarget>,
  scope: { namespaces?: readonly string[]; pageSize: number; signal?: AbortSignal },
  logger: Logger,
  recordEvent?: RecordEvent,
): Promise<{ added: string[]; lifted: string[] }> {
  const rest = new KubeRest(kc);
  const { signal } = scope;
  type Owner = { apiVersion: string; kind: string; name: string; uid?: string };
  const existing = new Map<string, { namespace: string; name: string; owner?: Owner; spec?: unknown }>();
  for await (const page of listPages(kc, NETWORK_POLICY, { ...scope, labelSelector: `${QUARANTINE_LABEL}=true` })) {
    for (const policy of page) {
      const metadata = policy.metadata as {
        namespace: string;
        name: string;
        annotations?: Record<string, string>;
        ownerReferences?: Owner[];
      };
      const quarantined = metadata.annotations?.["aiapiguard.dev/quarantined"] ?? "";
      const owner = metadata.ownerReferences?.[0];
      existing.set(`${metadata.namespace}/${quarantined}`, {
        namespace: metadata.namespace,
        name: metadata.name,
        owner,
        spec: policy.spec,
      });
    }
  }
  const added: string[] = [];
  for (const [key, target] of targets) {
    const standing = existing.get(key);
    // Level-triggered: a standing quarantine is applied again when it no longer selects the pods as it
    // should (their labels changed in a rollout, or someone edited it), without a second Event.
    if (standing && denies(standing.spec, quarantinePolicy(target).spec)) continue;
    if (Object.keys(target.labels).length === 0) {
      // An empty podSelector would cut off every pod of the namespace.
      logger.warn(
        { namespace: target.namespace, workload: shownTarget(target) },
        "cannot quarantine a workload whose pods have no labels",
      );
      continue;
    }
    if (labelsHoldKey(target.labels)) {
      // A key-named Deployment's pods are often labelled app=<its name>: the podSelector would copy the key.
      logger.warn(
        { namespace: target.namespace, workload: shownTarget(target) },
        "cannot quarantine a workload whose pods' labels hold a key, which the NetworkPolicy would copy: take it out of the labels, then rotate it",
      );
      continue;
    }
    try {
      // force: the quarantine NetworkPolicy is ai-api-guard's whole.
      await rest.apply(objectPath(NETWORK_POLICY, target.namespace, quarantineName(target)), quarantinePolicy(target), {
        force: true,
        signal,
      });
    } catch (error) {
      // Cut off by the signal (the Lease lost): no other quarantine is applied or lifted.
      signal?.throwIfAborted();
      logger.warn(
        { namespace: target.namespace, workload: shownTarget(target), error: describeError(error) },
        "cannot quarantine",
      );
      continue;
    }
    if (standing) {
      logger.info({ namespace: target.namespace, name: standing.name }, "quarantine applied again to the pods' labels");
      continue;
    }
    added.push(key);
    recordEvent?.({
      type: "Warning",
      reason: "Quarantined",
      object: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        namespace: target.namespace,
        name: target.name,
        ...(target.uid ? { uid: target.uid } : {}),
      },
      message: `All egress of its pods is denied by NetworkPolicy ${quarantineName(target)} while a credential is exposed in it: rotate the credential and move it into a Secret; the quarantine lifts at the next audit after the fix`,
    });
  }
  const lifted: string[] = [];
  for (const [key, policy] of existing) {
    if (targets.has(key)) continue;
    try {
      await rest.request(objectPath(NETWORK_POLICY, policy.namespace, policy.name), { method: "DELETE", signal });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    lifted.push(key);
    if (policy.owner)
      recordEvent?.({
        type: "Normal",
        reason: "QuarantineLifted",
        object: { ...policy.owner, namespace: policy.namespace },
        message: `No exposed credential left: NetworkPolicy ${policy.name} removed, egress restored`,
      });
  }
  return { added, lifted };
}
