// What ai-api-guard should own, as server-side apply intents: pure functions from policies (and the
// cached objects they apply to) to the objects to apply. An intent names only ai-api-guard's fields;
// applying one without a field removes that field if ai-api-guard alone owned it.
import {
  type AiApiPolicy,
  API_GROUP,
  API_VERSION,
  credentialsMountPath,
  endpointHost,
  KIND,
  ownerToken,
} from "../api/index.ts";
import type { WorkloadKind } from "../api/workload-kinds.ts";
import type { CachedIngress, CachedWorkload } from "../kube/cached.ts";
import { MANAGED_BY, OWNED_PREFIX } from "../kube/cached.ts";
import { matchesSelector } from "../kube/label-selector.ts";
import { byCodePoint } from "../kube/order.ts";
import { apiVersionOf, resourceOf } from "../kube/resources.ts";

/** Read-only for the owner: 0400. */
export const SECRET_MODE = 0o400;
export const POLICY_LABEL = "aiapiguard.dev/policy";
export const NGINX = "nginx.ingress.kubernetes.io/";
export const TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";

export function ownedName(policy: AiApiPolicy, suffix = ""): string {
  return `${OWNED_PREFIX}${ownerToken(policy)}${suffix}`;
}

const byName = (a: AiApiPolicy, b: AiApiPolicy) => byCodePoint(a.metadata.name, b.metadata.name);

function ownerReference(policy: AiApiPolicy) {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: KIND,
    name: policy.metadata.name,
    uid: policy.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function ownedMetadata(policy: AiApiPolicy, name: string) {
  return {
    name,
    namespace: policy.metadata.namespace as string,
    labels: { ...MANAGED_BY, [POLICY_LABEL]: ownerToken(policy) },
    ownerReferences: [ownerReference(policy)],
  };
}

/** kube-dns, as every distribution labels it. */
const KUBE_DNS = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

export function networkPolicySpec(policy: AiApiPolicy): Record<string, unknown> {
  const egress = policy.spec.egress;
  const rules: unknown[] = [
    {
      to: (egress?.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
      ports: (egress?.ports ?? [443]).map((port) => ({ protocol: "TCP", port })),
    },
  ];
  if (egress?.allowDNS !== false) {
    rules.push({
      to: [KUBE_DNS],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });
  }
  return { podSelector: storedSelector(policy.spec.selector), policyTypes: ["Egress"], egress: rules };
}

/**
 * A label selector as a built-in object stores it: no empty `matchLabels`, `matchExpressions` or `values`
 * (the API server drops them). Sent as the policy has it, the NetworkPolicy read back would never
 * equal the intent, and every reconcile (each triggered by the write before) would write it again.
 */
export function storedSelector(selector: AiApiPolicy["spec"]["selector"]): AiApiPolicy["spec"]["selector"] {
  const matchExpressions = (selector.matchExpressions ?? []).map(({ values, ...requirement }) => ({
    ...requirement,
    ...(values && values.length > 0 && { values }),
  }));
  return {
    ...(selector.matchLabels && Object.keys(selector.matchLabels).length > 0 && { matchLabels: selector.matchLabels }),
    ...(matchExpressions.length > 0 && { matchExpressions }),
  };
}

export function networkPolicyIntent(policy: AiApiPolicy) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMetadata(policy, ownedName(policy)),
    spec: networkPolicySpec(policy),
  };
}

/** Cilium: the endpoint's host by name, and kube-dns with a DNS rule so Cilium's proxy learns its addresses. */
export function ciliumPolicyIntent(policy: AiApiPolicy) {
  const ports = (policy.spec.egress?.ports ?? [443]).map((port) => ({ port: String(port), protocol: "TCP" }));
  const egress: unknown[] = [{ toFQDNs: [{ matchName: endpointHost(policy) }], toPorts: [{ ports }] }];
  if (policy.spec.egress?.allowDNS !== false) {
    egress.push({
      toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" } }],
      toPorts: [
        {
          ports: [
            { port: "53", protocol: "UDP" },
            { port: "53", protocol: "TCP" },
          ],
          rules: { dns: [{ matchPattern: "*" }] },
        },
      ],
    });
  }
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: ownedMetadata(policy, ownedName(policy)),
    spec: { endpointSelector: policy.spec.selector, egress },
  };
}

/** The policies (of the workload's namespace) whose selector matches its pod template labels. */
export function selects(policy: AiApiPolicy, workload: CachedWorkload): boolean {
  return matchesSelector(policy.spec.selector, workload.templateLabels);
}

export interface WorkloadPatch {
  volumes: { name: string; secret: { secretName: string; defaultMode: number } }[];
  containers: { name: string; volumeMounts: { name: string; mountPath: string; readOnly: true }[] }[];
}

/** Whether the policy mounts into this container: every container unless spec.credentials.containers names some. */
function mountsInto(policy: AiApiPolicy, container: string): boolean {
  const wanted = policy.spec.credentials?.containers ?? [];
  return wanted.length === 0 || wanted.includes(container);
}

/** A policy left out of a workload because another policy mounts at its mountPath in the same container. */
export interface MountClash {
  policy: string;
  holder: string;
  container: string;
  mountPath: string;
}

/**
 * Splits the policies that mount into a workload into those that can and those whose mountPath another
 * already takes in a container (a container's mounts are keyed by mountPath: an apply carrying both is
 * refused whole, and would block every policy's mount there). A mount already in place keeps its path,
 * else the first policy by name.
 */
export function withoutClashes(
  workload: CachedWorkload,
  mounting: readonly AiApiPolicy[],
): { kept: AiApiPolicy[]; clashes: MountClash[] } {
  const inPlace = (p: AiApiPolicy) => (workload.volumes.some((v) => v.name === ownedName(p)) ? 0 : 1);
  const ordered = [...mounting].sort((a, b) => inPlace(a) - inPlace(b) || byName(a, b));
  const taken = new Map<string, string>();
  const kept: AiApiPolicy[] = [];
  const clashes: MountClash[] = [];
  for (const policy of ordered) {
    const mountPath = credentialsMountPath(policy);
    const containers = workload.containers.map((c) => c.name).filter((name) => mountsInto(policy, name));
    const clash = containers.find((container) => taken.has(`${container}\0${mountPath}`));
    if (clash !== undefined) {
      const holder = taken.get(`${clash}\0${mountPath}`) as string;
      clashes.push({ policy: policy.metadata.name, holder, container: clash, mountPath });
      continue;
    }
    for (const container of containers) taken.set(`${container}\0${mountPath}`, policy.metadata.name);
    kept.push(policy);
  }
  return { kept, clashes };
}

/**
 * ai-api-guard's share of one workload's pod template: a volume and read-only mounts (no subPath, so a
 * rotated Secret reaches running pods) for every policy that mounts into it. One intent for all the
 * policies together, because they share the field manager: an intent for one alone would remove the others'.
 */
export function workloadPatch(workload: CachedWorkload, mounting: readonly AiApiPolicy[]): WorkloadPatch {
  const sorted = [...mounting].sort(byName);
  const volumes = sorted.map((p) => ({
    name: ownedName(p),
    secret: { secretName: p.spec.credentials?.secretName as string, defaultMode: SECRET_MODE },
  }));
  const containers = workload.containers.flatMap(({ name }) => {
    const volumeMounts = sorted
      .filter((p) => mountsInto(p, name))
      .map((p) => ({ name: ownedName(p), mountPath: credentialsMountPath(p), readOnly: true as const }));
    return volumeMounts.length > 0 ? [{ name, volumeMounts }] : [];
  });
  return { volumes, containers };
}

/** The same patch read back from the cache: what ai-api-guard's fields are now. */
export function currentWorkloadPatch(workload: CachedWorkload): WorkloadPatch {
  return {
    volumes: workload.volumes.map((v) => ({
      name: v.name,
      secret: { secretName: v.secretName ?? "", defaultMode: v.defaultMode ?? -1 },
    })),
    containers: workload.containers
      .filter((c) => c.mounts.length > 0)
      .map((c) => ({
        name: c.name,
        volumeMounts: c.mounts.map((m) => ({
          name: m.name,
          mountPath: m.subPath ? `${m.mountPath}#${m.subPath}` : m.mountPath,
          readOnly: m.readOnly as true,
        })),
      })),
  };
}

/** The patch placed at the kind's pod template (the kinds table's `podTemplate`); no patch: an empty intent. */
export function workloadIntent(row: WorkloadKind, workload: CachedWorkload, patch: WorkloadPatch) {
  const apiVersion = apiVersionOf(resourceOf(row));
  const metadata = { name: workload.metadata.name, namespace: workload.metadata.namespace };
  if (patch.volumes.length === 0) return { apiVersion, kind: row.kind, metadata };
  const podSpec = { spec: { volumes: patch.volumes, containers: patch.containers } };
  const nested = (row.podTemplate ?? []).reduceRight<Record<string, unknown>>(
    (inner, key) => ({ [key]: inner }),
    podSpec,
  );
  return { apiVersion, kind: row.kind, metadata, ...nested };
}

/** The annotations ai-api-guard writes on one Ingress for the policies that name it (first by name wins a key). */
export function ingressAnnotations(ingress: CachedIngress, naming: readonly AiApiPolicy[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  const middlewares: string[] = [];
  for (const policy of [...naming].sort(byName)) {
    const limit = policy.spec.rateLimit;
    if (!limit) continue;
    if (limit.provider === "traefik") {
      for (const m of middlewareIntents(policy))
        middlewares.push(`${ingress.metadata.namespace}-${m.metadata.name}@kubernetescrd`);
      continue;
    }
    const set = (key: string, value: string) => {
      annotations[NGINX + key] ??= value;
    };
    set("limit-rps", String(limit.requestsPerSecond));
    set("limit-burst-multiplier", String(limit.burstMultiplier));
    if (limit.connections !== undefined) set("limit-connections", String(limit.connections));
    if (limit.forceTLS) set("force-ssl-redirect", "true");
  }
  if (middlewares.length > 0) annotations[TRAEFIK_MIDDLEWARES] = middlewares.join(",");
  return annotations;
}

export function ingressIntent(ingress: CachedIngress, annotations: Record<string, string>) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: ingress.metadata.name,
      namespace: ingress.metadata.namespace,
      ...(Object.keys(annotations).length > 0 && { annotations }),
    },
  };
}

/** Traefik takes one middleware type per Middleware: the rate limit, the https redirect, the connection cap. */
export function middlewareIntents(policy: AiApiPolicy) {
  const limit = policy.spec.rateLimit;
  if (limit?.provider !== "traefik") return [];
  const make = (suffix: string, spec: Record<string, unknown>) => ({
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: ownedMetadata(policy, ownedName(policy, suffix)),
    spec,
  });
  const intents = [
    make("-ratelimit", {
      rateLimit: {
        average: limit.requestsPerSecond,
        burst: limit.requestsPerSecond * limit.burstMultiplier,
        period: "1s",
      },
    }),
  ];
  if (limit.forceTLS) intents.push(make("-https", { redirectScheme: { scheme: "https", permanent: true } }));
  if (limit.connections !== undefined)
    intents.push(make("-connections", { inFlightReq: { amount: limit.connections } }));
  return intents;
}
