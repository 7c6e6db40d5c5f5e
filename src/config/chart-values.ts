// The Helm chart's values: what only the chart has (image, replicas, scheduling, cert-manager), plus
// every setting of `ai-api-guard run` the chart takes from a value, at that value's path, with the
// setting's own schema. One tree yields values.schema.json, the commented values.yaml and the
// container's environment (see chart-files.ts).
import { z } from "zod";
import { info, SETTING_KEYS, type SettingKey, settingsSchema } from "./settings.ts";

/** A group of values, with the comment written above it in values.yaml. */
export interface Group {
  description: string;
  children: Tree;
}
export type Tree = { [key: string]: z.ZodType | Group };

const group = (description: string, children: Tree): Group => ({ description, children });
const labels = z.record(z.string(), z.string());
const quantity = z.union([z.string(), z.number()]);
const peers = z.array(z.record(z.string(), z.unknown())).default([]);

const chartOnly: Tree = {
  nameOverride: z.string().default("").describe("Replaces the chart name in the names of the objects."),
  fullnameOverride: z
    .string()
    .default("")
    .describe("Replaces the whole name of the objects (default: the release name)."),
  image: group("The operator's image (see the Dockerfile; `npm run image` builds it).", {
    repository: z.string().default("ghcr.io/ai-api-guard/ai-api-guard").describe("Image repository."),
    tag: z.string().default("").describe("Image tag; empty: the chart's appVersion."),
    pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent").describe("Image pull policy."),
  }),
  imagePullSecrets: z
    .array(z.object({ name: z.string() }))
    .default([])
    .describe("Secrets for pulling the image from a private registry, e.g. [{name: regcred}]."),
  replicaCount: z
    .int()
    .min(1)
    .default(2)
    .describe(
      "Replicas of the operator. Every replica serves the webhook; one at a time (the Lease holder) runs the " +
        "controller. Two or more keep admission available through a node drain or a rollout.",
    ),
  resources: z
    .object({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
    .default({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } })
    .describe(
      "Container resources. The webhook answers a review in well under a millisecond; memory grows with policies " +
        "and workloads (the controller's caches). The memory limit also sizes the request bodies the webhook reads " +
        "at once (a quarter of it, 256 MiB at most): under 512Mi, a flood of large reviews can get it OOM-killed.",
    ),
  podDisruptionBudget: group("Keeps a replica serving the webhook during voluntary disruptions (drains).", {
    enabled: z.boolean().default(true).describe("Create the PodDisruptionBudget."),
    minAvailable: z.int().min(0).default(1).describe("Replicas that must stay available."),
  }),
  serviceAccount: group("The operator's ServiceAccount (the chart always creates it; RBAC is bound to it).", {
    annotations: labels.default({}).describe("Annotations, e.g. for a cloud workload identity."),
  }),
  podAnnotations: labels.default({}).describe("Extra annotations on the operator's pods."),
  podLabels: labels.default({}).describe("Extra labels on the operator's pods."),
  priorityClassName: z
    .string()
    .default("")
    .describe("Priority class of the pods; a webhook with failurePolicy Fail deserves a high one."),
  nodeSelector: labels.default({}).describe("Node selector of the pods."),
  tolerations: z.array(z.record(z.string(), z.unknown())).default([]).describe("Tolerations of the pods."),
  affinity: z.record(z.string(), z.unknown()).default({}).describe("Affinity of the pods."),
  topologySpreadConstraints: z
    .array(z.record(z.string(), z.unknown()))
    .default([])
    .describe("Topology spread of the pods; empty: spread over nodes and zones where possible (ScheduleAnyway)."),
  webhook: group(
    "The ValidatingWebhookConfiguration. failurePolicy and timeoutSeconds trade safety against availability: " +
      "Fail (the default) means nothing reaches the cluster unreviewed, but a webhook that cannot answer within " +
      "timeoutSeconds blocks every reviewed write outside the exempt namespaces until it is back; Ignore keeps " +
      "the cluster writable when the webhook is down, and lets those writes through unreviewed. Keep " +
      "timeoutSeconds well under the API server's own 30 s request timeout; with Ignore, a short timeout " +
      "(e.g. 3 s) limits how much slower writes get while the webhook is unreachable.",
    {
      networkPolicy: group(
        "A NetworkPolicy on the operator's pods (needs a network plugin that enforces them): the HTTPS port " +
          "(reviews and the read API) open only to `from`, so no pod in the cluster can hold its connections or " +
          "flood it; the metrics port to `metricsFrom`; every other port closed. Egress is not restricted.",
        {
          enabled: z.boolean().default(false).describe("Create the NetworkPolicy."),
          from: peers.describe(
            "NetworkPolicy peers that may reach the HTTPS port: where the API server's calls come from (e.g. " +
              "[{ipBlock: {cidr: 10.0.0.0/24}}] for the control-plane nodes' addresses) and the read API's clients. " +
              "Required when enabled.",
          ),
          metricsFrom: peers.describe(
            "NetworkPolicy peers that may reach the metrics port (Prometheus; the kubelet's probes are allowed by " +
              "most network plugins whatever the policy). Empty: from anywhere.",
          ),
        },
      ),
    },
  ),
  metrics: group("Metrics and health: /metrics, /healthz and /readyz on a plain-HTTP port (the probes use it).", {
    serviceMonitor: group("A Prometheus Operator ServiceMonitor for /metrics.", {
      enabled: z.boolean().default(false).describe("Create the ServiceMonitor (needs the monitoring.coreos.com CRDs)."),
      interval: z.string().default("30s").describe("Scrape interval."),
      labels: labels.default({}).describe("Extra labels, e.g. the one your Prometheus selects ServiceMonitors by."),
    }),
  }),
  certificates: group(
    "Certificates managed by the operator (the default): a CA and a serving certificate for " +
      "<service>.<namespace>.svc kept in the Secret <fullname>-tls, created when missing and renewed when two " +
      "thirds of their lifetime have passed; the leader patches the caBundle (old and new CA during a change) and " +
      "every replica reloads the serving certificate without a restart.",
    {},
  ),
  certManager: group("Certificates from cert-manager instead: a Certificate, and its CA injected into the webhook.", {
    enabled: z.boolean().default(false).describe("Use cert-manager (needs its CRDs and its CA injector)."),
    issuerRef: group(
      "The issuer that signs the serving certificate; no name: the chart creates a self-signed Issuer.",
      {
        name: z.string().default("").describe("Issuer or ClusterIssuer name."),
        kind: z.enum(["Issuer", "ClusterIssuer"]).default("Issuer").describe("Issuer kind."),
        group: z.string().default("cert-manager.io").describe("Issuer API group."),
      },
    ),
  }),
  controller: group(
    "The controller: what it writes for each policy (NetworkPolicies, mounts, rate limits, status).",
    {},
  ),
  audit: group(
    "The background audit (Lease holder only): every workload and ConfigMap is checked with the same rules as " +
      "admission, and the findings are written as one report per namespace.",
    {},
  ),
  reports: group("Where the audit's findings go.", {}),
  readApi: group(
    "The read API on the webhook's HTTPS port (GET /api/v1/inventory, /api/v1/findings): Bearer tokens checked " +
      "against an issuer's keys, access decided by RBAC (SubjectAccessReview).",
    {},
  ),
  leaderElection: group(
    "Leader election through a coordination.k8s.io Lease in the release namespace: one replica runs the " +
      "controller and rotates the certificates; the others serve the webhook and take over when the Lease lapses.",
    {},
  ),
};

/** The chart's values: chart-only values with each setting placed at its values path. */
export const valuesTree: Tree = structuredTree();

function structuredTree(): Tree {
  const tree = cloneTree(chartOnly);
  for (const key of SETTING_KEYS) {
    const source = info(key).chart;
    if (typeof source !== "object" || !("value" in source)) continue;
    const path = source.value.split(".");
    const leaf = path.pop() as string;
    let node = tree;
    for (const part of path) {
      const child = node[part];
      if (!child || child instanceof z.ZodType) throw new Error(`values path ${source.value}: ${part} is not a group`);
      node = child.children;
    }
    node[leaf] = chartSchema(key, source.default);
  }
  return tree;
}

function cloneTree(tree: Tree): Tree {
  return Object.fromEntries(
    Object.entries(tree).map(([key, node]) => [
      key,
      node instanceof z.ZodType ? node : group(node.description, cloneTree(node.children)),
    ]),
  );
}

/**
 * The setting's schema, with the chart's own default when it has one. A default of "" stands for unset
 * (the command line reads an empty variable so), and is allowed beside what the setting takes.
 */
function chartSchema(key: SettingKey, chartDefault: unknown): z.ZodType {
  const schema = settingsSchema.shape[key] as z.ZodType;
  if (chartDefault === undefined) return schema;
  const inner = (schema.def as unknown as { innerType: z.ZodType }).innerType;
  const value = chartDefault === "" ? z.union([z.literal(""), inner]) : inner;
  return value.default(chartDefault as never).describe(schema.description ?? "");
}

/** The values as one zod object: unknown keys are refused, so a misspelt value fails the install. */
export function valuesSchema(tree: Tree = valuesTree): z.ZodType {
  const shape = Object.fromEntries(
    Object.entries(tree).map(([key, node]) => [
      key,
      node instanceof z.ZodType ? node : valuesSchema(node.children).describe(node.description).prefault({}),
    ]),
  );
  return z.strictObject(shape);
}

/** Each value's default, for values.yaml. */
export function defaults(tree: Tree = valuesTree): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tree).map(([key, node]) => [
      key,
      node instanceof z.ZodType ? (node.def as { defaultValue?: unknown }).defaultValue : defaults(node.children),
    ]),
  );
}
