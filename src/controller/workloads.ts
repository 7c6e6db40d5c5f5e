// Secret mounts on one workload: the union of every policy of its namespace that selects it, mounts
// credentials, and whose Secret exists (a mount of a missing Secret would leave pods pending).
// Applied only when the cached template differs; a failure is returned for the condition, not thrown.
import type { CachedSecret, CachedWorkload } from "../kube/cached.ts";
import type { Informer } from "../kube/informer.ts";
import { apiVersionOf, type Resource } from "../kube/resources.ts";
import type { Context } from "./controller.ts";
import { refusal } from "./failures.ts";
import { canonical, currentWorkloadPatch, ownedName, selects, workloadIntent, workloadPatch } from "./intents.ts";

export interface WorkloadResult {
  changed: boolean;
  /** Kind/name and why, when the apply failed. */
  failure?: string;
}

export async function convergeWorkload(
  ctx: Context,
  resource: Resource,
  workload: CachedWorkload,
  secrets: Informer<CachedSecret>,
): Promise<WorkloadResult> {
  const namespace = workload.metadata.namespace ?? "";
  const mounting = ctx.active.filter((p) => {
    const secretName = p.spec.credentials?.secretName;
    return secretName !== undefined && selects(p, workload) && secrets.get(namespace, secretName) !== undefined;
  });
  const patch = workloadPatch(workload, mounting);
  if (canonical(patch) === canonical(currentWorkloadPatch(workload))) return { changed: false };
  const volume = ownedName(ctx.policy.metadata.name);
  const had = workload.volumes.some((v) => v.name === volume);
  const has = patch.volumes.some((v) => v.name === volume);
  const subject = `${workload.kind}/${workload.metadata.name}`;
  try {
    await ctx.apply(resource, workloadIntent(apiVersionOf(resource), workload, patch), false);
  } catch (error) {
    const why = refusal(error);
    ctx.event("Warning", why.reason, `Could not update the Secret mount of ${subject}: ${why.message}`);
    return { changed: false, failure: `${subject}: ${why.reason}: ${why.message}` };
  }
  const secretName = ctx.policy.spec.credentials?.secretName;
  if (!had && has) ctx.event("Normal", "SecretMounted", `Mounted Secret ${secretName} read-only into ${subject}.`);
  else if (had && !has)
    ctx.event("Normal", "SecretUnmounted", `Removed the mount of Secret ${secretName} from ${subject}.`);
  else ctx.event("Normal", "SecretMountUpdated", `Updated the Secret mounts of ${subject}.`);
  return { changed: true };
}
