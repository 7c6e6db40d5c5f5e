// The webhook's Prometheus metrics, on a registry of their own so tests and several servers in one
// process do not collide. Labels hold bounded enums only: never a name, a namespace or a value.
import { Counter, Histogram, Registry } from "prom-client";

export interface WebhookMetrics {
  registry: Registry;
  /** decision: allow|deny|warn|audit|skip; kind: a reviewed kind or "other"; operation: CREATE|UPDATE|DELETE|CONNECT. */
  requests: Counter<"decision" | "kind" | "operation">;
  duration: Histogram;
  /** action: Deny|Warn|Audit, or Exempt for findings the object exempts itself from. */
  findings: Counter<"rule" | "action">;
  /** Bodies refused before a decision: 400, 413, 415. */
  rejected: Counter<"code">;
}

export function createWebhookMetrics(registry = new Registry()): WebhookMetrics {
  return {
    registry,
    requests: new Counter({
      name: "aiapiguard_admission_requests_total",
      help: "Admission reviews answered, by decision, object kind and operation.",
      labelNames: ["decision", "kind", "operation"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "aiapiguard_admission_duration_seconds",
      help: "Time from receiving an admission review to deciding it, body parsing included.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    findings: new Counter({
      name: "aiapiguard_findings_total",
      help: "Findings in reviewed objects, by rule and the action applied to them.",
      labelNames: ["rule", "action"],
      registers: [registry],
    }),
    rejected: new Counter({
      name: "aiapiguard_admission_rejected_requests_total",
      help: "Requests refused before a decision because they were not a valid AdmissionReview, by HTTP status.",
      labelNames: ["code"],
      registers: [registry],
    }),
  };
}
