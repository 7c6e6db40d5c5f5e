// Secret mounts on one workload: the union of every policy of its namespace that selects it, mounts
// credentials, and whose Secret exists (a mount of a missing Secret would leave pods pending).
// Applied only when the cached template differs; a failure is returned for the condition, not thrown.

import { workloadKind } from "../api/workload-kinds.ts";
import type { CachedSecret, CachedWorkload } from "../kube/cached.ts";
import type { Informer } from "../kube/informer.ts";
import type { Resource } from "../kube/resources.ts";
import type { Context } from "./controller.ts";
import { type Refusal, refusal } from "./failures.ts";
import { canonical, currentWorkloadPatch, ownedName, selects, workloadIntent, workloadPatch } from "./intents.ts";

/** A workload whose apply failed: which one (Kind/name) and why. */
export interface WorkloadFailure extends Refusal {
  subject: string;
}

export interface WorkloadResult {
  changed: boolean;
  failure?: WorkloadFailure;
}

/** One line for a condition's message or an error: "Deployment/app: AdmissionRefused: ...". */
export function describeFailure({ subject, reason, message }: WorkloadFailure): string {
  return `${subject}: ${reason}: ${message}`;
}

/**
 * A write that failed: a Warning Event saying what could not be done and why (redacted), and the failure.
 * A write cut off by the loss of the Lease is no failure of the policy: the reconcile ends there.
 */
export function failedWrite(ctx: Context, error: unknown, subject: string, what: string): WorkloadFailure {
  ctx.signal.throwIfAborted();
  const failure = { subject, ...refusal(error) };
  ctx.event("Warning", failure.reason, `Could not ${what}: ${failure.message}`);
  return failure;
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
  const row = workloadKind(resource.group, resource.kind);
  if (!row) throw new Error(`${subject}: not a kind of the workload kinds table`);
  try {
    await ctx.apply(resource, workloadIntent(row, workload, patch), false);
  } catch (error) {
    return { changed: false, failure: failedWrite(ctx, error, subject, `update the Secret mount of ${subject}`) };
  }
  const secretName = ctx.policy.spec.credentials?.secretName;
  if (!had && has) ctx.event("Normal", "SecretMounted", `Mounted Secret ${secretName} read-only into ${subject}.`);
  else if (had && !has)
    ctx.event("Normal", "SecretUnmounted", `Removed the mount of Secret ${secretName} from ${subject}.`);
  else ctx.event("Normal", "SecretMountUpdated", `Updated the Secret mounts of ${subject}.`);
  return { changed: true };
}
