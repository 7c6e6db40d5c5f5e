// Secret mounts on one workload: the union of every policy of its namespace that selects it, mounts
// credentials, and whose Secret exists (a mount of a missing Secret would leave pods pending).
// Applied only when the cached template differs; a failure is returned for the condition, not thrown.

import { workloadKind } from "../api/workload-kinds.ts";
import { shownName } from "../engine/index.ts";
import type { CachedSecret, CachedWorkload } from "../kube/cached.ts";
import type { Informer } from "../kube/informer.ts";
import { canonical } from "../kube/order.ts";
import type { Resource } from "../kube/resources.ts";
import type { Context } from "./controller.ts";
import { type Refusal, refusal } from "./failures.ts";
import {
  currentWorkloadPatch,
  type MountClash,
  ownedName,
  selects,
  withoutClashes,
  workloadIntent,
  workloadPatch,
} from "./intents.ts";

/** A workload whose apply failed: which one (Kind/name) and why. */
export interface WorkloadFailure extends Refusal {
  subject: string;
}

export interface WorkloadResult {
  changed: boolean;
  failure?: WorkloadFailure;
  /** The policy is not mounted here: its mountPath is another's. A condition to show, not a write to retry. */
  clash?: WorkloadFailure;
}

/**
 * Kind/name as conditions, Events and the status show a workload: a name that holds a key (a DeepSeek key
 * is a valid name) by its hint.
 */
export function workloadSubject(workload: CachedWorkload): string {
  return `${workload.kind}/${shownName(workload.metadata.name)}`;
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
  const { kept, clashes } = withoutClashes(workload, mounting);
  const subject = workloadSubject(workload);
  const clash = clashWith(
    subject,
    clashes.find((c) => c.policy === ctx.policy.metadata.name),
  );
  const patch = workloadPatch(workload, kept);
  if (canonical(patch) === canonical(currentWorkloadPatch(workload))) return { changed: false, clash };
  const volume = ownedName(ctx.policy);
  const had = workload.volumes.some((v) => v.name === volume);
  const has = patch.volumes.some((v) => v.name === volume);
  const row = workloadKind(resource.group, resource.kind);
  if (!row) throw new Error(`${subject}: not a kind of the workload kinds table`);
  try {
    await ctx.apply(resource, workloadIntent(row, workload, patch), false);
  } catch (error) {
    return {
      changed: false,
      clash,
      failure: failedWrite(ctx, error, subject, `update the Secret mount of ${subject}`),
    };
  }
  const secretName = shownName(ctx.policy.spec.credentials?.secretName ?? "");
  if (!had && has) ctx.event("Normal", "SecretMounted", `Mounted Secret ${secretName} read-only into ${subject}.`);
  else if (had && !has)
    ctx.event("Normal", "SecretUnmounted", `Removed the mount of Secret ${secretName} from ${subject}.`);
  else ctx.event("Normal", "SecretMountUpdated", `Updated the Secret mounts of ${subject}.`);
  return { changed: true, clash };
}

function clashWith(subject: string, clash: MountClash | undefined): WorkloadFailure | undefined {
  if (!clash) return undefined;
  return {
    subject,
    reason: "MountPathInUse",
    message: `not mounted: policy ${shownName(clash.holder)} already mounts its Secret at ${clash.mountPath} in container ${shownName(clash.container)}; set a different spec.credentials.mountPath (or spec.credentials.containers).`,
  };
}
