// One Prometheus registry per process: the default process metrics (CPU, RSS, heap, event loop lag,
// GC), the webhook's, and the controller's in the shape controller-runtime users know
// (reconcile_total{controller,result}, workqueue_depth, retries, latencies), prefixed aiapiguard_.
// Labels hold bounded values: a controller, a queue, a result, a resource, or a policy's
// namespace and name, a key in either by its hint (one series per policy, as kube-state-metrics does per object).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { createWebhookMetrics, type WebhookMetrics } from "../webhook/metrics.ts";

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface ControllerMetrics {
  reconcileTotal: Counter<"controller" | "result">;
  reconcileErrors: Counter<"controller">;
  reconcileTime: Histogram<"controller">;
  queueDepth: Gauge<"name">;
  queueAdds: Counter<"name">;
  queueRetries: Counter<"name">;
  queueLatency: Histogram<"name">;
  workDuration: Histogram<"name">;
  /** Objects written by kind and verb (apply, delete, status): how many writes a convergence costs. */
  writes: Counter<"kind" | "verb">;
  leader: Gauge;
  credentialAgeDays: Gauge<"namespace" | "policy">;
  credentialRotationOverdue: Gauge<"namespace" | "policy">;
  reviewOverdue: Gauge<"namespace" | "policy">;
}

export interface ProcessMetrics {
  registry: Registry;
  webhook: WebhookMetrics;
  controller: ControllerMetrics;
  informerRestarts: Counter<"resource" | "reason">;
  /** Events not written: dropped by the rate limit, or failed. */
  eventsNotWritten: Counter<"result">;
}

export function createProcessMetrics(): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    webhook: createWebhookMetrics(registry),
    controller: {
      reconcileTotal: new Counter({
        name: "aiapiguard_reconcile_total",
        help: "Reconciles by controller and result (success, error, requeue).",
        labelNames: ["controller", "result"],
        registers,
      }),
      reconcileErrors: new Counter({
        name: "aiapiguard_reconcile_errors_total",
        help: "Reconciles that failed, by controller.",
        labelNames: ["controller"],
        registers,
      }),
      reconcileTime: new Histogram({
        name: "aiapiguard_reconcile_time_seconds",
        help: "Time of one reconcile, by controller.",
        labelNames: ["controller"],
        buckets: SECONDS,
        registers,
      }),
      queueDepth: new Gauge({
        name: "aiapiguard_workqueue_depth",
        help: "Keys waiting in the work queue.",
        labelNames: ["name"],
        registers,
      }),
      queueAdds: new Counter({
        name: "aiapiguard_workqueue_adds_total",
        help: "Keys added to the work queue (repeats of a waiting key included).",
        labelNames: ["name"],
        registers,
      }),
      queueRetries: new Counter({
        name: "aiapiguard_workqueue_retries_total",
        help: "Keys put back after a failed reconcile, with backoff.",
        labelNames: ["name"],
        registers,
      }),
      queueLatency: new Histogram({
        name: "aiapiguard_workqueue_queue_duration_seconds",
        help: "Time a key waits in the queue before a worker takes it.",
        labelNames: ["name"],
        buckets: SECONDS,
        registers,
      }),
      workDuration: new Histogram({
        name: "aiapiguard_workqueue_work_duration_seconds",
        help: "Time a worker spends on a key.",
        labelNames: ["name"],
        buckets: SECONDS,
        registers,
      }),
      writes: new Counter({
        name: "aiapiguard_api_writes_total",
        help: "Writes the controller sent to the API server, by kind and verb.",
        labelNames: ["kind", "verb"],
        registers,
      }),
      leader: new Gauge({
        name: "aiapiguard_leader",
        help: "1 while this replica holds the controller's Lease.",
        registers,
      }),
      credentialAgeDays: new Gauge({
        name: "aiapiguard_credential_age_days",
        help: "Age of the policy's credential Secret in days (its aiapiguard.dev/rotated-at annotation, else its creation).",
        labelNames: ["namespace", "policy"],
        registers,
      }),
      credentialRotationOverdue: new Gauge({
        name: "aiapiguard_credential_rotation_overdue",
        help: "1 when the policy's credential is older than maxAgeDays.",
        labelNames: ["namespace", "policy"],
        registers,
      }),
      reviewOverdue: new Gauge({
        name: "aiapiguard_review_overdue",
        help: "1 when the policy's security review is overdue (or never happened).",
        labelNames: ["namespace", "policy"],
        registers,
      }),
    },
    informerRestarts: new Counter({
      name: "aiapiguard_informer_watch_restarts_total",
      help: "Watches resumed, by resource and reason: error (retried with backoff), silent (no byte for too long), gone (410, re-listed).",
      labelNames: ["resource", "reason"],
      registers,
    }),
    eventsNotWritten: new Counter({
      name: "aiapiguard_events_not_written_total",
      help: "Kubernetes Events not written: dropped by the per-object rate limit, or failed.",
      labelNames: ["result"],
      registers,
    }),
  };
}
