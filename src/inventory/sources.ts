// Where the inventory comes from: manifests (the same reading as `scan`) or a cluster, read in pages.
import type * as k8s from "@kubernetes/client-node";
import { type AiApiPolicy, API_GROUP, KIND, parseAiApiPolicy } from "../api/index.ts";
import { resourceName, workloadKindOf } from "../api/workload-kinds.ts";
import { configMapLookup, flatten } from "../cli/scan/documents.ts";
import { readSources } from "../cli/scan/inputs.ts";
import { parseInputs } from "../cli/scan/parse-inputs.ts";
import type { InputError } from "../cli/scan/report.ts";
import type { Json } from "../engine/objects.ts";
import { aiProviderOf } from "../engine/rules/ai-providers.ts";
import { hostsIn, type InventoryContext, registeredApi } from "../engine/rules/unregistered-ai-api.ts";
import { shownName } from "../engine/shown.ts";
import { describeError } from "../kube/errors.ts";
import {
  CLUSTER_WORKLOAD_TYPES,
  CONFIGMAP_TYPE,
  EXTRA_WORKLOAD_TYPES,
  isTopLevel,
  listPages,
  WORKLOAD_TYPES,
} from "../kube/pages.ts";
import { resources } from "../kube/resources.ts";
import { KubeRest } from "../kube/rest.ts";
import { served } from "../kube/served.ts";
import { type Inventory, InventoryBuilder } from "./inventory.ts";

export interface Sourced {
  inventory: Inventory;
  errors: InputError[];
}

const isPolicy = (object: Json) => object.kind === KIND && String(object.apiVersion).startsWith(`${API_GROUP}/`);

/** The inventory of the manifests under `paths`: policies, workloads and ConfigMaps from any of them. */
export async function inventoryFromFiles(paths: readonly string[], now: Date): Promise<Sourced> {
  const { sources, errors } = await readSources(paths);
  const parsed = await parseInputs(sources);
  errors.push(...parsed.errors);
  const objects = parsed.objects.flatMap(({ file, item }) =>
    flatten([item.object]).map(({ object }) => ({ file, object })),
  );
  const policies: AiApiPolicy[] = [];
  for (const { file, object } of objects.filter((o) => isPolicy(o.object))) {
    const result = parseAiApiPolicy(object);
    if (result.ok) policies.push(result.policy);
    else errors.push({ file, message: `AiApiPolicy ${policyName(object)}: ${result.error}` });
  }
  const builder = new InventoryBuilder(policies, now, configMapLookup(objects.map((o) => o.object)));
  for (const { object } of objects) {
    if (isWorkload(object) && isTopLevel(object)) builder.addWorkload(object);
  }
  return { inventory: builder.result(), errors };
}

export interface ClusterScope {
  /** These namespaces, or every namespace when absent. */
  namespaces?: readonly string[];
  pageSize: number;
  /** Aborts the reading (the audit's, when this replica loses the Lease). */
  signal?: AbortSignal;
}

/** The inventory of a cluster: its AiApiPolicies (with their Ready condition) and its workloads, read in pages. */
export async function inventoryFromCluster(kc: k8s.KubeConfig, scope: ClusterScope, now: Date): Promise<Sourced> {
  const { policies, errors } = await clusterPolicies(kc, scope);
  const hosts = new Set(policies.map((p) => registeredApi(p).endpointHost));
  const builder = new InventoryBuilder(policies, now, await aiConfigMaps(kc, scope, hosts));
  const unlisted = (_kind: string, message: string) => errors.push({ file: "cluster", message });
  for await (const workload of topLevelWorkloads(kc, scope, unlisted)) builder.addWorkload(workload);
  return { inventory: withReadiness(builder.result()), errors };
}

/** From a cluster every policy has a Ready state: Unknown until the controller writes one. */
export function withReadiness(inventory: Inventory): Inventory {
  for (const entry of inventory.apis) entry.ready ??= { status: "Unknown", reason: "NoStatus" };
  return inventory;
}

/** Every AiApiPolicy in scope that parses; the others as errors that name them. */
export async function clusterPolicies(
  kc: k8s.KubeConfig,
  scope: ClusterScope,
): Promise<{ policies: AiApiPolicy[]; errors: InputError[] }> {
  const policies: AiApiPolicy[] = [];
  const errors: InputError[] = [];
  try {
    for await (const page of listPages(kc, resources.policy, scope)) {
      for (const object of page) {
        const result = parseAiApiPolicy(object);
        if (result.ok) policies.push(result.policy);
        else errors.push({ file: "cluster", message: `AiApiPolicy ${policyName(object)}: ${result.error}` });
      }
    }
  } catch (error) {
    scope.signal?.throwIfAborted();
    throw new Error(
      `cannot list AiApiPolicies (is the CRD installed? kubectl apply -f crds/): ${describeError(error)}`,
    );
  }
  return { policies, errors };
}

/**
 * The workloads in scope that no other listed workload controls, kind by kind, a page at a time; then the AI
 * custom resources the API server serves (discovery first: a kind not served answers 403, not 404, to whoever
 * may not list it). One the caller may not list is skipped and passed to `unlisted` (its kind, and why), so
 * that the output can say what it left out; the core kinds are needed, and throw.
 */
export async function* topLevelWorkloads(
  kc: k8s.KubeConfig,
  scope: ClusterScope,
  unlisted: (kind: string, message: string) => void,
): AsyncGenerator<Json> {
  for (const type of WORKLOAD_TYPES) {
    for await (const page of listPages(kc, type, scope)) {
      for (const object of page) if (isTopLevel(object)) yield object;
    }
  }
  const rest = new KubeRest(kc);
  // The cluster-scoped ones belong to no namespace: read when every namespace is.
  for (const type of [...EXTRA_WORKLOAD_TYPES, ...(scope.namespaces ? [] : CLUSTER_WORKLOAD_TYPES)]) {
    try {
      if (!(await served(rest, type, scope.signal))) continue;
      for await (const page of listPages(kc, type, scope)) {
        for (const object of page) if (isTopLevel(object)) yield object;
      }
    } catch (error) {
      scope.signal?.throwIfAborted();
      const name = resourceName({ group: type.group, resource: type.plural });
      unlisted(type.kind, `cannot list ${name} (${describeError(error)}): left out`);
    }
  }
}

/** The ConfigMaps in scope, read in pages, as an AiConfigMaps lookup. */
export async function aiConfigMaps(
  kc: k8s.KubeConfig,
  scope: ClusterScope,
  policyHosts: ReadonlySet<string>,
): Promise<NonNullable<InventoryContext["configMap"]>> {
  const kept = new AiConfigMaps(policyHosts);
  for await (const page of listPages(kc, CONFIGMAP_TYPE, scope)) for (const configMap of page) kept.add(configMap);
  return kept.lookup;
}

/**
 * The keys of ConfigMaps that name an AI API host (a provider's or one of `policyHosts`): what the
 * unregistered-ai-api rule reads, in memory bounded by what matters rather than by every ConfigMap.
 */
export class AiConfigMaps {
  private readonly kept = new Map<string, Record<string, string>>();
  private readonly policyHosts: ReadonlySet<string>;

  constructor(policyHosts: ReadonlySet<string>) {
    this.policyHosts = policyHosts;
  }

  add(configMap: Json): void {
    const data = (configMap.data ?? {}) as Record<string, unknown>;
    const names = (value: string) =>
      hostsIn(value).some((h) => this.policyHosts.has(h) || aiProviderOf(h) !== undefined);
    const keys = Object.entries(data).filter((e): e is [string, string] => typeof e[1] === "string" && names(e[1]));
    if (keys.length === 0) return;
    const metadata = (configMap.metadata ?? {}) as { namespace?: string; name?: string };
    this.kept.set(`${metadata.namespace}/${metadata.name}`, Object.fromEntries(keys));
  }

  readonly lookup: NonNullable<InventoryContext["configMap"]> = (namespace, name) =>
    this.kept.get(`${namespace}/${name}`);
}

/** A kind that runs pods (the workload table's), not a ConfigMap. */
function isWorkload(object: Json): boolean {
  return (workloadKindOf(object)?.podSpecs.length ?? 0) > 0;
}

/** As errors show it: a namespace and a policy can be named with a key (a DeepSeek key is a valid name). */
function policyName(object: Json): string {
  const metadata = (object.metadata ?? {}) as { namespace?: string; name?: string };
  return `${shownName(metadata.namespace ?? "")}/${shownName(metadata.name ?? "(unnamed)")}`;
}
