// The background audit against the real API server and the real OpenReports CRDs (copied from their Go
// module into third-party/crds/): workloads made before any audit ran, read in small pages; one Report
// per namespace, written only when it changes, gone once the workload is fixed; Events once per finding.

import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLoop, runAudit } from "../../src/audit/audit.ts";
import { createAuditMetrics } from "../../src/audit/metrics.ts";
import { credentialResponder } from "../../src/audit/response.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { clusterSources } from "../../src/readapi/index.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, auditReport, deploymentYaml, eventsWhere, openaiPolicyYaml } from "../support/workloads.ts";

const ns = useTestNamespace("audit");
const key = fakeSecrets(2026).openai ?? "";

const deployment = (name: string, env: string) => deploymentYaml(ns.name, name, env);

const HARDCODED = `{name: OPENAI_API_KEY, value: "${key}"}`;
const FROM_SECRET = "{name: OPENAI_API_KEY, valueFrom: {secretKeyRef: {name: openai, key: api-key}}}";

const apply = applyYaml;
const report = () => auditReport(ns.name);
const events = (reason: string) => eventsWhere(ns.name, `reason=${reason}`);

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await apply(openaiPolicyYaml(ns.name, "leaky"));
  await apply(deployment("leaky", HARDCODED));
  for (const name of ["clean-a", "clean-b", "clean-c", "clean-d"]) await apply(deployment(name, FROM_SECRET));
});

describe("background audit", () => {
  it("reports a Deployment made before it ran, with a redacted result and a summary, reading in pages of 2", async () => {
    const { lines, logger } = capturedLogger();
    const metrics = createAuditMetrics();
    const result = await runAudit({
      kc: kubeConfig(),
      logger,
      namespaces: [ns.name],
      pageSize: 2,
      metrics,
      onNewFinding: credentialResponder(eventRecorder(new KubeRest(kubeConfig()), logger), logger),
    });
    expect(result.workloads, "five Deployments, in pages of two").toBe(5);
    expect(result.inventory.apis).toEqual([
      expect.objectContaining({
        policy: "openai",
        workloads: ["Deployment/leaky"],
        ready: { status: "Unknown", reason: "NoStatus" },
      }),
    ]);
    expect(result.written).toEqual([ns.name]);
    // What the read API serves on every replica: the findings read back from the Report, as the audit made them.
    const served = await clusterSources(kubeConfig(), { format: "openreports", namespaces: [ns.name] }).findings();
    expect(served).toEqual(result.findings);
    const written = await report();
    if (!written) throw new Error("no Report written");
    expect(written.summary).toMatchObject({ fail: 1 });
    expect(written.results).toEqual([
      expect.objectContaining({
        source: "ai-api-guard",
        policy: "hardcoded-secret",
        rule: "hardcoded-secret",
        result: "fail",
        severity: "critical",
        resources: [expect.objectContaining({ kind: "Deployment", name: "leaky", namespace: ns.name })],
        properties: expect.objectContaining({
          path: "spec.template.spec.containers[0].env[0].value",
          container: "app",
        }),
      }),
    ]);
    expect(written.results[0]?.properties.hint).toMatch(/^OpenAI API key ending "…[A-Za-z0-9]{4}"$/);
    expect(JSON.stringify(written)).not.toContain(key.slice(0, 20));

    await expect
      .poll(() => events("CredentialExposed"))
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: "Deployment", name: "leaky" }),
          expect.objectContaining({ kind: "AiApiPolicy", name: "openai" }),
        ]),
      );
    const alert = lines.map((l) => JSON.parse(l)).find((l) => l.alert === "CredentialExposed");
    expect(alert).toMatchObject({ namespace: ns.name, kind: "Deployment", name: "leaky", policies: ["openai"] });
    expect(lines.join("\n")).not.toContain(key.slice(-12));
    const scraped = await metrics.registry.metrics();
    expect(scraped).toContain(`aiapiguard_audit_findings{namespace="${ns.name}",rule="hardcoded-secret"} 1`);
    expect(scraped).toMatch(/aiapiguard_audit_last_run_duration_seconds \d/);
  });

  it("writes nothing and announces nothing when nothing changed", async () => {
    const before = await report();
    let announced = 0;
    const result = await runAudit({
      kc: kubeConfig(),
      logger: pino({ level: "silent" }),
      namespaces: [ns.name],
      onNewFinding: () => announced++,
    });
    expect(result.unchanged).toEqual([ns.name]);
    expect(announced).toBe(0);
    expect((await report())?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect((await events("CredentialExposed")).filter((e) => e.kind === "Deployment")).toHaveLength(1);
  });

  it("removes the Report once the workload is fixed, in the loop's next run", async () => {
    await apply(deployment("leaky", FROM_SECRET));
    const controller = new AbortController();
    const resolved: string[] = [];
    const runs: number[] = [];
    const loop = auditLoop({
      kc: kubeConfig(),
      logger: pino({ level: "silent" }),
      namespaces: [ns.name],
      intervalMs: 200,
      signal: controller.signal,
      onResolvedFinding: (f) => resolved.push(`${f.kind}/${f.name} ${f.rule}`),
      onResult: (r) => runs.push(r.findings.length),
    });
    await expect.poll(() => report(), { timeout: 10_000 }).toBeUndefined();
    await expect.poll(() => runs.length).toBeGreaterThanOrEqual(2);
    controller.abort();
    await loop;
    expect(resolved).toEqual(["Deployment/leaky hardcoded-secret"]);
    expect(runs.every((n) => n === 0)).toBe(true);
  });
});
