// The operator's runtime: runnables started in order under one AbortSignal, torn down in reverse
// order in `finally`, so a failure at any step of startup (a port in use, a 403 registering the
// webhook) ends the process instead of leaving informers and timers running. Runnables that need
// the Lease start only while this replica holds it, under a signal that aborts the moment it is lost.
import type { Logger } from "pino";

export interface Runnable {
  name: string;
  /** Only the Lease holder runs it (the controller); the rest run on every replica (webhook, caches). */
  needsLeader: boolean;
  /** Resolves once started; `signal` aborts when the process stops or, for leader runnables, the Lease is lost. */
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** Calls onLeading with a signal that aborts when leadership ends; resolves when `signal` aborts (after releasing). */
export type Elect = (signal: AbortSignal, onLeading: (lost: AbortSignal) => Promise<void>) => Promise<void>;

export interface ManagerOptions {
  logger: Logger;
  runnables: readonly Runnable[];
  /** Leader election; without it this replica leads from the start. */
  elect?: Elect;
  /** Called once every runnable that does not need the Lease has started. */
  onStarted?: () => void;
}

export async function runManager(signal: AbortSignal, options: ManagerOptions): Promise<void> {
  const { logger } = options;
  const started: Runnable[] = [];
  const stopAll = async (list: Runnable[]) => {
    for (const runnable of list.reverse()) {
      try {
        await runnable.stop();
      } catch (error) {
        logger.error({ runnable: runnable.name, error: (error as Error).message }, "could not stop cleanly");
      }
    }
    list.length = 0;
  };
  const leading: Runnable[] = [];
  const lead = async (lost: AbortSignal) => {
    const both = AbortSignal.any([signal, lost]);
    try {
      for (const runnable of options.runnables.filter((r) => r.needsLeader)) {
        if (both.aborted) break;
        await runnable.start(both);
        leading.push(runnable);
      }
      await aborted(both);
    } finally {
      await stopAll(leading);
    }
  };

  try {
    for (const runnable of options.runnables.filter((r) => !r.needsLeader)) {
      signal.throwIfAborted();
      logger.debug({ runnable: runnable.name }, "starting");
      await runnable.start(signal);
      started.push(runnable);
    }
    options.onStarted?.();
    if (options.elect) await options.elect(signal, lead);
    else await lead(new AbortController().signal);
  } finally {
    await stopAll(leading);
    await stopAll(started);
  }
}

export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
