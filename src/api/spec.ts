// The spec of AiApiPolicy: what users write. Every field carries its description (kubectl explain shows
// it), its default (the API server applies it) and its validation (the CRD and zod both enforce it).
import { isIP } from "node:net";
import { z } from "zod";
import { type Rule, validated } from "./rules.ts";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function matching(pattern: RegExp, message: string): Rule<string> {
  const celString = pattern.source.replaceAll("\\", "\\\\"); // CEL string literals take \\ for one backslash
  return { rule: `self.matches('${celString}')`, message, holds: (value) => pattern.test(value) };
}

/** A list whose items are unique, merged item by item by server-side apply. */
function setOf<T extends z.ZodType>(item: T, { min = 0, max }: { min?: number; max: number }) {
  const list = z.array(item).max(max);
  return (min > 0 ? list.min(min) : list)
    .superRefine((items, ctx) => {
      // Reported at the repeat's index, as the API server reports it.
      items.forEach((value, i) => {
        if (items.indexOf(value) !== i)
          ctx.addIssue({ code: "custom", path: [i], message: `Duplicate value: ${value}` });
      });
    })
    .meta({ "x-kubernetes-list-type": "set" });
}

const port = validated(z.int().min(1).max(65535), {
  rule: "self != 80",
  message: "port 80 is plaintext HTTP and is refused: use the API's TLS port, usually 443",
  holds: (p) => p !== 80,
}).describe("A TCP port the API is reached on (1-65535, not 80: TLS only).");

/** Same grammar as netip.ParsePrefix, which CEL's isCIDR() uses: no leading zeros, no zone. */
function isCidr(value: string): boolean {
  const [address = "", bits, ...rest] = value.split("/");
  const family = isIP(address);
  if (rest.length > 0 || bits === undefined || family === 0 || !/^(0|[1-9]\d{0,2})$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const cidr = validated(z.string().max(43), {
  rule: "isCIDR(self)",
  message: "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/32",
  holds: isCidr,
}).describe("An address block the API lives in, in CIDR notation, e.g. 203.0.113.0/24.");

const SERVICE_ACCOUNT_DIRS = ["/var/run/secrets/kubernetes.io", "/run/secrets/kubernetes.io"];

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

const mountPath = validated(
  z.string().max(1024),
  {
    rule: "self.startsWith('/')",
    message: "must be an absolute path, e.g. /var/run/secrets/ai-api/my-policy",
    holds: (p) => p.startsWith("/"),
  },
  {
    rule: "!self.contains('//') && !self.split('/').exists(s, s == '..')",
    message: "must be a clean path: no '//' and no '..' segments",
    holds: (p) => !p.includes("//") && !p.split("/").includes(".."),
  },
  {
    rule: SERVICE_ACCOUNT_DIRS.map((d) => `!(self == '${d}' || self.startsWith('${d}/'))`).join(" && "),
    message:
      "must not be under /var/run/secrets/kubernetes.io (or /run/secrets/kubernetes.io): that is where " +
      "the pod's service account token lives; use /var/run/secrets/ai-api/<name>",
    holds: (p) => !SERVICE_ACCOUNT_DIRS.some((d) => isUnder(p, d)),
  },
).describe(
  "Where the Secret is mounted, read-only, in each selected container. An absolute path outside " +
    "/var/run/secrets/kubernetes.io. Default: /var/run/secrets/ai-api/<policy name> (its uid when the name holds a key).",
);

/**
 * A query parameter that carries a credential, as some APIs take one (Google's `?key=`, Azure's `?sig=` and `?code=`):
 * an RE2 (CEL) and JavaScript pattern alike.
 */
const CREDENTIAL_QUERY = "[?&](key|api[_-]?key|access[_-]?token|token|auth|password|secret|sig|signature|code)=";
const CREDENTIAL_QUERY_PATTERN = new RegExp(CREDENTIAL_QUERY, "i");

const endpoint = validated(
  z.string().max(2048),
  {
    rule: "self.startsWith('https://')",
    message:
      "must start with https://: plaintext http is refused; use the API's TLS endpoint, e.g. https://api.openai.com/v1",
    holds: (e) => e.startsWith("https://"),
  },
  {
    rule: "isURL(self) && url(self).getHostname() != ''",
    message: "must be an absolute URL with a host, e.g. https://api.openai.com/v1",
    holds: (e) => URL.canParse(e) && new URL(e).hostname !== "",
  },
  {
    rule: "!self.matches('^https://[^/?#]*@')",
    message: "must not carry credentials (user:password@): put them in the Secret named by spec.credentials.secretName",
    holds: (e) => !/^https:\/\/[^/?#]*@/.test(e),
  },
  {
    rule: `!self.matches('(?i)${CREDENTIAL_QUERY}')`,
    message:
      "must not carry a credential in its query (key=, api_key=, token=, sig=...): the endpoint is shown by kubectl get aap, " +
      "the inventory and the reports; put it in the Secret named by spec.credentials.secretName",
    holds: (e) => !CREDENTIAL_QUERY_PATTERN.test(e),
  },
).describe(
  "The URL the workloads call, e.g. https://api.openai.com/v1. https only: plaintext http is refused. " +
    "Its host is the API's identity: the webhook refuses plaintext URLs to it, and the Cilium egress provider allows it by name.",
);

export const AuthTypeSchema = z
  .enum(["OAuth2", "JWT", "APIKey", "mTLS", "None"])
  .describe("How workloads authenticate to the API: OAuth2, JWT, APIKey, mTLS or None.");

export const SensitivitySchema = z
  .enum(["Low", "Medium", "High", "Critical"])
  .describe("The sensitivity of the data sent to the API: Low, Medium, High or Critical.");

export const ApiSchema = z
  .object({
    displayName: z
      .string()
      .max(253)
      .optional()
      .describe("A human name for the API, for the inventory. Default: the policy's name."),
    endpoint,
    authType: AuthTypeSchema,
    sensitivity: SensitivitySchema,
    owner: z.string().max(253).optional().describe("The team or person accountable for this API, for the inventory."),
    lastReviewed: z.iso
      .date()
      .optional()
      .describe(
        "The date of the last security review, YYYY-MM-DD, not in the future. Absent means never reviewed. " +
          "A future date is refused by the ai-api-guard webhook (the CRD schema has no clock). " +
          "Past lastReviewed + reviewIntervalDays, or when absent, the policy reports ReviewOverdue=True.",
      ),
    reviewIntervalDays: z.int().min(1).max(3650).default(90).describe("Days between security reviews (at least 1)."),
  })
  .describe("The inventory entry: what the API is, how it is called, how sensitive its data is and who owns it.");

// Label syntax as the API server checks it on the pods and NetworkPolicies the selector ends up in: a
// selector it would refuse there is refused here, naming the field, rather than matching nothing.
const LABEL_NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
const LABEL_KEY = new RegExp(`^(${DNS_SUBDOMAIN.source.slice(1, -1)}/)?${LABEL_NAME}$`);
const LABEL_VALUE = new RegExp(`^(${LABEL_NAME})?$`);
const LABEL_KEY_MESSAGE =
  "must be a label key: a name of letters, digits, '-', '_' and '.' (at most 63, starting and ending with a " +
  "letter or digit), optionally after a DNS prefix and '/', e.g. app or app.kubernetes.io/name";
const LABEL_VALUE_MESSAGE =
  "must be a label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
/** A DNS prefix of at most 253 characters: the length the key pattern cannot say. */
const prefixHolds = (key: string) => !key.includes("/") || key.indexOf("/") <= 253;
const PREFIX_RULE = "!self.contains('/') || self.indexOf('/') <= 253";

const labelKey = validated(z.string().max(317), matching(LABEL_KEY, LABEL_KEY_MESSAGE), {
  rule: PREFIX_RULE,
  message: "must have a DNS prefix of at most 253 characters before its '/'",
  holds: prefixHolds,
});
const labelValue = validated(z.string().max(63), matching(LABEL_VALUE, LABEL_VALUE_MESSAGE));

const labelSelectorRequirement = validated(
  z.object({
    key: labelKey.describe("The label key the selector applies to."),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).describe("In, NotIn, Exists or DoesNotExist."),
    values: z
      .array(labelValue.describe("A label value."))
      .max(64)
      .optional()
      .describe("The values for In and NotIn; empty otherwise."),
  }),
  {
    rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
    message: "operators In and NotIn need values; Exists and DoesNotExist take none",
    holds: (r) => (r.operator === "In" || r.operator === "NotIn") === (r.values ?? []).length > 0,
  },
).describe("A label requirement: a key, an operator and values.");

export const LabelSelectorSchema = z
  .object({
    matchLabels: validated(z.record(z.string().max(317), labelValue.describe("A label value.")), {
      rule: `self.all(k, k.matches('${LABEL_KEY.source.replaceAll("\\", "\\\\")}') && (${PREFIX_RULE.replaceAll("self", "k")}))`,
      message: `keys ${LABEL_KEY_MESSAGE}`,
      holds: (labels) => Object.keys(labels).every((key) => LABEL_KEY.test(key) && prefixHolds(key)),
    })
      .meta({ maxProperties: 64 })
      .optional()
      .describe("Labels a pod must carry, all of them."),
    matchExpressions: z
      .array(labelSelectorRequirement)
      .max(32)
      .optional()
      .describe("Label requirements a pod must meet, all of them."),
  })
  .meta({ "x-kubernetes-map-type": "atomic" })
  .describe(
    "The pods (by label, in the policy's namespace) that call this API. Deployments, StatefulSets and " +
      "DaemonSets are matched by their pod template labels. An empty selector selects every pod in the namespace.",
  );

export const EgressSchema = z
  .object({
    cidrs: setOf(cidr, { max: 64 })
      .optional()
      .describe(
        "Address blocks the API lives in, e.g. [203.0.113.0/24]. With provider Kubernetes they become the " +
          "NetworkPolicy's ipBlocks; empty means no NetworkPolicy, and the EgressReady condition says why.",
      ),
    ports: setOf(port, { min: 1, max: 16 })
      .default([443])
      .describe("TCP ports the selected pods may reach the API on. Port 80 is refused: TLS only."),
    allowDNS: z.boolean().default(true).describe("Also allow DNS to kube-dns on port 53, UDP and TCP."),
    provider: z
      .enum(["Kubernetes", "Cilium"])
      .default("Kubernetes")
      .describe(
        "Kubernetes: a NetworkPolicy with ipBlocks from cidrs. Cilium: a CiliumNetworkPolicy with toFQDNs from the endpoint's host.",
      ),
  })
  .describe("Egress restriction for the selected pods: they may reach the API and DNS, nothing else.");

export const CredentialsSchema = z
  .object({
    secretName: validated(
      z.string().min(1).max(253),
      matching(DNS_SUBDOMAIN, "must be a Secret name: lowercase letters, digits, '-' and '.', e.g. openai-api-key"),
    ).describe("The Secret, in the policy's namespace, that holds the API credential."),
    mountPath: mountPath.optional(),
    containers: setOf(
      validated(z.string().max(63), matching(DNS_LABEL, "must be a container name, e.g. app")).describe(
        "A container name.",
      ),
      { max: 64 },
    )
      .optional()
      .describe("The containers the Secret is mounted into. Empty or absent: every container of the pod template."),
    maxAgeDays: z
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe("Days a credential may live. Past it the policy reports CredentialRotationOverdue=True."),
  })
  .describe("The Secret mounted read-only (mode 0400) into the selected workloads.");

export const RateLimitSchema = z
  .object({
    ingresses: setOf(
      validated(z.string().max(253), matching(DNS_SUBDOMAIN, "must be an Ingress name, e.g. enrichment")).describe(
        "An Ingress name.",
      ),
      { min: 1, max: 32 },
    ).describe("The Ingresses, in the policy's namespace, that receive the rate limits. At least one."),
    requestsPerSecond: z.int().min(1).describe("Requests per second allowed per client (at least 1)."),
    burstMultiplier: z
      .int()
      .min(1)
      .max(100)
      .default(5)
      .describe("Burst allowed above requestsPerSecond, as a multiple of it (at least 1)."),
    connections: z.int().min(1).optional().describe("Concurrent connections allowed per client (at least 1)."),
    provider: z
      .enum(["ingress-nginx", "traefik"])
      .default("ingress-nginx")
      .describe("ingress-nginx: annotations on the Ingress. traefik: a Middleware attached to it."),
    forceTLS: z
      .boolean()
      .default(true)
      .describe("Redirect plaintext requests to https (nginx force-ssl-redirect, or a traefik redirect middleware)."),
  })
  .describe("Rate limits written onto the named Ingresses, which front the selected workloads.");

export const AdmissionSchema = z
  .object({
    action: z
      .enum(["Deny", "Warn", "Audit"])
      .default("Deny")
      .describe(
        "What the webhook does with findings on the selected workloads: Deny refuses, Warn admits with warnings, Audit records.",
      ),
    unregisteredAction: z
      .enum(["Deny", "Warn", "Audit"])
      .optional()
      .describe(
        "What the webhook does with unregistered-ai-api findings on the selected workloads (an AI API that no policy " +
          "with its endpoint selects). Absent: the operator's --unregistered-action. The strictest among the " +
          "policies selecting a workload applies; the action floor does not raise it.",
      ),
  })
  .prefault({})
  .describe("Admission settings for the selected workloads.");

export const ResponseSchema = z
  .object({
    quarantine: z
      .boolean()
      .default(false)
      .describe(
        "When the background audit finds a hardcoded credential in a selected workload, also isolate it: a " +
          "deny-all-egress NetworkPolicy for its pods until the finding is gone (the key may be compromised: rotate it). " +
          "Removed automatically after, with an Event each way.",
      ),
  })
  .describe("What ai-api-guard does about a credential exposed in a running workload, beyond the Warning Event.");

export const AiApiPolicySpecSchema = z
  .object({
    api: ApiSchema,
    selector: LabelSelectorSchema,
    egress: EgressSchema.optional(),
    credentials: CredentialsSchema.optional(),
    rateLimit: RateLimitSchema.optional(),
    admission: AdmissionSchema,
    response: ResponseSchema.optional(),
  })
  .describe("One AI API the namespace's workloads call, and how ai-api-guard secures the calls.");

export type AiApiPolicySpec = z.output<typeof AiApiPolicySpecSchema>;
