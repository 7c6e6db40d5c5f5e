// The ValidatingWebhookConfiguration that sends reviewed objects to the webhook: built by a pure
// function (tested without a cluster), applied and removed by the two functions below it.
import type * as k8s from "@kubernetes/client-node";
import { API_GROUP, PLURAL } from "../api/index.ts";
import { reviewedKinds, type WorkloadKind } from "../api/workload-kinds.ts";
import { isStatus, type KubeRest } from "./rest.ts";

export const WEBHOOK_NAME = "validate.aiapiguard.dev";

export interface WebhookRegistration {
  /** Name of the ValidatingWebhookConfiguration object. */
  name: string;
  caBundlePem: string;
  /** Out of cluster: a URL. In cluster: a Service reference. */
  target: { url: string } | { service: { namespace: string; name: string; port: number } };
  failurePolicy: "Fail" | "Ignore";
  timeoutSeconds: number;
  exemptNamespaces: readonly string[];
  /** Extra labels a namespace must carry to be reviewed (empty: every namespace not exempt). */
  namespaceLabels?: Record<string, string>;
  /** The kinds to review; the core kinds and every default extra when absent. */
  kinds?: readonly WorkloadKind[];
}

/**
 * What the webhook reviews on CREATE and UPDATE: the workload table's kinds (one rule per API group),
 * the subresource through which `kubectl debug` adds containers to a running Pod, and the AiApiPolicy
 * objects themselves (for the checks their CRD schema cannot make).
 */
export function admissionRules(kinds: readonly WorkloadKind[]): k8s.V1RuleWithOperations[] {
  const namespaced = new Map<string, string[]>();
  const clusterScoped = new Map<string, string[]>();
  for (const k of kinds) {
    const byGroup = k.clusterScoped ? clusterScoped : namespaced;
    byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), k.resource]);
  }
  namespaced.get("")?.push(...SUBRESOURCES);
  namespaced.set(API_GROUP, [...(namespaced.get(API_GROUP) ?? []), PLURAL]);
  // The namespaceSelector does not apply to cluster-scoped objects: every one of these kinds is reviewed.
  const rules = (byGroup: Map<string, string[]>, scope: "Namespaced" | "Cluster") =>
    [...byGroup].map(([group, resources]) => ({
      apiGroups: [group],
      apiVersions: ["*"],
      operations: ["CREATE", "UPDATE"],
      resources: [...new Set(resources)],
      scope,
    }));
  return [...rules(namespaced, "Namespaced"), ...rules(clusterScoped, "Cluster")];
}

/** Subresources that change what a Pod runs: `kubectl debug` adds ephemeral containers (with env) here. */
const SUBRESOURCES = ["pods/ephemeralcontainers"];

export function webhookConfiguration(r: WebhookRegistration): k8s.V1ValidatingWebhookConfiguration {
  const caBundle = Buffer.from(r.caBundlePem).toString("base64");
  const clientConfig: k8s.AdmissionregistrationV1WebhookClientConfig =
    "url" in r.target
      ? { url: r.target.url, caBundle }
      : { service: { ...r.target.service, path: "/validate" }, caBundle };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: r.name, labels: { "app.kubernetes.io/managed-by": "ai-api-guard" } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig,
        rules: admissionRules(r.kinds ?? reviewedKinds()),
        admissionReviewVersions: ["v1"],
        // It records Events for what it refuses or admits with a finding: a side effect it skips on dry runs.
        sideEffects: "NoneOnDryRun",
        matchPolicy: "Equivalent",
        failurePolicy: r.failurePolicy,
        timeoutSeconds: r.timeoutSeconds,
        namespaceSelector: namespaceSelector(r),
      },
    ],
  };
}

/** Every namespace but the exempt ones (the API server refuses NotIn with no values), narrowed by labels if given. */
function namespaceSelector(r: WebhookRegistration): k8s.V1LabelSelector {
  const selector: k8s.V1LabelSelector = {};
  if (r.exemptNamespaces.length > 0) {
    selector.matchExpressions = [
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...r.exemptNamespaces] },
    ];
  }
  if (r.namespaceLabels && Object.keys(r.namespaceLabels).length > 0) selector.matchLabels = r.namespaceLabels;
  return selector;
}

const PATH = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

export async function registerWebhook(rest: KubeRest, registration: WebhookRegistration): Promise<void> {
  await rest.apply(`${PATH}/${registration.name}`, webhookConfiguration(registration), { force: true });
}

/** How long removing the configuration on the way down may take: a shutdown must end within the grace period. */
const UNREGISTER_TIMEOUT_MS = 5_000;

/** Removes the configuration; a configuration that is already gone is not an error. */
export async function unregisterWebhook(rest: KubeRest, name: string): Promise<void> {
  try {
    await rest.request(`${PATH}/${name}`, { method: "DELETE", signal: AbortSignal.timeout(UNREGISTER_TIMEOUT_MS) });
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}
