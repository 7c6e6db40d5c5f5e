// `ai-api-guard uninstall`: what `helm uninstall` runs first (the chart's pre-delete hook Job), while the
// operator's RBAC still exists. It removes the webhook configuration, so no write is refused while the
// pods go, and the controller's finalizer from every AiApiPolicy, so no namespace deletion waits for a
// controller that is gone. What the controller added to workloads stays: removing mounts now would
// restart every selected pod in the middle of an uninstall.
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, PLURAL } from "../api/index.ts";
import { FINALIZER } from "../controller/controller.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { describeError } from "../kube/errors.ts";
import { KubeRest } from "../kube/rest.ts";
import { unregisterWebhook } from "../kube/webhook-configuration.ts";

const USAGE =
  "usage: ai-api-guard uninstall --webhook-config-name NAME [--kubeconfig PATH] [--context NAME]\n" +
  "Removes the webhook configuration NAME and ai-api-guard's finalizer from every AiApiPolicy.";

interface Policy {
  metadata: { name: string; namespace: string; finalizers?: string[] };
}

export async function main(argv: string[]): Promise<number> {
  let values: { "webhook-config-name"?: string; kubeconfig?: string; context?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        "webhook-config-name": { type: "string" },
        kubeconfig: { type: "string" },
        context: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`ai-api-guard uninstall: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const name = values["webhook-config-name"];
  if (!name) {
    console.error(`ai-api-guard uninstall: --webhook-config-name is required\n\n${USAGE}`);
    return 2;
  }
  try {
    const kc = loadKubeConfig(values.kubeconfig, values.context);
    await unregisterWebhook(new KubeRest(kc), name);
    console.log(`removed the webhook configuration ${name} (or it was already gone)`);
    const released = await releaseFinalizers(kc);
    console.log(`removed the finalizer ${FINALIZER} from ${released} AiApiPolicies`);
    return 0;
  } catch (error) {
    console.error(`ai-api-guard uninstall failed: ${describeError(error)}`);
    return 1;
  }
}

async function releaseFinalizers(kc: k8s.KubeConfig): Promise<number> {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = (await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL })) as {
    items: Policy[];
  };
  let released = 0;
  for (const policy of list.items) {
    const index = policy.metadata.finalizers?.indexOf(FINALIZER) ?? -1;
    if (index < 0) continue;
    // The test guards the index: a finalizer list that changed since the list is not cut in the wrong place.
    const body = [
      { op: "test", path: `/metadata/finalizers/${index}`, value: FINALIZER },
      { op: "remove", path: `/metadata/finalizers/${index}` },
    ];
    await api.patchNamespacedCustomObject(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural: PLURAL,
        namespace: policy.metadata.namespace,
        name: policy.metadata.name,
        body,
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    released++;
  }
  return released;
}
