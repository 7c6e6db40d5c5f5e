// Every setting of `ai-api-guard run`, in one zod schema: the flag name is the key, the environment
// variable is AI_API_GUARD_<KEY> (or the one named), and `chart` says where the Helm chart takes it from.
// `npm run generate` turns this schema into the chart's values.schema.json, values.yaml and env block,
// and the README's configuration table; defaults live only here. To add a setting, add one entry.
import { z } from "zod";
import { DEFAULT_EXTRA_RESOURCES } from "../api/workload-kinds.ts";

/** Where the Helm chart sets a setting from. */
export type ChartSource =
  /** A path in values.yaml; `default` when the chart's default differs from the command line's. */
  | { value: string; default?: unknown }
  /** A Helm template expression: settings the chart derives (names, mounted files). */
  | { template: string }
  /** A field of the pod, through the downward API. */
  | { fieldRef: string }
  /** Only out of a cluster. */
  | "none";

export interface SettingInfo {
  chart: ChartSource;
  /** An environment variable other than AI_API_GUARD_<KEY>, e.g. POD_NAMESPACE from the downward API. */
  env?: string;
}

export const settingInfo = z.registry<SettingInfo>();

function setting<T extends z.ZodType>(schema: T, description: string, info: SettingInfo): T {
  const described = schema.describe(description) as z.ZodType;
  settingInfo.add(described, info);
  return described as T;
}

const FULLNAME = '{{ include "ai-api-guard.fullname" . }}';
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits, '-'");
const port = z.int().min(1).max(65535);
/** A Kubernetes user name as the API server authenticates it; no comma, the list's separator on a command line. */
const userName = z
  .string()
  .regex(/^[^,\s]{1,253}$/, "must be a user name, e.g. system:serviceaccount:ray-system:kuberay-operator");
/** A Go-style duration in whole seconds, minutes or hours, e.g. 90s, 15m, 2160h. */
export const duration = z
  .string()
  .regex(/^[1-9][0-9]*(s|m|h)$/, "must be a whole number of s, m or h, e.g. 30s, 15m, 2160h");

export function durationMs(text: string): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[text.slice(-1) as "s" | "m" | "h"];
  return Number(text.slice(0, -1)) * unit;
}

export const settingsSchema = z.object({
  kubeconfig: setting(
    z.string().optional(),
    "Out of a cluster: the kubeconfig file. In a cluster the pod's service account is used.",
    { chart: "none" },
  ),
  context: setting(
    z.string().min(1).optional(),
    "Out of a cluster: the kubeconfig context to use (as kubectl --context); its current context when unset.",
    { chart: "none" },
  ),
  "webhook-url": setting(
    z
      .url({ protocol: /^https$/, error: "must be an https:// URL with an explicit port, e.g. https://127.0.0.1:9443" })
      // z.url() has said what is wrong with a URL new URL() cannot parse (a port past 65535): no throw here.
      .refine((u) => !URL.canParse(u) || new URL(u).port !== "", "must name a port, e.g. https://127.0.0.1:9443")
      .optional(),
    "Out of a cluster: serve the webhook at this loopback URL with a self-signed certificate, and register " +
      "(on exit remove) a ValidatingWebhookConfiguration pointing at it.",
    { chart: "none" },
  ),
  port: setting(port.default(9443), "The webhook's HTTPS port (TLS 1.3 only).", { chart: { value: "webhook.port" } }),
  "metrics-port": setting(
    z.int().min(0).max(65535).default(0),
    "Plain-HTTP port for /metrics, /healthz and /readyz (probes and scrapers); 0 turns it off.",
    { chart: { value: "metrics.port", default: 8080 } },
  ),
  "default-action": setting(
    z.enum(["Deny", "Warn", "Audit"]).default("Deny"),
    "Action for findings on objects that no AiApiPolicy in their namespace selects.",
    { chart: { value: "defaultAction" } },
  ),
  "action-floor": setting(
    z.enum(["Deny", "Warn", "Audit"]).default("Deny"),
    "The loosest action a policy may apply; a cluster admin may lower it per namespace with the label " +
      "aiapiguard.dev/action-floor.",
    { chart: { value: "actionFloor" } },
  ),
  "unregistered-action": setting(
    z.enum(["Deny", "Warn", "Audit"]).default("Audit"),
    "The action for unregistered-ai-api findings (an AI API no selecting policy declares), apart from the " +
      "governing policy's action: Audit by default, so installing the product never blocks a deploy for it. " +
      "A selecting policy's spec.admission.unregisteredAction takes precedence.",
    { chart: { value: "unregisteredAction" } },
  ),
  "exempt-namespaces": setting(
    z.array(name).default(["kube-system"]),
    "Namespaces admitted without review. The operator's own namespace is always exempt as well.",
    { chart: { value: "exemptNamespaces" } },
  ),
  "trusted-controllers": setting(
    z.array(userName).default([]),
    "Users that create objects from a custom resource's pod template, such as KubeRay's or KServe's operator " +
      "(system:serviceaccount:<namespace>:<name>): an exemption they copy onto an object that names its controller " +
      "owner is honoured without asking, as for kube-controller-manager's. Name only operators that copy templates " +
      "and never add annotations.",
    { chart: { value: "trustedControllers" } },
  ),
  "pod-namespace": setting(
    name.default("ai-api-guard"),
    "The operator's own namespace, always exempt; in a cluster the chart sets it from the downward API.",
    { chart: { fieldRef: "metadata.namespace" }, env: "POD_NAMESPACE" },
  ),
  "failure-policy": setting(
    z.enum(["Fail", "Ignore"]).default("Fail"),
    "What the API server does when the webhook cannot answer: Fail refuses the write, Ignore admits it unreviewed.",
    { chart: { value: "webhook.failurePolicy" } },
  ),
  "timeout-seconds": setting(
    z.int().min(1).max(30).default(10),
    "How long the API server waits for the webhook before applying the failure policy.",
    { chart: { value: "webhook.timeoutSeconds" } },
  ),
  "namespace-selector": setting(
    z.record(z.string(), z.string()).default({}),
    "Labels a namespace must carry to be reviewed (key=value,...); empty: every namespace that is not exempt.",
    { chart: { value: "webhook.namespaceSelector" } },
  ),
  "extra-resources": setting(
    z
      .array(
        z.string().refine((resource) => DEFAULT_EXTRA_RESOURCES.includes(resource), {
          error: `each must be one of ${DEFAULT_EXTRA_RESOURCES.join(", ")}`,
        }),
      )
      .default([...DEFAULT_EXTRA_RESOURCES]),
    "Out of a cluster: the AI workload custom resources the registered webhook reviews besides the core kinds " +
      "(the chart's webhook configuration reviews all of them).",
    { chart: "none" },
  ),
  "review-budget-ms": setting(
    z.int().min(100).max(30_000).default(2_000),
    "Time one large review may take in the worker before it is refused under Deny (fail closed).",
    { chart: { value: "webhook.reviewBudgetMs" } },
  ),
  "max-connections": setting(
    z.int().min(16).max(65_536).default(512),
    "Connections the webhook accepts at once; more are refused.",
    { chart: { value: "webhook.maxConnections" } },
  ),
  "webhook-config-name": setting(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .default("ai-api-guard"),
    "Name of the ValidatingWebhookConfiguration the operator registers (out of a cluster) or patches the caBundle of.",
    { chart: { template: FULLNAME } },
  ),
  "service-name": setting(
    name.optional(),
    "In a cluster: the Service in front of the webhook; the serving certificate is made for <service>.<namespace>.svc.",
    { chart: { template: FULLNAME } },
  ),
  "certificate-secret": setting(
    name.optional(),
    "In a cluster: the Secret (in the operator's namespace) where the operator keeps its CA and serving certificate, " +
      "created when missing and renewed before expiry.",
    { chart: { template: `{{ if not .Values.certManager.enabled }}${FULLNAME}-tls{{ end }}` } },
  ),
  "ca-duration": setting(
    duration.default("26280h"),
    "Lifetime of the operator's own CA; renewed when two thirds of it have passed.",
    { chart: { value: "certificates.caDuration" } },
  ),
  "certificate-duration": setting(
    duration.default("2160h"),
    "Lifetime of the serving certificate; renewed when two thirds of it have passed.",
    { chart: { value: "certificates.duration" } },
  ),
  "tls-cert-file": setting(
    z.string().optional(),
    "A serving certificate from files (e.g. mounted from cert-manager's Secret), reloaded when they change.",
    { chart: { template: "{{ if .Values.certManager.enabled }}/tls/tls.crt{{ end }}" } },
  ),
  "tls-key-file": setting(z.string().optional(), "The private key that goes with --tls-cert-file.", {
    chart: { template: "{{ if .Values.certManager.enabled }}/tls/tls.key{{ end }}" },
  }),
  controller: setting(
    z.boolean().default(true),
    "Run the controller (NetworkPolicies, mounts, rate limits, status); false: the webhook alone.",
    { chart: { value: "controller.enabled" } },
  ),
  namespaces: setting(z.array(name).optional(), "Namespaces the controller and the policy cache watch; unset: all.", {
    chart: "none",
  }),
  "resync-seconds": setting(
    z.int().min(10).max(86_400).default(600),
    "How often every policy is reconciled again even when nothing changed.",
    { chart: { value: "controller.resyncSeconds" } },
  ),
  "leader-elect": setting(
    z.boolean().default(true),
    "Take a Lease so that one replica at a time runs the controller (and rotates the certificates).",
    { chart: { template: "true" } },
  ),
  "lease-namespace": setting(name.default("default"), "Namespace of the leader-election Lease.", {
    chart: { fieldRef: "metadata.namespace" },
  }),
  "lease-name": setting(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .default("ai-api-guard"),
    "Name of the leader-election Lease.",
    { chart: { template: FULLNAME } },
  ),
  "lease-duration-seconds": setting(
    z.int().min(2).max(300).default(15),
    "Leader election: how long a Lease holds without renewal before another replica may take over.",
    { chart: { value: "leaderElection.leaseDurationSeconds" } },
  ),
  "renew-deadline-seconds": setting(
    z.int().min(1).max(300).default(10),
    "Leader election: how long the leader keeps trying to renew before it gives up leading.",
    { chart: { value: "leaderElection.renewDeadlineSeconds" } },
  ),
  "retry-period-seconds": setting(
    z.int().min(1).max(60).default(2),
    "Leader election: how often replicas try to take or renew the Lease.",
    { chart: { value: "leaderElection.retryPeriodSeconds" } },
  ),
  "shutdown-delay-seconds": setting(
    z.number().min(0).max(60).default(2),
    "On SIGTERM: not ready at once, then serve this long before draining (endpoints notice the change).",
    { chart: { value: "shutdownDelaySeconds" } },
  ),
  audit: setting(
    z.boolean().default(true),
    "Run the background audit (Lease holder only): workloads and ConfigMaps read in pages, findings into Reports.",
    { chart: { value: "audit.enabled" } },
  ),
  "audit-interval": setting(
    z.int().min(5).max(86_400).default(600),
    "Seconds between two audit runs (one runs at start).",
    { chart: { value: "audit.intervalSeconds" } },
  ),
  "reports-format": setting(
    z.enum(["openreports", "wgpolicyk8s"]).default("openreports"),
    "What the audit writes: OpenReports Reports (openreports.io/v1alpha1) or wgpolicyk8s.io/v1alpha2 PolicyReports.",
    { chart: { value: "reports.format" } },
  ),
  "read-api-issuer": setting(
    z.url({ protocol: /^https$/, error: "must be the OIDC issuer's https:// URL" }).optional(),
    "Read API: the OIDC token issuer to trust, as the API server's --oidc-issuer-url; unset: the API server's " +
      "service-account issuer.",
    { chart: { value: "readApi.issuer", default: "" } },
  ),
  "read-api-jwks-url": setting(
    z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    "Read API: where the issuer's signing keys are; unset: discovered from the issuer.",
    { chart: { value: "readApi.jwksUrl", default: "" } },
  ),
  "read-api-audience": setting(
    z.string().min(1).default("ai-api-guard"),
    "Read API: the audience a token must carry.",
    { chart: { value: "readApi.audience" } },
  ),
  "read-api-username-claim": setting(
    z.string().min(1).optional(),
    "Read API, OIDC issuer: the claim naming the user, as the API server's --oidc-username-claim; unset: sub.",
    { chart: { value: "readApi.usernameClaim", default: "" } },
  ),
  "read-api-username-prefix": setting(
    z.string().min(1).optional(),
    "Read API, OIDC issuer: put before every username, as the API server's --oidc-username-prefix; unset: " +
      "the issuer URL and # for claims other than email; - for none.",
    { chart: { value: "readApi.usernamePrefix", default: "" } },
  ),
  "read-api-groups-claim": setting(
    z.string().min(1).optional(),
    "Read API, OIDC issuer: the claim listing the user's groups, as the API server's --oidc-groups-claim; " +
      "unset: no groups.",
    { chart: { value: "readApi.groupsClaim", default: "" } },
  ),
  "read-api-groups-prefix": setting(
    z.string().min(1).optional(),
    "Read API, OIDC issuer: put before every group, as the API server's --oidc-groups-prefix; unset: none.",
    { chart: { value: "readApi.groupsPrefix", default: "" } },
  ),
  "log-level": setting(
    z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    "Least severe log level written (JSON lines on stdout).",
    { chart: { value: "logLevel" } },
  ),
});

/** Time the API server needs, within its timeout, to send a review and read the answer. */
export const REVIEW_BUDGET_MARGIN_MS = 500;

/** Service-account tokens are named as the API server names them: these settings are for an OIDC issuer's. */
const READ_API_CLAIM_MAPPINGS = [
  "read-api-username-claim",
  "read-api-username-prefix",
  "read-api-groups-claim",
  "read-api-groups-prefix",
] as const;

/** The rules between settings: out of a cluster a URL, in a cluster a certificate from the Secret or files. */
export const runSettings = settingsSchema
  .refine((o) => o["webhook-url"] || (o["tls-cert-file"] && o["tls-key-file"]) || o["certificate-secret"], {
    message:
      "give --webhook-url https://127.0.0.1:PORT (outside a cluster: self-signed certificate, webhook registered for you), " +
      "or in a cluster --certificate-secret NAME with --service-name NAME (certificates managed by the operator) " +
      "or --tls-cert-file and --tls-key-file (mounted, e.g. by cert-manager)",
  })
  .refine((o) => !o["certificate-secret"] || o["service-name"], {
    message: "--certificate-secret needs --service-name: the certificate is made for <service>.<namespace>.svc",
    path: ["service-name"],
  })
  .refine((o) => o["renew-deadline-seconds"] < o["lease-duration-seconds"], {
    message: "--renew-deadline-seconds must be shorter than --lease-duration-seconds",
    path: ["renew-deadline-seconds"],
  })
  // The API server's timeout covers the whole call: a budget that outlasts it loses the refusal's message
  // under Fail, and admits the large review unread under Ignore.
  .refine((o) => o["review-budget-ms"] <= o["timeout-seconds"] * 1000 - REVIEW_BUDGET_MARGIN_MS, {
    message: `--review-budget-ms must end at least ${REVIEW_BUDGET_MARGIN_MS} ms before --timeout-seconds (the API server's wait): lower it or raise --timeout-seconds`,
    path: ["review-budget-ms"],
  })
  .refine((o) => o["read-api-issuer"] || !READ_API_CLAIM_MAPPINGS.some((key) => o[key] !== undefined), {
    message: `--${READ_API_CLAIM_MAPPINGS.join(", --")} name the users of an OIDC issuer: give --read-api-issuer too`,
    path: ["read-api-issuer"],
  })
  .refine((o) => Boolean(o["tls-cert-file"]) === Boolean(o["tls-key-file"]), {
    message: "give --tls-cert-file and --tls-key-file together",
    path: ["tls-key-file"],
  });

export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof Settings;

export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

export function envName(key: SettingKey): string {
  return settingInfo.get(settingsSchema.shape[key])?.env ?? `AI_API_GUARD_${key.toUpperCase().replaceAll("-", "_")}`;
}

export function info(key: SettingKey): SettingInfo {
  const found = settingInfo.get(settingsSchema.shape[key]);
  if (!found) throw new Error(`setting ${key} has no chart source`);
  return found;
}

/** Namespaces the webhook never reviews: the configured ones and the operator's own. */
export function exemptNamespaces(settings: Settings): string[] {
  return [...new Set([...settings["exempt-namespaces"], settings["pod-namespace"]])];
}

/** A setting's command-line default as written on the command line (lists comma-separated), if it has one. */
export function defaultText(key: SettingKey): string | undefined {
  return valueText((settingsSchema.shape[key].def as { defaultValue?: unknown }).defaultValue);
}

export function valueText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** The zod type under a setting's default or optional: "array", "record", "number", "string", "enum"... */
export function valueType(key: SettingKey): string {
  let schema = settingsSchema.shape[key] as z.ZodType;
  for (;;) {
    const def = schema.def as { type: string; innerType?: z.ZodType };
    if (!def.innerType || (def.type !== "default" && def.type !== "optional")) return def.type;
    schema = def.innerType;
  }
}
