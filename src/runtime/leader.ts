// Leader election with a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does it:
// take the Lease by create, or by update with its resourceVersion (409: someone else won), when it
// is free, released, or not renewed for leaseDuration as seen on this replica's clock (never the
// holder's timestamps: clocks differ). The holder renews every retryPeriod; if it cannot renew within
// renewDeadline it stops leading at once. On shutdown it releases the Lease so a standby takes over
// on its next try instead of waiting the Lease out.
import type { Logger } from "pino";
import { describeError } from "../kube/errors.ts";
import { collectionPath, objectPath, resources } from "../kube/resources.ts";
import { isStatus, type KubeRest } from "../kube/rest.ts";
import { delay, type Elect } from "./manager.ts";

export interface LeaseOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onChange?: (leading: boolean) => void;
}

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export function leaseElector(options: LeaseOptions): Elect {
  const { rest, namespace, name, identity, logger } = options;
  const path = objectPath(resources.lease, namespace, name);
  let observed: { record: string; at: number } | undefined;
  let current: LeaseObject | undefined;

  const microTime = () => new Date().toISOString().replace("Z", "000Z");

  /** One attempt to take or renew the Lease; true when this replica holds it afterwards. */
  const tryAcquireOrRenew = async (signal: AbortSignal): Promise<boolean> => {
    const now = microTime();
    const spec = (previous?: LeaseObject["spec"]) => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
      acquireTime: previous?.holderIdentity === identity ? (previous.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous?.holderIdentity === identity ? 0 : 1),
    });
    let lease: LeaseObject;
    try {
      lease = await rest.request<LeaseObject>(path, { signal });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      current = await rest.request<LeaseObject>(collectionPath(resources.lease, namespace), {
        method: "POST",
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: spec() },
        signal,
      });
      return true;
    }
    const record = JSON.stringify(lease.spec);
    if (observed?.record !== record) observed = { record, at: Date.now() };
    const holder = lease.spec.holderIdentity ?? "";
    const expired = Date.now() > observed.at + (lease.spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== "" && holder !== identity && !expired) {
      current = undefined;
      return false;
    }
    current = await rest.request<LeaseObject>(path, {
      method: "PUT",
      body: { ...lease, spec: spec(lease.spec) },
      signal,
    });
    observed = { record: JSON.stringify(current.spec), at: Date.now() };
    return true;
  };

  const attempt = async (signal: AbortSignal): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew(signal);
    } catch (error) {
      if (!signal.aborted && !isStatus(error, 409))
        logger.warn(
          { lease: `${namespace}/${name}`, error: describeError(error) },
          "could not take or renew the Lease",
        );
      return false;
    }
  };

  const release = async () => {
    if (!current) return;
    try {
      await rest.request(path, {
        method: "PUT",
        body: {
          ...current,
          spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime() },
        },
        // Bounded: an API server that does not answer must not hold the shutdown past the kubelet's grace period.
        signal: AbortSignal.timeout(options.renewDeadlineMs),
      });
      logger.info({ lease: `${namespace}/${name}` }, "released the Lease");
    } catch (error) {
      logger.warn({ error: describeError(error) }, "could not release the Lease; a standby takes over when it expires");
    }
    current = undefined;
  };

  return async (signal, onLeading) => {
    while (!signal.aborted) {
      if (!(await attempt(signal))) {
        await delay(options.retryPeriodMs, signal);
        continue;
      }
      logger.info({ lease: `${namespace}/${name}`, identity }, "leading: this replica reconciles");
      options.onChange?.(true);
      const lost = new AbortController();
      const leading = onLeading(lost.signal);
      let lastRenew = Date.now();
      while (!signal.aborted && !lost.signal.aborted) {
        await delay(options.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await attempt(AbortSignal.timeout(options.renewDeadlineMs))) lastRenew = Date.now();
        else if (Date.now() - lastRenew >= options.renewDeadlineMs || current === undefined) {
          logger.warn({ lease: `${namespace}/${name}` }, "lost the Lease: stopping the controller");
          lost.abort(new Error("leadership lost"));
        }
      }
      lost.abort(new Error("stopping"));
      await leading;
      options.onChange?.(false);
      if (signal.aborted) await release();
      current = undefined;
    }
  };
}
