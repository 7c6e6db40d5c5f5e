// A worker thread that reads and assesses one large AdmissionReview at a time, so that parsing and
// scanning a megabyte object never holds the main thread's event loop (and the ordinary reviews
// waiting on it). It posts the envelope as soon as the body is parsed, with the ConfigMaps the object
// reads; when it reads some, it waits for the main thread to fetch them, then posts the assessment.
import { parentPort } from "node:worker_threads";
import { evaluate } from "../engine/index.ts";
import { referencedConfigMaps } from "../engine/rules/unregistered-ai-api.ts";
import { type AdmissionRequest, parseAdmissionReview } from "./admission-review.ts";
import { assess, type ReviewScope, subjectOf } from "./assess.ts";
import type { AdmissionConfig } from "./config.ts";
import { followedConfigMaps, type ReadConfigMaps } from "./lookups.ts";
import type { Subject } from "./messages.ts";
import { podTemplateLabels } from "./policies.ts";

export type ToWorker =
  | { type: "review"; id: number; body: Uint8Array; config: AdmissionConfig; scope: ReviewScope }
  | { type: "configMaps"; id: number; read: ReadConfigMaps };

export type WorkerMessage =
  | { id: number; type: "refused"; reason: string }
  | {
      id: number;
      type: "envelope";
      request: AdmissionRequest;
      /** Named from the object too (its generateName), which the envelope leaves out. */
      subject: Subject;
      labels: Record<string, string>;
      /** The ConfigMaps the object reads: the assessment waits for them when there are any. */
      configMaps: string[];
    }
  | { id: number; type: "assessed"; assessment: ReturnType<typeof assess> };

type Job = Extract<ToWorker, { type: "review" }>;

/** Reviews waiting for their ConfigMaps, by id. */
const waiting = new Map<number, { job: Job; request: AdmissionRequest }>();

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

/** The review in the body, or why it is refused; __proto__ and constructor keys are own keys, as on the main thread. */
function parse(body: Uint8Array): AdmissionRequest | string {
  const text = new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "the body is not valid JSON";
  }
  const review = parseAdmissionReview(parsed);
  return review.ok ? review.request : review.reason;
}

function begin(job: Job): void {
  const request = parse(job.body);
  if (typeof request === "string") {
    post({ id: job.id, type: "refused", reason: request });
    return;
  }
  const { object, oldObject: _, ...envelope } = request;
  const configMaps = referencedConfigMaps(object);
  post({
    id: job.id,
    type: "envelope",
    request: envelope,
    subject: subjectOf(request),
    labels: podTemplateLabels(envelope.kind, object),
    configMaps,
  });
  if (configMaps.length > 0) waiting.set(job.id, { job, request });
  else finish(job, request, job.scope);
}

function finish(job: Job, request: AdmissionRequest, scope: ReviewScope): void {
  post({ id: job.id, type: "assessed", assessment: assess({ request, config: job.config, evaluate, scope }) });
}

parentPort?.on("message", (message: ToWorker) => {
  if (message.type === "review") {
    begin(message);
    return;
  }
  const held = waiting.get(message.id);
  if (!held) return;
  waiting.delete(message.id);
  finish(held.job, held.request, {
    ...held.job.scope,
    ...followedConfigMaps(held.request.namespace ?? "", message.read),
  });
});
