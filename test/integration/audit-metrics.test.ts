// The audit's metrics come from the replica that runs it, the Lease holder, and from no other: a standby
// (or a former leader) must not export findings that go stale, nor a last-run time that never moves.
import { pino } from "pino";
import { Registry } from "prom-client";
import { beforeAll, expect, it } from "vitest";
import { createAuditMetrics } from "../../src/audit/metrics.ts";
import { auditRunnable } from "../../src/audit/runnable.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { applyYaml, deploymentYaml } from "../support/workloads.ts";

const ns = useTestNamespace("audit-metrics");
const key = fakeSecrets(2032).openai ?? "";

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(deploymentYaml(ns.name, "leaky", `{name: OPENAI_API_KEY, value: "${key}"}`));
});

const sample = (text: string, metric: string) => new RegExp(`^${metric}(\\{[^}]*\\})? `, "m").test(text);

it("exports the audit's gauges only while leading, and withdraws them when leadership is lost", async () => {
  const registry = new Registry();
  const metrics = createAuditMetrics(registry);
  // A standby: before, it exported aiapiguard_audit_last_run_timestamp_seconds 0, so the PrometheusRule's
  // AiApiGuardAuditStale (time() - it > 3600) fired for good on every replica but the leader.
  const standby = await registry.metrics();
  expect(sample(standby, "aiapiguard_audit_last_run_timestamp_seconds")).toBe(false);
  expect(sample(standby, "aiapiguard_audit_last_run_duration_seconds")).toBe(false);

  const runnable = auditRunnable({
    kc: kubeConfig(),
    logger: pino({ level: "silent" }),
    namespaces: [ns.name],
    metrics,
    intervalMs: 600_000,
  });
  const lease = new AbortController();
  await runnable.start(lease.signal);
  await expect
    .poll(() => registry.metrics(), { timeout: 30_000 })
    .toContain(`aiapiguard_audit_findings{namespace="${ns.name}",rule="hardcoded-secret"} 1`);
  expect(sample(await registry.metrics(), "aiapiguard_audit_last_run_timestamp_seconds")).toBe(true);

  // The Lease is lost: before, this replica kept exporting the findings of its last run, so the sum over
  // replicas counted them twice and a fixed credential kept AiApiGuardCredentialExposed firing.
  lease.abort();
  await runnable.stop();
  const former = await registry.metrics();
  expect(sample(former, "aiapiguard_audit_findings")).toBe(false);
  expect(sample(former, "aiapiguard_audit_last_run_timestamp_seconds")).toBe(false);
  expect(sample(former, "aiapiguard_audit_last_run_duration_seconds")).toBe(false);
}, 60_000);
