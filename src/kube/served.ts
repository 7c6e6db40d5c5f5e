// Whether the API server serves a resource (its CRD is installed), asked of discovery and remembered
// for a minute, so a cluster without Cilium or Traefik costs one read a minute, not one per reconcile.
import type { Resource } from "./resources.ts";
import { isStatus, type KubeRest } from "./rest.ts";

const TTL_MS = 60_000;
const known = new WeakMap<KubeRest, Map<string, { served: boolean; at: number }>>();

export async function served(rest: KubeRest, resource: Resource, signal?: AbortSignal): Promise<boolean> {
  const byResource = known.get(rest) ?? new Map<string, { served: boolean; at: number }>();
  known.set(rest, byResource);
  const key = `${resource.group}/${resource.version}/${resource.plural}`;
  const hit = byResource.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.served;
  let isServed: boolean;
  try {
    const list = await rest.request<{ resources?: { name: string }[] }>(`/apis/${resource.group}/${resource.version}`, {
      signal,
    });
    isServed = (list.resources ?? []).some((r) => r.name === resource.plural);
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    isServed = false;
  }
  byResource.set(key, { served: isServed, at: Date.now() });
  return isServed;
}
