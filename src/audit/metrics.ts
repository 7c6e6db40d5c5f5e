// The audit's Prometheus metrics: findings by namespace and rule as of the last run, when it ran and
// how long it took. The namespace label is bounded by the cluster's namespaces; never a name or a value.
import { Counter, Gauge, Registry } from "prom-client";

export interface AuditMetrics {
  registry: Registry;
  findings: Gauge<"namespace" | "rule">;
  lastRun: Gauge;
  duration: Gauge;
  failures: Counter;
}

export function createAuditMetrics(registry = new Registry()): AuditMetrics {
  return {
    registry,
    findings: new Gauge({
      name: "aiapiguard_audit_findings",
      help: "Findings (not exempt) in running workloads and ConfigMaps at the last audit, by namespace and rule.",
      labelNames: ["namespace", "rule"],
      registers: [registry],
    }),
    lastRun: new Gauge({
      name: "aiapiguard_audit_last_run_timestamp_seconds",
      help: "When the last audit run finished, in seconds since the epoch.",
      registers: [registry],
    }),
    duration: new Gauge({
      name: "aiapiguard_audit_last_run_duration_seconds",
      help: "How long the last audit run took.",
      registers: [registry],
    }),
    failures: new Counter({
      name: "aiapiguard_audit_failures_total",
      help: "Audit runs that failed (the API server could not be read or a report not written).",
      registers: [registry],
    }),
  };
}
