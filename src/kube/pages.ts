// Listing a kind in pages (limit/continue): memory is bounded by the page, not by the cluster.
import { setTimeout as sleep } from "node:timers/promises";
import type * as k8s from "@kubernetes/client-node";
import { CORE_KINDS, EXTRA_KINDS, type WorkloadKind } from "../api/workload-kinds.ts";
import type { Json } from "../engine/objects.ts";
import { apiVersionOf, collectionPath, type Resource } from "./resources.ts";
import { isStatus, KubeRest, type RawList } from "./rest.ts";

const asResource = (k: WorkloadKind): Resource => ({
  group: k.group,
  version: k.version,
  plural: k.resource,
  kind: k.kind,
});

/** The core kinds that run pods (the workload table's; PodTemplates run nothing), as the audit lists them. */
export const WORKLOAD_TYPES: readonly Resource[] = CORE_KINDS.filter(
  (k) => k.podSpecs.length > 0 && k.kind !== "PodTemplate",
).map(asResource);

/**
 * The AI custom resources the audit and the inventory list besides (a key written into an InferenceService or
 * a WorkflowTemplate before the webhook ran is found where the developer wrote it), each where its CRD is
 * installed.
 */
export const EXTRA_WORKLOAD_TYPES: readonly Resource[] = EXTRA_KINDS.filter((k) => !k.clusterScoped).map(asResource);

/** The cluster-scoped runtimes and templates (ClusterServingRuntime...): read when every namespace is. */
export const CLUSTER_WORKLOAD_TYPES: readonly Resource[] = EXTRA_KINDS.filter((k) => k.clusterScoped).map(asResource);

export const CONFIGMAP_TYPE: Resource = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };

const WORKLOAD_KINDS = new Set(WORKLOAD_TYPES.map((t) => t.kind));
const EXTRA_KIND_NAMES = new Set([...EXTRA_WORKLOAD_TYPES, ...CLUSTER_WORKLOAD_TYPES].map((t) => t.kind));

/**
 * The items of one kind as plain JSON, a page at a time, each with its apiVersion and kind set (list
 * items carry neither): in each of `namespaces`, or in every namespace when absent. `signal` cuts a
 * listing short: the request in flight is aborted and the generator throws its reason.
 */
export async function* listPages(
  kc: k8s.KubeConfig,
  type: Resource,
  options: { namespaces?: readonly string[]; pageSize: number; labelSelector?: string; signal?: AbortSignal },
): AsyncGenerator<Json[]> {
  const rest = new KubeRest(kc);
  const apiVersion = apiVersionOf(type);
  for (const namespace of options.namespaces ?? [undefined]) {
    let token: string | undefined;
    do {
      const query = { limit: options.pageSize, continue: token, labelSelector: options.labelSelector };
      const page = await retryingTooManyRequests(
        () => rest.request<RawList>(collectionPath(type, namespace), { query, signal: options.signal }),
        options.signal,
      );
      yield (page.items ?? []).map((item) => ({ ...(item as Json), apiVersion, kind: type.kind }));
      token = page.metadata?.continue || undefined;
    } while (token);
  }
}

const RETRIES = 5;

/**
 * The API server answers 429 while it sheds load or while a new resource's storage initializes: wait as
 * long as it says (Retry-After, at most 10 s) and ask again, a few times.
 */
async function retryingTooManyRequests<T>(request: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= RETRIES || !isStatus(error, 429)) throw error;
      const seconds = Number((error.headers as Record<string, string> | undefined)?.["retry-after"]) || 1;
      await sleep(Math.min(seconds, 10) * 1000, undefined, { signal });
    }
  }
}

/**
 * False for a workload another listed workload controls (a Deployment's ReplicaSets, their Pods, a
 * CronJob's Jobs): it is reported once, at the top. A core workload owned by anything else (an operator's
 * custom resource) is its own top: it is what runs, and what it runs may come from a runtime no audit lists.
 * A custom resource another one controls (a RayJob's RayCluster, a CronWorkflow's Workflows) is a copy,
 * reported at the one the developer wrote.
 */
export function isTopLevel(object: Json): boolean {
  const metadata = (object.metadata ?? {}) as { ownerReferences?: { kind?: string; controller?: boolean }[] };
  const controllers = EXTRA_KIND_NAMES.has(String(object.kind)) ? EXTRA_KIND_NAMES : WORKLOAD_KINDS;
  return !(metadata.ownerReferences ?? []).some((o) => o.controller && controllers.has(o.kind ?? ""));
}
