// unregistered-ai-api: a workload that names an AI API's host (a known provider's, or an AiApiPolicy
// endpoint's) in its env values, command, args or a ConfigMap it reads, while no policy with that
// endpoint selects it. Unlike the value rules it needs the policies and the ConfigMaps around the
// workload, so the adapters call it next to evaluate() with what they know; it stays pure.

import { type AiApiPolicy, endpointHost } from "../../api/index.ts";
import { type PathPattern, type WorkloadKind, workloadKindOf } from "../../api/workload-kinds.ts";
import { type LabelSelector, type Labels, matchesSelector } from "../../kube/label-selector.ts";
import { type Candidate, candidatePath, extractCandidates } from "../extract.ts";
import { describeField, located } from "../location.ts";
import { isRecord, type Json, optionalRecord } from "../objects.ts";
import { shownName, shownPath, shownResource } from "../shown.ts";
import { EXEMPT_ANNOTATION, type Finding, type PathSegment } from "../types.ts";
import { aiProviderOf } from "./ai-providers.ts";
import { RULES } from "./catalog.ts";

/** An AiApiPolicy as this rule needs it. */
export interface RegisteredApi {
  namespace: string;
  name: string;
  /** Host of spec.api.endpoint, lower case. */
  endpointHost: string;
  selector: LabelSelector;
}

/** The policy as this rule reads it; the webhook's policy view extends it. */
export function registeredApi(policy: AiApiPolicy): RegisteredApi {
  return {
    namespace: policy.metadata.namespace ?? "",
    name: policy.metadata.name,
    endpointHost: endpointHost(policy),
    selector: policy.spec.selector,
  };
}

export interface InventoryContext {
  policies: readonly RegisteredApi[];
  /** The data of a ConfigMap in the workload's namespace, when the adapter has it. */
  configMap?: (namespace: string, name: string) => Readonly<Record<string, unknown>> | undefined;
}

/** An AI API host a workload names, and where. */
export interface AiApiUse {
  host: string;
  /** The provider's name, or undefined for a host known only as a policy's endpoint. */
  provider?: string;
  container?: string;
  /** The volume the value is a field of (a gitRepo URL, a CSI attribute). */
  volume?: string;
  pathSegments: PathSegment[];
  /** The field, without its owner: e.g. `env OPENAI_BASE_URL`, `ConfigMap "llm" key "url" (envFrom)`. */
  where: string;
}

// A DNS name with at least one dot; what URLs, bare hosts and host:port values contain.
const HOST = /(?<![a-z0-9.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}(?![a-z0-9-])/g;
/** Values longer than this are not read for hosts (a bundled file, not a setting). */
const MAX_VALUE = 64 * 1024;

/** Every AI API host the workload names, once per host and container, with the first place it appears. */
export function aiApiUses(
  object: Json,
  kind: WorkloadKind,
  context: InventoryContext,
  prefix: PathSegment[] = [],
  extracted?: readonly Candidate[],
): AiApiUse[] {
  if (kind.podSpecs.length === 0 && kind.containers.length === 0) return [];
  const policyHosts = new Set(context.policies.map((p) => p.endpointHost));
  const uses = new Map<string, AiApiUse>();
  // Where a value sits is worked out only for a value that names an AI API: most name none.
  const add = (value: string, container: string | undefined, where: () => Omit<AiApiUse, "host" | "provider">) => {
    for (const host of hostsIn(value)) {
      const provider = aiProviderOf(host);
      if (provider === undefined && !policyHosts.has(host)) continue;
      const key = `${host}\u0000${container ?? ""}`;
      if (!uses.has(key)) uses.set(key, { host, ...(provider === undefined ? {} : { provider }), ...where() });
    }
  };
  const candidates: Candidate[] = [];
  let specs: { spec: Json; path: PathSegment[] }[] = [];
  try {
    if (!extracted) extractCandidates(object, kind.kind, prefix, candidates, namesHost);
    if (context.configMap) specs = podSpecsOf(object, kind, prefix);
  } catch {
    // A malformed workload is evaluate()'s to report as unreadable; what was read before it still counts.
  }
  for (const c of extracted ?? candidates) {
    add(c.value, c.container, () => ({
      ...(c.container === undefined ? {} : { container: c.container }),
      ...(c.volume === undefined ? {} : { volume: c.volume }),
      pathSegments: candidatePath(c),
      where: describeField(c),
    }));
  }
  const namespace = namespaceOf(object);
  if (context.configMap) {
    for (const ref of specs.flatMap(({ spec, path }) => configMapRefs(spec, path))) {
      const data = context.configMap(namespace, ref.name);
      if (!data) continue;
      for (const [key, value] of Object.entries(data)) {
        if (ref.key !== undefined && key !== ref.key) continue;
        if (typeof value !== "string" || value.length > MAX_VALUE) continue;
        add(value, ref.container, () => ({
          ...(ref.container === undefined ? {} : { container: ref.container }),
          pathSegments: ref.path,
          where: `ConfigMap "${shownName(ref.name)}" key "${shownName(key)}" (${ref.how})`,
        }));
      }
    }
  }
  return [...uses.values()];
}

/**
 * The names of the ConfigMaps a workload reads (envFrom, configMapKeyRef, configMap and projected volumes),
 * each once: what an adapter fetches so that this rule can follow them. [] for anything that is no workload.
 */
export function referencedConfigMaps(object: unknown): string[] {
  if (!isRecord(object)) return [];
  const kind = workloadKindOf(object);
  if (!kind) return [];
  try {
    const refs = podSpecsOf(object, kind, []).flatMap(({ spec, path }) => configMapRefs(spec, path));
    return [...new Set(refs.map((ref) => ref.name))];
  } catch {
    // A malformed workload is evaluate()'s to report as unreadable.
    return [];
  }
}

/** Whether a value can name a host: the extraction filter of this rule. */
export function namesHost(value: string): boolean {
  return value.includes(".");
}

/**
 * The findings: uses of a host that no policy with that endpoint host selects. `extracted`: the object's
 * candidates when the caller has them already (evaluate() does), at least every value `namesHost` keeps.
 */
export function unregisteredAiApis(
  object: unknown,
  context: InventoryContext,
  prefix: PathSegment[] = [],
  extracted?: readonly Candidate[],
): Finding[] {
  if (!isRecord(object)) return [];
  const kind = workloadKindOf(object);
  if (!kind) return [];
  const uses = aiApiUses(object, kind, context, prefix, extracted);
  if (uses.length === 0) return [];
  const namespace = namespaceOf(object);
  const labels = podLabels(object);
  const registered = new Set(
    context.policies
      .filter((p) => p.namespace === namespace && matchesSelector(p.selector, labels))
      .map((p) => p.endpointHost),
  );
  const exempt = exemptsThisRule(object, kind);
  // A name can be a key (a DeepSeek key is a valid name): the finding shows its hint, as every finding does.
  const name = shownName(
    isRecord(object.metadata) && typeof object.metadata.name === "string" ? object.metadata.name : "",
  );
  const rule = RULES["unregistered-ai-api"];
  return uses
    .filter((use) => !registered.has(use.host))
    .map((use) => {
      const what = use.provider ? `${use.provider} (${use.host})` : `${use.host}, an AiApiPolicy endpoint,`;
      const container = use.container === undefined ? undefined : shownName(use.container);
      const volume = use.volume === undefined ? undefined : shownName(use.volume);
      return {
        rule: rule.id,
        category: rule.category,
        severity: rule.defaultSeverity,
        resource: shownResource(kind.kind, namespace, name),
        kind: kind.kind,
        namespace,
        name,
        ...(container === undefined ? {} : { container }),
        ...(volume === undefined ? {} : { volume }),
        path: shownPath(use.pathSegments),
        pathSegments: use.pathSegments,
        ...(use.provider === undefined ? {} : { provider: use.provider }),
        hint: use.host,
        message: `${located({ container, volume }, use.where)}: calls ${what} which no AiApiPolicy selecting this workload declares`,
        fix: rule.fix,
        exempt,
      };
    });
}

/** Every host name in a value, lower case. */
export function hostsIn(value: string): string[] {
  if (!value.includes(".") || value.length > MAX_VALUE) return [];
  return value.toLowerCase().match(HOST) ?? [];
}

function namespaceOf(object: Json): string {
  return isRecord(object.metadata) && typeof object.metadata.namespace === "string" ? object.metadata.namespace : "";
}

/** The labels its pods carry (where the workload table says: a template's, or a Pod's own); {} when none. */
export function podLabels(object: Json): Labels {
  const labels = pathOf(object, workloadKindOf(object)?.labels ?? []);
  return isRecord(labels) ? (labels as Labels) : {};
}

function exemptsThisRule(object: Json, kind: WorkloadKind): boolean {
  const template = kind.podTemplate ? pathOf(object, kind.podTemplate) : undefined;
  return [object, template].some((o) => {
    const value = pathOf(o, ["metadata", "annotations", EXEMPT_ANNOTATION]);
    return typeof value === "string" && value.split(",").some((id) => id.trim() === "unregistered-ai-api");
  });
}

function pathOf(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  return node;
}

interface ConfigMapRef {
  name: string;
  key?: string;
  container?: string;
  path: PathSegment[];
  how: string;
}

/** The ConfigMaps a pod spec reads: envFrom, env valueFrom.configMapKeyRef, configMap and projected volumes. */
function configMapRefs(spec: Json, specPath: PathSegment[]): ConfigMapRef[] {
  const refs: ConfigMapRef[] = [];
  const list = (value: unknown) => (Array.isArray(value) ? value : []);
  const str = (value: unknown) => (typeof value === "string" ? value : undefined);
  for (const field of ["containers", "initContainers", "ephemeralContainers"]) {
    list(spec[field]).forEach((container, ci) => {
      if (!isRecord(container)) return;
      const cname = str(container.name);
      const base = [...specPath, field, ci];
      list(container.envFrom).forEach((source, i) => {
        const name = isRecord(source) && isRecord(source.configMapRef) ? str(source.configMapRef.name) : undefined;
        if (name) refs.push({ name, container: cname, path: [...base, "envFrom", i, "configMapRef"], how: "envFrom" });
      });
      list(container.env).forEach((item, i) => {
        const ref = pathOf(item, ["valueFrom", "configMapKeyRef"]);
        const name = isRecord(ref) ? str(ref.name) : undefined;
        if (name && isRecord(ref))
          refs.push({
            name,
            key: str(ref.key),
            container: cname,
            path: [...base, "env", i, "valueFrom", "configMapKeyRef"],
            how: `env ${str(isRecord(item) ? item.name : undefined) ?? "(unnamed)"}`,
          });
      });
    });
  }
  list(spec.volumes).forEach((volume, i) => {
    if (!isRecord(volume)) return;
    const name = isRecord(volume.configMap) ? str(volume.configMap.name) : undefined;
    if (name) refs.push({ name, path: [...specPath, "volumes", i, "configMap"], how: "volume" });
    list(pathOf(volume, ["projected", "sources"])).forEach((source, j) => {
      const projected = isRecord(source) && isRecord(source.configMap) ? str(source.configMap.name) : undefined;
      if (projected)
        refs.push({
          name: projected,
          path: [...specPath, "volumes", i, "projected", "sources", j, "configMap"],
          how: "projected volume",
        });
    });
  });
  return refs;
}

/** Every pod spec of the object where the workload table says, with its path: where ConfigMaps are referenced. */
function podSpecsOf(object: Json, kind: WorkloadKind, prefix: PathSegment[]): { spec: Json; path: PathSegment[] }[] {
  const specs: { spec: Json; path: PathSegment[] }[] = [];
  const walk = (value: unknown, path: PathSegment[], pattern: PathPattern): void => {
    const [key, ...rest] = pattern;
    if (key === undefined) {
      const spec = optionalRecord(value, path);
      if (spec) specs.push({ spec, path });
    } else if (key === "*") {
      const children = Array.isArray(value) ? [...value.entries()] : Object.entries(optionalRecord(value, path) ?? {});
      for (const [k, child] of children) walk(child, [...path, k], rest);
    } else walk(optionalRecord(value, path)?.[key], [...path, key], rest);
  };
  for (const pattern of kind.podSpecs) walk(object, prefix, pattern);
  return specs;
}
