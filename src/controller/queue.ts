// A keyed work queue in the manner of client-go's workqueue: a key waits at most once however often
// it is added (dedup); a key is worked on by one worker at a time, and one added while in progress
// runs again after; failures come back after a per-key exponential backoff, and retries of all keys
// together pass a token bucket (so a broken API server is not hammered); success forgets the key's
// failures. Workers stop taking keys when the signal aborts; the reconcile in flight gets the signal.
import type { ControllerMetrics } from "../observability/metrics.ts";

export type ReconcileResult = undefined | { requeueAfterMs: number };
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

export interface WorkQueueOptions {
  name: string;
  reconcile: Reconcile;
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Retries of all keys together: tokens per second and burst. */
  retryRate?: number;
  retryBurst?: number;
  metrics?: ControllerMetrics;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  /** Keys waiting plus keys in progress. */
  size(): number;
  /** Runs the workers until the signal aborts, then waits for the reconciles in flight. */
  run(signal: AbortSignal): Promise<void>;
}

export function workQueue(options: WorkQueueOptions): WorkQueue {
  const { name, metrics } = options;
  const workers = options.workers ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
  const retryRate = options.retryRate ?? 10;
  const retryBurst = options.retryBurst ?? 100;

  const queue: string[] = [];
  const waiting = new Map<string, number>(); // key -> when it was added
  const processing = new Set<string>();
  const dirtyWhileProcessing = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  const idle: (() => void)[] = []; // workers waiting for a key
  let tokens = retryBurst;
  let tokensAt = Date.now();

  const depth = () => metrics?.queueDepth.set({ name }, queue.length);

  const add = (key: string) => {
    metrics?.queueAdds.inc({ name });
    if (processing.has(key)) {
      dirtyWhileProcessing.add(key);
      return;
    }
    if (waiting.has(key)) return;
    waiting.set(key, performance.now());
    queue.push(key);
    depth();
    idle.shift()?.();
  };

  const addAfter = (key: string, ms: number) => {
    if (ms <= 0) return add(key);
    const existing = timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
    }, ms);
    timer.unref();
    timers.set(key, timer);
  };

  /** Per-key exponential backoff, at least the wait for a retry token. */
  const retryDelay = (key: string): number => {
    const n = (failures.get(key) ?? 0) + 1;
    failures.set(key, n);
    const now = Date.now();
    tokens = Math.min(retryBurst, tokens + ((now - tokensAt) / 1000) * retryRate);
    tokensAt = now;
    tokens -= 1;
    const bucketWait = tokens >= 0 ? 0 : (-tokens / retryRate) * 1000;
    return Math.max(Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)), bucketWait);
  };

  const next = async (signal: AbortSignal): Promise<string | undefined> => {
    while (queue.length === 0) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        idle.push(resolve);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    if (signal.aborted) return undefined;
    const key = queue.shift() as string;
    const addedAt = waiting.get(key) ?? performance.now();
    waiting.delete(key);
    depth();
    metrics?.queueLatency.observe({ name }, (performance.now() - addedAt) / 1000);
    return key;
  };

  const work = async (key: string, signal: AbortSignal) => {
    processing.add(key);
    const began = performance.now();
    try {
      const result = await options.reconcile(key, signal);
      failures.delete(key);
      metrics?.reconcileTotal.inc({ controller: name, result: result ? "requeue_after" : "success" });
      if (result) addAfter(key, result.requeueAfterMs);
    } catch (error) {
      if (signal.aborted) return;
      const retryIn = retryDelay(key);
      metrics?.reconcileTotal.inc({ controller: name, result: "error" });
      metrics?.reconcileErrors.inc({ controller: name });
      metrics?.queueRetries.inc({ name });
      options.onError?.(key, error, retryIn);
      addAfter(key, retryIn);
    } finally {
      const seconds = (performance.now() - began) / 1000;
      metrics?.reconcileTime.observe({ controller: name }, seconds);
      metrics?.workDuration.observe({ name }, seconds);
      processing.delete(key);
      if (dirtyWhileProcessing.delete(key) && !signal.aborted) add(key);
    }
  };

  return {
    add,
    addAfter,
    size: () => queue.length + processing.size,
    async run(signal) {
      const worker = async () => {
        for (let key = await next(signal); key !== undefined; key = await next(signal)) await work(key, signal);
      };
      await Promise.all(Array.from({ length: workers }, worker));
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
