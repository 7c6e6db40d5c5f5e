// A client-node informer that keeps itself alive. client-node's informer does not restart after an
// `error` event, and its watches are known to stop silently after minutes to hours
// (kubernetes-client/javascript#364, #596, #958). So: restart after errors with capped exponential
// backoff (a fixed-delay restart can storm the server, #1933), and restart on a resync period,
// which re-lists and so also catches any event a dead watch missed.
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { describeError } from "./errors.ts";

export interface ResilientInformerOptions<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  /** The watch path, e.g. /apis/aiapiguard.dev/v1alpha1/aiapipolicies */
  path: string;
  list: k8s.ListPromise<T>;
  /** Called after every add, update and delete the informer's cache sees. */
  onChange: () => void;
  logger: Logger;
  resyncMs?: number;
  maxBackoffMs?: number;
}

export interface ResilientInformer<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  /** True once the first list has completed. */
  synced(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function resilientInformer<T extends k8s.KubernetesObject>(
  options: ResilientInformerOptions<T>,
): ResilientInformer<T> {
  const { logger, onChange } = options;
  const resyncMs = options.resyncMs ?? 5 * 60_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let listed = false;
  let stopped = true;
  let failures = 0; // consecutive, for the backoff
  let errors = 0; // ever, to tell whether a start() failed
  let timer: NodeJS.Timeout | undefined;

  // The informer (re)lists through this function: where we learn that a list worked. Changes reach
  // onChange through the add/update/delete callbacks, which client-node also fires for a re-list.
  const list: k8s.ListPromise<T> = async () => {
    const result = await options.list();
    listed = true;
    failures = 0;
    return result;
  };
  const informer = k8s.makeInformer(options.kubeConfig, options.path, list);
  for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, () => onChange());

  const schedule = (delayMs: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => void restart(why), delayMs);
    timer.unref();
  };

  // client-node's start() reports a failed list through the error callback and still resolves, so
  // the resync is scheduled only when no error came in meanwhile (the error already scheduled a retry).
  const run = async () => {
    const errorsBefore = errors;
    try {
      await informer.start();
    } catch (error) {
      onError(error);
      return;
    }
    if (errors === errorsBefore && !stopped) schedule(resyncMs, "resync");
  };

  const restart = async (why: string) => {
    if (stopped) return;
    logger.debug({ path: options.path, why }, "restarting informer");
    await informer.stop();
    if (!stopped) await run();
  };

  const onError = (error: unknown) => {
    if (stopped) return;
    errors += 1;
    failures += 1;
    const delay = Math.min(maxBackoffMs, 500 * 2 ** Math.min(failures, 10));
    logger.warn({ path: options.path, error: describeError(error), retryInMs: delay }, "watch failed; will retry");
    schedule(delay, "error");
  };
  informer.on(k8s.ERROR, onError);

  return {
    list: () => informer.list(),
    synced: () => listed,
    async start() {
      stopped = false;
      await run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
