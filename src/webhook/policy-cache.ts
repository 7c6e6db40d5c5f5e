// The current AiApiPolicy objects, as the webhook needs them, from a self-healing informer. Invalid
// objects (which the CRD schema should already refuse) are logged by name and left out.
import * as k8s from "@kubernetes/client-node";
import {
  type AiApiPolicy,
  API_GROUP,
  API_VERSION,
  endpointHost,
  KIND,
  PLURAL,
  parseAiApiPolicy,
} from "../api/index.ts";
import { resilientInformer } from "../kube/informer.ts";
import type { Logger } from "../observability/logger.ts";
import type { PolicyView } from "./policies.ts";

export interface PolicyCache {
  views(): readonly PolicyView[];
  synced(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function policyView(policy: AiApiPolicy): PolicyView {
  return {
    namespace: policy.metadata.namespace ?? "",
    name: policy.metadata.name,
    endpointHost: endpointHost(policy),
    selector: policy.spec.selector,
    action: policy.spec.admission.action,
  };
}

export function policyCache(kc: k8s.KubeConfig, logger: Logger): PolicyCache {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  let views: readonly PolicyView[] = [];
  let crdMissingLogged = false;

  const list = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
    try {
      return await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL });
    } catch (error) {
      // Without the CRD there are no policies: review with the default action, and say how to add it.
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
      if (!crdMissingLogged) logger.warn("the AiApiPolicy CRD is not installed; run `kubectl apply -f crds/`");
      crdMissingLogged = true;
      return { apiVersion: "v1", kind: "List", metadata: {}, items: [] };
    }
  };

  const informer = resilientInformer({
    kubeConfig: kc,
    path: `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`,
    list,
    logger,
    onChange: () => {
      views = informer.list().flatMap((raw) => {
        const parsed = parseAiApiPolicy(raw);
        if (parsed.ok) return [policyView(parsed.policy)];
        logger.warn(
          { kind: KIND, namespace: raw.metadata?.namespace, name: raw.metadata?.name, error: parsed.error },
          "ignoring an invalid policy",
        );
        return [];
      });
    },
  });

  return { views: () => views, synced: informer.synced, start: informer.start, stop: informer.stop };
}
