// The background audit's other report format, `--reports-format wgpolicyk8s`, against the real
// wgpolicyk8s.io CRDs (copied from Kyverno's Go module into third-party/crds/ by npm run generate): the
// API server accepts the PolicyReport as written (its schema would prune what it does not know), and the
// read API serves back exactly the findings the audit made.
import { pino } from "pino";
import { beforeAll, expect, it } from "vitest";
import { runAudit } from "../../src/audit/audit.ts";
import { clusterSources } from "../../src/readapi/index.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { applyYaml, deploymentYaml, openaiPolicyYaml } from "../support/workloads.ts";

const ns = useTestNamespace("audit-wg");
const key = fakeSecrets(2027).openai ?? "";

beforeAll(async () => {
  await installCrds();
  await installReportCrds("wgpolicyk8s");
  await applyYaml(openaiPolicyYaml(ns.name, "leaky"));
  await applyYaml(deploymentYaml(ns.name, "leaky", `{name: OPENAI_API_KEY, value: "${key}"}`));
});

async function policyReports() {
  const got = await kubectl(["get", "policyreports.wgpolicyk8s.io", "-n", ns.name, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  return JSON.parse(got.stdout).items as {
    metadata: { name: string; resourceVersion: string };
    summary: Record<string, number>;
    results: Record<string, unknown>[];
  }[];
}

it("writes a PolicyReport the wgpolicyk8s.io CRD accepts whole, and the read API serves it back", async () => {
  const audit = () =>
    runAudit({ kc: kubeConfig(), logger: pino({ level: "silent" }), namespaces: [ns.name], format: "wgpolicyk8s" });
  const result = await audit();
  expect(result.written).toEqual([ns.name]);
  const [report, ...others] = await policyReports();
  expect(others).toEqual([]);
  expect(report?.metadata.name).toBe("ai-api-guard");
  expect(report?.summary).toMatchObject({ fail: 1 });
  expect(report?.results).toEqual([
    expect.objectContaining({
      source: "ai-api-guard",
      policy: "hardcoded-secret",
      result: "fail",
      severity: "critical",
      resources: [expect.objectContaining({ kind: "Deployment", name: "leaky", namespace: ns.name })],
      properties: expect.objectContaining({ path: "spec.template.spec.containers[0].env[0].value", container: "app" }),
    }),
  ]);
  expect(JSON.stringify(report)).not.toContain(key.slice(0, 20));
  // Nothing was pruned on the way in: what is read back is what the audit found.
  const served = await clusterSources(kubeConfig(), { format: "wgpolicyk8s", namespaces: [ns.name] }).findings();
  expect(served).toEqual(result.findings);
  // And a second run with nothing changed writes nothing.
  expect((await audit()).unchanged).toEqual([ns.name]);
  expect((await policyReports())[0]?.metadata.resourceVersion).toBe(report?.metadata.resourceVersion);
});
