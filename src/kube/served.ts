// Whether the API server serves a resource (its CRD is installed), asked of discovery and remembered
// for a minute, so a cluster without Cilium or Traefik costs one read a minute, not one per reconcile.
// One read answers for every resource of a group version (the audit asks about 24 kinds in 9 of them).
import type { Resource } from "./resources.ts";
import { isStatus, type KubeRest } from "./rest.ts";

const TTL_MS = 60_000;
const known = new WeakMap<KubeRest, Map<string, { plurals: ReadonlySet<string>; at: number }>>();

export async function served(rest: KubeRest, resource: Resource, signal?: AbortSignal): Promise<boolean> {
  const byGroupVersion = known.get(rest) ?? new Map<string, { plurals: ReadonlySet<string>; at: number }>();
  known.set(rest, byGroupVersion);
  const groupVersion = `${resource.group}/${resource.version}`;
  let hit = byGroupVersion.get(groupVersion);
  if (!hit || Date.now() - hit.at >= TTL_MS) {
    hit = { plurals: await servedPlurals(rest, groupVersion, signal), at: Date.now() };
    byGroupVersion.set(groupVersion, hit);
  }
  return hit.plurals.has(resource.plural);
}

/** The resources discovery lists for a group version; none when it is not served at all. */
async function servedPlurals(rest: KubeRest, groupVersion: string, signal?: AbortSignal): Promise<Set<string>> {
  try {
    const list = await rest.request<{ resources?: { name: string }[] }>(`/apis/${groupVersion}`, { signal });
    return new Set((list.resources ?? []).map((r) => r.name));
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    return new Set();
  }
}
