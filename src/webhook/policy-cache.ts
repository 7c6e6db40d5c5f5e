// The current AiApiPolicy objects as the webhook needs them, kept from the shared policy informer.
// Each policy is parsed once per change (by the informer's transform) and turned into a view once per
// change here; the array the webhook reads is rebuilt only when a view changed, on the next read.
import type { AiApiPolicy } from "../api/index.ts";
import { KIND } from "../api/index.ts";
import { registeredApi } from "../engine/rules/unregistered-ai-api.ts";
import type { CachedPolicy } from "../kube/cached.ts";
import type { Informer } from "../kube/informer.ts";
import type { Logger } from "../observability/logger.ts";
import type { PolicyView } from "./policies.ts";

export interface PolicyCache {
  /** The same array until a policy changes. */
  views(): readonly PolicyView[];
  synced(): boolean;
}

export function policyView(policy: AiApiPolicy): PolicyView {
  return {
    ...registeredApi(policy),
    action: policy.spec.admission.action,
    ...(policy.spec.admission.unregisteredAction && { unregisteredAction: policy.spec.admission.unregisteredAction }),
  };
}

export function policyCache(policies: Informer<CachedPolicy>, logger: Logger): PolicyCache {
  const byKey = new Map<string, PolicyView>();
  let views: readonly PolicyView[] | undefined = [];

  policies.on(({ type, object }) => {
    if (type === "resync") return;
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    const had = byKey.delete(key);
    if (type !== "delete" && object.policy) byKey.set(key, policyView(object.policy));
    else if (type !== "delete") {
      logger.warn(
        { kind: KIND, namespace: object.metadata.namespace, name: object.metadata.name, error: object.error },
        "ignoring an invalid policy",
      );
      if (!had) return;
    }
    views = undefined;
  });

  return {
    views: () => {
      views ??= [...byKey.values()];
      return views;
    },
    synced: policies.synced,
  };
}
