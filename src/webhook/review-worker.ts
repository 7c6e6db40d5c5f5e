// A worker thread that reads and assesses one large AdmissionReview at a time, so that parsing and
// scanning a megabyte object never holds the main thread's event loop (and the ordinary reviews
// waiting on it). It posts the envelope as soon as the body is parsed, then the assessment.
import { parentPort } from "node:worker_threads";
import { evaluate } from "../engine/index.ts";
import { type AdmissionRequest, parseAdmissionReview } from "./admission-review.ts";
import { assess } from "./assess.ts";
import type { AdmissionConfig } from "./config.ts";
import { podTemplateLabels } from "./policies.ts";

export interface WorkerJob {
  id: number;
  body: Uint8Array;
  config: AdmissionConfig;
  hosts: readonly string[];
}

export type WorkerMessage =
  | { id: number; type: "refused"; reason: string }
  | { id: number; type: "envelope"; request: AdmissionRequest; labels: Record<string, string> }
  | { id: number; type: "assessed"; assessment: ReturnType<typeof assess> };

/** What fastify's JSON parser refuses (prototype poisoning: __proto__, constructor.prototype), refused here too. */
const PROTO = /"__proto__"\s*:/;
const CONSTRUCTOR = /"constructor"\s*:\s*\{/;
const PROTOTYPE = /"prototype"\s*:/;

/** The envelope (as soon as the body is parsed) and then the assessment, or why it is refused. */
function* review(job: WorkerJob): Generator<WorkerMessage> {
  const text = new TextDecoder().decode(job.body);
  if (PROTO.test(text) || (CONSTRUCTOR.test(text) && PROTOTYPE.test(text))) {
    yield { id: job.id, type: "refused", reason: "the body carries __proto__/constructor keys" };
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    yield { id: job.id, type: "refused", reason: "the body is not valid JSON" };
    return;
  }
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) {
    yield { id: job.id, type: "refused", reason: parsed.reason };
    return;
  }
  const { object, oldObject: _, ...envelope } = parsed.request;
  yield { id: job.id, type: "envelope", request: envelope, labels: podTemplateLabels(envelope.kind, object) };
  const assessment = assess({ request: parsed.request, config: job.config, evaluate, hosts: job.hosts });
  yield { id: job.id, type: "assessed", assessment };
}

parentPort?.on("message", (job: WorkerJob) => {
  for (const message of review(job)) parentPort?.postMessage(message);
});
