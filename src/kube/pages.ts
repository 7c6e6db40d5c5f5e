// Listing a kind in pages (limit/continue): memory is bounded by the page, not by the cluster.
import { setTimeout as sleep } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import { CORE_KINDS } from "../api/workload-kinds.ts";
import type { Json } from "../engine/objects.ts";

export interface ResourceType {
  apiVersion: string;
  kind: string;
}

/** The core kinds that run pods (the workload table's; PodTemplates run nothing), as the audit lists them. */
export const WORKLOAD_TYPES: readonly ResourceType[] = CORE_KINDS.filter(
  (k) => k.podSpecs.length > 0 && k.kind !== "PodTemplate",
).map((k) => ({ apiVersion: k.group ? `${k.group}/${k.version}` : k.version, kind: k.kind }));

export const CONFIGMAP_TYPE: ResourceType = { apiVersion: "v1", kind: "ConfigMap" };

const WORKLOAD_KINDS = new Set(WORKLOAD_TYPES.map((t) => t.kind));

/**
 * The items of one kind, a page at a time, each with its apiVersion and kind set (list items carry
 * neither): in each of `namespaces`, or in every namespace when absent.
 */
export async function* listPages(
  kc: k8s.KubeConfig,
  type: ResourceType,
  options: { namespaces?: readonly string[]; pageSize: number; labelSelector?: string },
): AsyncGenerator<Json[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const namespace of options.namespaces ?? [undefined]) {
    let token: string | undefined;
    do {
      const page = await retryingTooManyRequests(() =>
        client.list(
          type.apiVersion,
          type.kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          options.labelSelector,
          options.pageSize,
          token,
        ),
      );
      yield page.items.map((item) => ({ ...(item as Json), apiVersion: type.apiVersion, kind: type.kind }));
      token = page.metadata?._continue || undefined;
    } while (token);
  }
}

const RETRIES = 5;

/**
 * The API server answers 429 while it sheds load or while a new resource's storage initializes: wait as
 * long as it says (Retry-After, at most 10 s) and ask again, a few times.
 */
async function retryingTooManyRequests<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= RETRIES || !(error instanceof k8s.ApiException) || error.code !== 429) throw error;
      const seconds = Number((error.headers as Record<string, string> | undefined)?.["retry-after"]) || 1;
      await sleep(Math.min(seconds, 10) * 1000);
    }
  }
}

/**
 * False for a workload another listed workload controls (a Deployment's ReplicaSets, their Pods, a
 * CronJob's Jobs): it is reported once, at the top. A workload owned by anything else (an operator's
 * custom resource) is its own top.
 */
export function isTopLevel(object: Json): boolean {
  const metadata = (object.metadata ?? {}) as { ownerReferences?: { kind?: string; controller?: boolean }[] };
  return !(metadata.ownerReferences ?? []).some((o) => o.controller && WORKLOAD_KINDS.has(o.kind ?? ""));
}
