// The controller: informer events and resyncs put policy keys (namespace/name) on the work queue;
// reconcilePolicy makes the cluster match one policy and writes what it saw to the status. Runs only
// on the Lease holder; every write is a server-side apply under field manager ai-api-guard, sent
// only when the cached state differs from the intent, so a converged policy costs no write.
import type { Logger } from "pino";
import {
  type AiApiPolicy,
  type AiApiPolicyStatus,
  API_GROUP,
  API_VERSION,
  KIND,
  ownerToken,
  reviewState,
} from "../api/index.ts";
import { shownName } from "../engine/index.ts";
import type { CachedPolicy, CachedWorkload } from "../kube/cached.ts";
import { describeError } from "../kube/errors.ts";
import type { RecordEvent } from "../kube/events.ts";
import type { InformerEvent } from "../kube/informer.ts";
import type { SharedInformers } from "../kube/informers.ts";
import { apiVersionOf, objectPath, type Resource, resourceKey, resources } from "../kube/resources.ts";
import { FIELD_MANAGER, isStatus, type KubeRest } from "../kube/rest.ts";
import type { ControllerMetrics } from "../observability/metrics.ts";
import type { Runnable } from "../runtime/manager.ts";
import {
  buildStatus,
  type Observations,
  type Observed,
  READY_PARTS,
  sameStatus,
  turnedFailing,
  turnedTrue,
} from "./conditions.ts";
import { credentialObservations } from "./credentials.ts";
import { egress } from "./egress.ts";
import { onlyEmptyOwnedConflicts } from "./empty-owned.ts";
import { redacted } from "./failures.ts";
import { ownedName, POLICY_LABEL, selects } from "./intents.ts";
import { type WorkQueue, workQueue } from "./queue.ts";
import { rateLimits } from "./rate-limits.ts";
import { convergeWorkload, describeFailure, type WorkloadFailure, workloadSubject } from "./workloads.ts";

export const FINALIZER = "aiapiguard.dev/cleanup";

export interface ControllerOptions {
  rest: KubeRest;
  informers: SharedInformers;
  logger: Logger;
  metrics: ControllerMetrics;
  events: RecordEvent;
  now?: () => Date;
  workers?: number;
}

/** What a reconcile step hands to the parts: the clients, the caches and a way to say what it did. */
export interface Context {
  rest: KubeRest;
  informers: SharedInformers;
  metrics: ControllerMetrics;
  /** Aborts when the Lease is lost or the process stops: no write or Event after it. */
  signal: AbortSignal;
  policy: AiApiPolicy;
  /** The namespace's policies that are not being deleted, the reconciled one included unless it is. */
  active: AiApiPolicy[];
  event(type: "Normal" | "Warning", reason: string, message: string): void;
  /** A server-side apply, counted; `force` only for objects ai-api-guard owns whole. */
  apply(
    resource: Resource,
    body: { metadata: { name: string; namespace?: string } },
    force: boolean,
    subresource?: string,
  ): Promise<void>;
  remove(resource: Resource, namespace: string, name: string): Promise<boolean>;
}

export interface Controller extends Runnable {
  queue: WorkQueue;
}

export function createController(options: ControllerOptions): Controller {
  const { rest, informers, logger, metrics } = options;
  const now = options.now ?? (() => new Date());
  const policies = informers.policies();
  const workloadInformers = informers.workloads();
  const ingresses = informers.ingresses();
  const secrets = informers.secrets();
  const networkPolicies = informers.networkPolicies();
  const log = logger.child({ controller: "aiapipolicy" });
  let running: Promise<void> | undefined;
  const unsubscribe: (() => void)[] = [];
  /**
   * The status this leader last wrote, by policy key. A reconcile that its own writes queued (the finalizer,
   * a mount) can run before the watch brings that status into the cache: decided against the cache's older
   * status, every condition would turn again, and its Warning Event would be told twice.
   */
  const written = new Map<string, { uid?: string; status: AiApiPolicyStatus }>();

  const queue = workQueue({
    name: "aiapipolicy",
    workers: options.workers,
    metrics,
    reconcile: (key, signal) => reconcile(key, signal).then(() => undefined),
    // Redacted: a refusal's message may quote the object it refused (another webhook, an admission policy).
    onError: (key, error, retryInMs) =>
      log.warn({ policy: key, error: redacted(describeError(error)), retryInMs }, "reconcile failed; will retry"),
  });

  const enqueueNamespace = (namespace: string, wants: (policy: AiApiPolicy) => boolean) => {
    for (const cached of policies.list(namespace)) {
      if (cached.policy && wants(cached.policy)) queue.add(keyOf(cached));
    }
  };

  const onPolicy = ({ object }: InformerEvent<CachedPolicy>) => queue.add(keyOf(object));
  const onWorkload = ({ type, object, old }: InformerEvent<CachedWorkload>) => {
    if (type === "update" && old && sameWorkload(old, object)) return;
    const carries = (p: AiApiPolicy) => object.volumes.some((v) => v.name === ownedName(p));
    const selected = (w: CachedWorkload | undefined) => (p: AiApiPolicy) => w !== undefined && selects(p, w);
    enqueueNamespace(object.metadata.namespace ?? "", (p) => selected(object)(p) || selected(old)(p) || carries(p));
  };

  /**
   * Every cache a reconcile reads, listed: a reconcile on a cache still empty would act on objects it
   * cannot see (a Secret not listed yet reads as missing, and its mounts would be taken off).
   */
  const untilSynced = async (signal: AbortSignal) => {
    const caches = [policies, ...workloadInformers, ingresses, secrets, networkPolicies];
    const waiting = caches.filter((cache) => !cache.synced());
    if (waiting.length === 0) return;
    const resources = waiting.map((cache) => resourceKey(cache.resource));
    log.warn({ resources }, "waiting for these caches to be listed before reconciling");
    await Promise.all(waiting.map((cache) => cache.waitForSync(signal)));
    if (!signal.aborted) log.info({ resources }, "caches listed; reconciling");
  };

  const reconcile = async (key: string, signal: AbortSignal) => {
    const [namespace = "", name = ""] = key.split("/");
    const cached = policies.get(namespace, name);
    if (!cached) {
      // Deleted: its NetworkPolicy and Middlewares go with it (ownerReferences), its gauges with it here.
      for (const gauge of freshnessGauges) gauge.remove(freshnessLabels(namespace, name));
      written.delete(key);
      return;
    }
    if (!cached.policy) {
      options.events({
        type: "Warning",
        reason: "InvalidPolicy",
        object: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, namespace, name, uid: cached.metadata.uid },
        message: `The policy does not match the AiApiPolicy schema and is ignored: ${cached.error}`,
      });
      return;
    }
    const policy = cached.policy;
    const deleting = cached.metadata.deletionTimestamp !== undefined;
    const active = policies
      .list(namespace)
      .flatMap((c) => (c.policy && c.metadata.deletionTimestamp === undefined ? [c.policy] : []));
    const ctx = context(policy, active, signal);
    if (deleting) return finalize(ctx, cached);
    if (!cached.metadata.finalizers?.includes(FINALIZER)) {
      await ctx.apply(resources.policy, policyMeta(policy, [FINALIZER]), false);
    }
    const currentTime = now();
    const workloads = workloadInformers.flatMap((inf) =>
      inf.list(namespace).map((w) => ({ resource: inf.resource, workload: w })),
    );
    const matched = workloads.filter(({ workload }) => selects(policy, workload));
    const credentials = credentialObservations(
      policy,
      secrets.get(namespace, policy.spec.credentials?.secretName ?? ""),
      currentTime,
    );
    const failures: WorkloadFailure[] = [];
    const clashes: WorkloadFailure[] = [];
    let changed = 0;
    for (const { resource, workload } of workloads) {
      const carries = workload.volumes.some((v) => v.name === ownedName(policy));
      if (!carries && !selects(policy, workload)) continue;
      const result = await convergeWorkload(ctx, resource, workload, secrets);
      if (result.changed) changed += 1;
      if (result.failure) failures.push(result.failure);
      if (result.clash) clashes.push(result.clash);
    }
    const credentialsReady = credentials.ready(matched.length, changed, [...failures, ...clashes]);
    const egressObserved = await egress(ctx, networkPolicies.get(namespace, ownedName(policy)));
    if (egressObserved.failure) failures.push(egressObserved.failure);
    const rateLimitResult = await rateLimits(ctx, ingresses);
    failures.push(...rateLimitResult.failures);
    const observations: Observations = {
      EgressReady: egressObserved.observed,
      CredentialsReady: credentialsReady,
      RateLimitReady: rateLimitResult.observed,
      ReviewOverdue: review(policy, currentTime),
      CredentialRotationOverdue: credentials.rotation,
    };
    const last = written.get(key);
    const previous = last && last.uid === cached.metadata.uid ? last.status : policy.status;
    const status = buildStatus(
      { ...policy, status: previous },
      observations,
      matched.map(({ workload }) => workloadSubject(workload)),
      egressObserved.networkPolicy,
      currentTime,
    );
    recordFreshness(policy, observations, credentials.ageDays);
    if (!sameStatus(policy.status, status)) {
      for (const type of ["ReviewOverdue", "CredentialRotationOverdue"] as const) {
        if (turnedTrue(previous, status, type)) ctx.event("Warning", type, observations[type].message);
      }
      // A part that stopped being in place without a failed write (those had their Event): a missing Secret
      // or Ingress, a mountPath or an annotation another holds. Once per reason, not on every reconcile.
      const evented = new Set(failures.map((f) => f.reason));
      for (const type of READY_PARTS) {
        const failing = turnedFailing(previous, status, type);
        if (failing && !evented.has(failing.reason)) ctx.event("Warning", failing.reason, failing.message);
      }
      await ctx.apply(resources.policy, { ...policyMeta(policy), status } as never, true, "status");
      written.set(key, { uid: cached.metadata.uid, status });
    }
    if (failures.length > 0) throw new Error(`not converged: ${failures.map(describeFailure).join("; ")}`);
  };

  /** Deletion: remove exactly what ai-api-guard added for this policy, then let the policy go. */
  const finalize = async (ctx: Context, cached: CachedPolicy) => {
    const policy = ctx.policy;
    const namespace = policy.metadata.namespace ?? "";
    for (const inf of workloadInformers) {
      for (const workload of inf.list(namespace)) {
        if (!workload.volumes.some((v) => v.name === ownedName(policy))) continue;
        const result = await convergeWorkload(ctx, inf.resource, workload, secrets);
        if (result.failure) throw new Error(describeFailure(result.failure));
      }
    }
    const [limitFailure] = (await rateLimits(ctx, ingresses)).failures;
    if (limitFailure) throw new Error(describeFailure(limitFailure));
    const { failure: egressFailure } = await egress(ctx, networkPolicies.get(namespace, ownedName(policy)));
    if (egressFailure) throw new Error(describeFailure(egressFailure));
    if (!(await releaseFinalizer(cached, ctx.signal))) return;
    ctx.event(
      "Normal",
      "CleanedUp",
      "Removed the NetworkPolicy, mounts, annotations and Middlewares ai-api-guard added.",
    );
  };

  /**
   * Takes ai-api-guard's finalizer off the policy; false when the policy is gone already (a reconcile on a
   * cache that had not yet seen it go). A JSON patch with tests rather than an apply: an apply to an object
   * that is gone creates it (refused here, as the spec is required: a failed reconcile on every deletion), and
   * the tests make sure the entry taken off is ours, on this policy, not on one of the same name made since.
   */
  const releaseFinalizer = async (cached: CachedPolicy, signal: AbortSignal): Promise<boolean> => {
    const { name, namespace = "", uid, finalizers = [] } = cached.metadata;
    const index = finalizers.indexOf(FINALIZER);
    if (index < 0) return true;
    metrics.writes.inc({ kind: resources.policy.kind, verb: "patch" });
    try {
      await rest.request(objectPath(resources.policy, namespace, name), {
        method: "PATCH",
        contentType: "application/json-patch+json",
        query: { fieldManager: FIELD_MANAGER },
        body: [
          { op: "test", path: "/metadata/uid", value: uid },
          { op: "test", path: `/metadata/finalizers/${index}`, value: FINALIZER },
          { op: "remove", path: `/metadata/finalizers/${index}` },
        ],
        signal,
      });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  };

  const review = (policy: AiApiPolicy, at: Date): Observed => {
    const state = reviewState(policy, at);
    switch (state.state) {
      case "Current":
        return {
          status: "False",
          reason: "ReviewCurrent",
          message: `The next security review is due on ${state.due}.`,
        };
      case "Overdue":
        return {
          status: "True",
          reason: "ReviewOverdue",
          message: `The security review was due on ${state.due}: review the API and set spec.api.lastReviewed.`,
        };
      case "NeverReviewed":
        return {
          status: "True",
          reason: "NeverReviewed",
          message: "spec.api.lastReviewed is not set: review the API and set it (YYYY-MM-DD).",
        };
      default:
        return {
          status: "True",
          reason: "LastReviewedInFuture",
          message: "spec.api.lastReviewed is in the future: set the date of the last review.",
        };
    }
  };

  const freshnessGauges = [metrics.credentialAgeDays, metrics.reviewOverdue, metrics.credentialRotationOverdue];
  const recordFreshness = (policy: AiApiPolicy, observations: Observations, ageDays: number | undefined) => {
    const labels = freshnessLabels(policy.metadata.namespace ?? "", policy.metadata.name);
    if (ageDays !== undefined) metrics.credentialAgeDays.set(labels, ageDays);
    else metrics.credentialAgeDays.remove(labels);
    metrics.reviewOverdue.set(labels, observations.ReviewOverdue.status === "True" ? 1 : 0);
    metrics.credentialRotationOverdue.set(labels, observations.CredentialRotationOverdue.status === "True" ? 1 : 0);
  };

  const context = (policy: AiApiPolicy, active: AiApiPolicy[], signal: AbortSignal): Context => ({
    rest,
    informers,
    metrics,
    signal,
    policy,
    active,
    event(type, reason, message) {
      // Lost the Lease: an Event now would tell of this replica's work beside the new leader's.
      if (signal.aborted) return;
      options.events({
        type,
        reason,
        object: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: KIND,
          namespace: policy.metadata.namespace ?? "",
          name: policy.metadata.name,
          uid: policy.metadata.uid,
        },
        message,
      });
    },
    async apply(resource, body, force, subresource) {
      const { name, namespace = "" } = body.metadata;
      const path = objectPath(resource, namespace, name, subresource);
      const intent = { apiVersion: apiVersionOf(resource), kind: resource.kind, ...body };
      const send = (forced: boolean) => {
        metrics.writes.inc({ kind: resource.kind, verb: subresource ?? "apply" });
        return rest.apply(path, intent, { force: forced, signal });
      };
      try {
        await send(force);
      } catch (error) {
        // Someone owns an empty map or list the intent adds entries to: taking that over takes nothing of theirs.
        if (force || !onlyEmptyOwnedConflicts(error, intent)) throw error;
        await send(true);
      }
    },
    async remove(resource, namespace, name) {
      try {
        metrics.writes.inc({ kind: resource.kind, verb: "delete" });
        await rest.request(objectPath(resource, namespace, name), { method: "DELETE", signal });
        return true;
      } catch (error) {
        if (isStatus(error, 404)) return false;
        throw error;
      }
    },
  });

  return {
    name: "controller",
    needsLeader: true,
    queue,
    async start(signal) {
      // Another leader may have written since this replica last led.
      written.clear();
      // Subscribed only while leading: a standby keeps its caches warm and does nothing else.
      unsubscribe.push(
        policies.on(onPolicy),
        ...workloadInformers.map((inf) => inf.on(onWorkload)),
        ingresses.on(({ object }) =>
          enqueueNamespace(
            object.metadata.namespace ?? "",
            (p) => p.spec.rateLimit?.ingresses.includes(object.metadata.name) ?? false,
          ),
        ),
        secrets.on(({ object }) =>
          enqueueNamespace(
            object.metadata.namespace ?? "",
            (p) => p.spec.credentials?.secretName === object.metadata.name,
          ),
        ),
        networkPolicies.on(({ object }) =>
          enqueueNamespace(
            object.metadata.namespace ?? "",
            (p) => ownerToken(p) === object.metadata.labels[POLICY_LABEL],
          ),
        ),
      );
      for (const cached of policies.list()) queue.add(keyOf(cached));
      running = untilSynced(signal).then(() => queue.run(signal));
    },
    async stop() {
      for (const off of unsubscribe.splice(0)) off();
      await running;
      // Only the leader reports the policies' freshness: a standby's old values would go stale.
      for (const gauge of freshnessGauges) gauge.reset();
    },
  };
}

/** As shown: a label value is kept by every scrape; a hint is as stable as the name it stands for. */
function freshnessLabels(namespace: string, name: string) {
  return { namespace: shownName(namespace), policy: shownName(name) };
}

function keyOf(object: { metadata: { namespace?: string; name: string } }): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** Metadata for an apply to the policy: finalizers when given (ai-api-guard's own entry only). */
function policyMeta(policy: AiApiPolicy, finalizers?: string[]) {
  return {
    metadata: {
      name: policy.metadata.name,
      namespace: policy.metadata.namespace,
      ...(finalizers && { finalizers }),
    },
  };
}

/** Changes the controller does not care about (status, replicas, other fields) leave the cached shape equal. */
function sameWorkload(a: CachedWorkload, b: CachedWorkload): boolean {
  return (
    JSON.stringify([a.templateLabels, a.containers, a.volumes, a.metadata.deletionTimestamp]) ===
    JSON.stringify([b.templateLabels, b.containers, b.volumes, b.metadata.deletionTimestamp])
  );
}
