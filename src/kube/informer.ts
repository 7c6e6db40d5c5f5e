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
  /** Called after every add/update/delete and after each (re)list. */
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
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  // client-node does not list before it watches unless asked by start(); it calls the list function,
  // which is where we learn that the (re)list worked.
  const list: k8s.ListPromise<T> = async () => {
    const result = await options.list();
    listed = true;
    failures = 0;
    queueMicrotask(onChange);
    return result;
  };
  const informer = k8s.makeInformer(options.kubeConfig, options.path, list);
  for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, () => onChange());

  const schedule = (delayMs: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => void restart(why), delayMs);
    timer.unref();
  };

  const restart = async (why: string) => {
    if (stopped) return;
    logger.debug({ path: options.path, why }, "restarting informer");
    await informer.stop();
    if (stopped) return;
    try {
      await informer.start();
      schedule(resyncMs, "resync");
    } catch (error) {
      onError(error);
    }
  };

  const onError = (error: unknown) => {
    if (stopped) return;
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
      try {
        await informer.start();
        schedule(resyncMs, "resync");
      } catch (error) {
        onError(error);
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
