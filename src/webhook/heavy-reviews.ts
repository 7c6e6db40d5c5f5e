// Large reviews go to a worker thread, one at a time, each within a budget: the main thread only
// receives bytes, fetches the ConfigMaps the worker says the object reads, and answers, so ordinary
// reviews keep flowing while a megabyte object is scanned. A review that does not finish within its
// budget (waiting in line and the ConfigMap lookup included) is answered as not checked, which refuses
// it under Deny; the worker running it is replaced.
import { Worker } from "node:worker_threads";
import type { AdmissionRequest } from "./admission-review.ts";
import type { Assessment, ReviewScope } from "./assess.ts";
import type { AdmissionConfig } from "./config.ts";
import type { ReadConfigMaps } from "./lookups.ts";
import type { Subject } from "./messages.ts";
import type { ToWorker, WorkerMessage } from "./review-worker.ts";

export interface HeavyOptions {
  /** Bodies from this size on go to the worker. */
  thresholdBytes: number;
  /** Time a review may take from arrival to assessment, waiting included. */
  budgetMs: number;
  /** Bytes of bodies waiting for the worker; beyond it a review is answered as not checked at once. */
  maxQueuedBytes: number;
}

export const DEFAULT_HEAVY: HeavyOptions = {
  thresholdBytes: 256 * 1024,
  budgetMs: 2_000,
  maxQueuedBytes: 64 * 1024 * 1024,
};

/** Refused (400: not a review) or not checked in time with no uid to answer (503: failurePolicy applies). */
export type HeavyResult =
  | { ok: false; code: 400 | 503; reason: string }
  | { ok: true; request: AdmissionRequest; assessment: Assessment };

/** Fetches the ConfigMaps a review's object reads (named by the worker); undefined when none are to be read. */
export type FollowConfigMaps = (
  request: AdmissionRequest,
  names: readonly string[],
) => Promise<ReadConfigMaps> | undefined;

export interface HeavyReviews {
  readonly options: HeavyOptions;
  review(body: Buffer, config: AdmissionConfig, scope: ReviewScope, follow?: FollowConfigMaps): Promise<HeavyResult>;
  close(): Promise<void>;
}

interface Job {
  id: number;
  body: Buffer;
  config: AdmissionConfig;
  scope: ReviewScope;
  follow?: FollowConfigMaps;
  deadline: number;
  envelope?: { request: AdmissionRequest; subject: Subject; labels: Record<string, string> };
  resolve: (result: HeavyResult) => void;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./review-worker.ts" : "./review-worker.js",
  import.meta.url,
);

export function heavyReviews(overrides: Partial<HeavyOptions> = {}): HeavyReviews {
  const options = { ...DEFAULT_HEAVY, ...overrides };
  const queue: Job[] = [];
  let queuedBytes = 0;
  let nextId = 0;
  let current: Job | undefined;
  let timer: NodeJS.Timeout | undefined;
  let worker = spawn();
  let closed = false;

  function spawn(): Worker {
    const w = new Worker(WORKER_URL);
    w.unref();
    w.on("message", (message: WorkerMessage) => onMessage(message));
    w.on("error", () => fail("the review worker failed on it"));
    return w;
  }

  function onMessage(message: WorkerMessage): void {
    const job = current;
    if (!job || message.id !== job.id) return;
    if (message.type === "envelope") {
      job.envelope = { request: message.request, subject: message.subject, labels: message.labels };
      if (message.configMaps.length > 0) sendConfigMaps(job, message.request, message.configMaps);
      return;
    }
    finish(
      message.type === "refused" ? { ok: false, code: 400, reason: message.reason } : assessed(job, message.assessment),
    );
  }

  function assessed(job: Job, assessment: Assessment): HeavyResult {
    return { ok: true, request: job.envelope?.request as AdmissionRequest, assessment };
  }

  /** The worker waits for them; the budget keeps running meanwhile. */
  function sendConfigMaps(job: Job, request: AdmissionRequest, names: readonly string[]): void {
    const send = (read: ReadConfigMaps) => {
      if (current === job) worker.postMessage({ type: "configMaps", id: job.id, read } satisfies ToWorker);
    };
    const none: ReadConfigMaps = { hosts: new Map(), notFollowed: 0 };
    const reading = job.follow?.(request, names) ?? Promise.resolve(none);
    reading.then(send, () => {
      if (current === job) fail("its ConfigMaps could not be read");
    });
  }

  /** The budget ran out (or the worker died): answer what is known, and start a fresh worker. */
  function fail(why: string): void {
    const job = current;
    if (!job) return;
    void worker.terminate();
    worker = spawn();
    finish(notChecked(job, why));
  }

  function finish(result: HeavyResult): void {
    clearTimeout(timer);
    current?.resolve(result);
    current = undefined;
    next();
  }

  function next(): void {
    while (!current && queue.length > 0 && !closed) {
      const job = queue.shift() as Job;
      queuedBytes -= job.body.length;
      const left = job.deadline - Date.now();
      if (left <= 0) {
        job.resolve(notChecked(job, "it waited behind other large reviews"));
        continue;
      }
      current = job;
      timer = setTimeout(() => fail(`it did not finish within the ${options.budgetMs} ms budget of one review`), left);
      const message: ToWorker = { type: "review", id: job.id, body: job.body, config: job.config, scope: job.scope };
      worker.postMessage(message);
    }
  }

  /** Without an envelope there is no uid to answer: the request fails, and the API server applies failurePolicy. */
  function notChecked(job: Job, why: string): HeavyResult {
    if (!job.envelope) return { ok: false, code: 503, reason: `not checked: ${why} (${job.body.length} bytes)` };
    const { request, subject, labels } = job.envelope;
    const size = (job.body.length / 2 ** 20).toFixed(1);
    const assessment: Assessment = {
      subject,
      labels,
      findings: [],
      existing: [],
      unreadable: `${why}; the review is ${size} MiB: make the object smaller or split it`,
    };
    return { ok: true, request, assessment };
  }

  return {
    options,
    review(body, config, scope, follow) {
      return new Promise((resolve) => {
        const deadline = Date.now() + options.budgetMs;
        const job: Job = { id: nextId++, body, config, scope, ...(follow && { follow }), deadline, resolve };
        if (queuedBytes + body.length > options.maxQueuedBytes) {
          resolve({ ok: false, code: 503, reason: "not checked: too many large reviews are waiting; retry" });
          return;
        }
        queue.push(job);
        queuedBytes += body.length;
        next();
      });
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}

/** A body of at least `thresholdBytes`, kept as bytes for the worker instead of parsed on the main thread. */
export class HeavyBody {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}
