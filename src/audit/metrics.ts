// The audit's Prometheus metrics: findings by namespace and rule as of the last run, when it ran and
// how long it took. The namespace label is bounded by the cluster's namespaces; never a name or a value.
// The gauges are exported by the replica that runs the audit (the Lease holder) while it leads: a
// standby's last-run time of 0, or a former leader's old findings, would raise alerts that never resolve.
import { Counter, Gauge, Registry } from "prom-client";

export interface AuditMetrics {
  registry: Registry;
  findings: Gauge<"namespace" | "rule">;
  lastRun: Gauge;
  duration: Gauge;
  failures: Counter;
  /** Exports the gauges (leading, or after a run). */
  publish(): void;
  /** Stops exporting them (leadership lost). */
  withdraw(): void;
}

export function createAuditMetrics(registry = new Registry()): AuditMetrics {
  const gauges = {
    findings: new Gauge({
      name: "aiapiguard_audit_findings",
      help: "Findings (not exempt) in running workloads and ConfigMaps at the last audit, by namespace and rule.",
      labelNames: ["namespace", "rule"],
      registers: [],
    }),
    lastRun: new Gauge({
      name: "aiapiguard_audit_last_run_timestamp_seconds",
      help: "When the last audit run finished, in seconds since the epoch.",
      registers: [],
    }),
    duration: new Gauge({
      name: "aiapiguard_audit_last_run_duration_seconds",
      help: "How long the last audit run took.",
      registers: [],
    }),
  };
  const all = Object.entries({
    aiapiguard_audit_findings: gauges.findings,
    aiapiguard_audit_last_run_timestamp_seconds: gauges.lastRun,
    aiapiguard_audit_last_run_duration_seconds: gauges.duration,
  });
  return {
    registry,
    ...gauges,
    failures: new Counter({
      name: "aiapiguard_audit_failures_total",
      help: "Audit runs that failed (the API server could not be read or a report not written).",
      registers: [registry],
    }),
    publish() {
      for (const [name, gauge] of all) if (!registry.getSingleMetric(name)) registry.registerMetric(gauge);
    },
    withdraw() {
      for (const [name, gauge] of all) {
        registry.removeSingleMetric(name);
        gauge.reset();
      }
    },
  };
}
