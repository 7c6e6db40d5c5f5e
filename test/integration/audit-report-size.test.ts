// A namespace whose findings carry long (legal) names: its Report still fits in etcd and is written.
// Before, 1000 results of 2 KiB each made a report etcd refused ("request is too large") at every run,
// so the namespace had no report at all and its findings were never announced.
import { pino } from "pino";
import { beforeAll, expect, it } from "vitest";
import { runAudit } from "../../src/audit/audit.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { applyYaml, auditReport, deploymentYaml } from "../support/workloads.ts";

const ns = useTestNamespace("audit-size");
const key = fakeSecrets(2031).openai ?? "";
const WORKLOADS = 10;
const ENV_PER_WORKLOAD = 100;

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  for (let w = 0; w < WORKLOADS; w++) {
    const env = Array.from(
      { length: ENV_PER_WORKLOAD },
      (_, i) => `{name: ${`OPENAI_API_KEY_${w}_${i}_`.padEnd(1000, "X")}, value: "${key}"}`,
    ).join(", ");
    await applyYaml(deploymentYaml(ns.name, `leaky-${w}`, env));
  }
}, 120_000);

it("writes the report of a namespace with a thousand long findings, below etcd's 1.5 MiB", async () => {
  const result = await runAudit({ kc: kubeConfig(), logger: pino({ level: "silent" }), namespaces: [ns.name] });
  expect(result.findings.length).toBeGreaterThanOrEqual(1000);
  expect(result.failed).toEqual([]);
  expect(result.written).toEqual([ns.name]);
  const report = await auditReport(ns.name);
  expect(report?.summary.fail).toBe(result.findings.length);
  expect(report?.results.length).toBeGreaterThan(0);
  expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(1.5 * 1024 * 1024);
}, 120_000);
