// AdmissionReview bodies as the API server sends them, for the webhook's tests and benchmark.
import { randomUUID } from "node:crypto";
import { workloadKindOf } from "../../src/api/workload-kinds.ts";
import type { Finding } from "../../src/engine/types.ts";
import type { AdmissionRequest } from "../../src/webhook/admission-review.ts";
import type { PolicyView } from "../../src/webhook/policies.ts";

type Gvk = AdmissionRequest["kind"];

const POLICY: Gvk = { group: "aiapiguard.dev", version: "v1alpha1", kind: "AiApiPolicy" };

/** The group, version, kind and resource of an object, from the workload table (else example.com's). */
function gvkOf(object: Record<string, unknown>): Gvk & { resource: string } {
  if (object.kind === POLICY.kind) return { ...POLICY, resource: "aiapipolicies" };
  const row = workloadKindOf(object);
  if (row) return { group: row.group, version: row.version, kind: row.kind, resource: row.resource };
  return {
    group: "example.com",
    version: "v1",
    kind: String(object.kind),
    resource: `${String(object.kind).toLowerCase()}s`,
  };
}

/** A review of `object` (kind, namespace and name read from it); `request` overrides any request field. */
export function admissionReview(object: Record<string, unknown>, request: Partial<AdmissionRequest> = {}) {
  const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
  const { resource, ...kind } = gvkOf(object);
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind,
      resource: { group: kind.group, version: kind.version, resource },
      requestKind: kind,
      name: metadata.name,
      namespace: metadata.namespace,
      operation: "CREATE",
      userInfo: { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
      ...request,
    },
  };
}

/** A Pod with one plain container and `volumes`: where a volume's fields are reviewed. */
export function podWithVolumes(volumes: unknown[], metadata = { name: "loader", namespace: "ml-team" }) {
  return { apiVersion: "v1", kind: "Pod", metadata, spec: { containers: [{ name: "app", image: "app:1" }], volumes } };
}

export interface DeploymentOptions {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** Extra env entries for the first container. */
  env?: { name: string; value: string }[];
  annotations?: Record<string, string>;
}

/**
 * A Deployment shaped like real ones (~10 KB as JSON): three containers with env, probes, resources,
 * volumes and the annotations and managed fields that kubectl apply leaves behind.
 */
export function deployment(options: DeploymentOptions = {}): Record<string, unknown> {
  const name = options.name ?? "summarizer";
  const labels = options.labels ?? { app: name, tier: "backend" };
  const container = (role: string, index: number) => ({
    name: index === 0 ? "app" : role,
    image: `registry.example.com/ml/${name}-${role}:1.${index}.3`,
    imagePullPolicy: "IfNotPresent",
    ports: [{ name: "http", containerPort: 8080 + index, protocol: "TCP" }],
    env: [
      ...(index === 0 ? (options.env ?? []) : []),
      ...Array.from({ length: 12 }, (_, i) => ({
        name: `${role.toUpperCase()}_SETTING_${i}`,
        value: `value-${i}-${role}`,
      })),
      { name: "LLM_ENDPOINT", value: "https://api.example.com/v1/generate" },
      { name: "API_KEY", valueFrom: { secretKeyRef: { name: `${name}-credentials`, key: "api-key" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
    ],
    args: ["--port", String(8080 + index), "--log-format=json", "--metrics-address=:9090"],
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 + index }, initialDelaySeconds: 10, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: "/readyz", port: 8080 + index }, periodSeconds: 5 },
    volumeMounts: [
      { name: "config", mountPath: "/etc/summarizer", readOnly: true },
      { name: "cache", mountPath: "/var/cache/summarizer" },
    ],
    securityContext: {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    },
  });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: options.namespace ?? "ml-team",
      labels,
      annotations: {
        "deployment.kubernetes.io/revision": "3",
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ kind: "Deployment", labels }).repeat(12),
        ...options.annotations,
      },
      managedFields: [
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          apiVersion: "apps/v1",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} } }, "f:spec": { "f:replicas": {} } },
        },
      ],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels, annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9090" } },
        spec: {
          serviceAccountName: name,
          containers: ["server", "worker", "sidecar"].map(container),
          initContainers: [{ ...container("migrate", 3), name: "migrate" }],
          volumes: [
            { name: "config", configMap: { name: `${name}-config` } },
            { name: "cache", emptyDir: { sizeLimit: "1Gi" } },
          ],
          securityContext: {
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          nodeSelector: { "kubernetes.io/os": "linux" },
          tolerations: [{ key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" }],
        },
      },
    },
  };
}

/** A finding as the engine reports it; override what a test is about. */
export function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    rule: "hardcoded-secret",
    category: "hardcoded-secret",
    severity: "critical",
    resource: "Deployment/ml-team/summarizer",
    kind: "Deployment",
    namespace: "ml-team",
    name: "summarizer",
    container: "app",
    path: "spec.template.spec.containers[0].env[0].value",
    pathSegments: ["spec", "template", "spec", "containers", 0, "env", 0, "value"],
    provider: "OpenAI API key",
    hint: "OpenAI API key ending in 9f2c",
    message: "OpenAI API key in env OPENAI_API_KEY of container app",
    fix: "Store the key in a Secret and reference it with env.valueFrom.secretKeyRef.",
    exempt: false,
    ...overrides,
  };
}

/** The policy of the examples: ml-team/llm-service selects app=summarizer, action Warn. */
export function policyView(overrides: Partial<PolicyView> = {}): PolicyView {
  return {
    namespace: "ml-team",
    name: "llm-service",
    endpointHost: "api.example.com",
    selector: { matchLabels: { app: "summarizer" } },
    action: "Warn",
    ...overrides,
  };
}
