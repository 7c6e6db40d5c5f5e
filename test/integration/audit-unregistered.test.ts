// unregistered-ai-api in the background audit: a running workload that reads an AI provider's host from a
// ConfigMap, with no policy declaring that API, lands in the Report (category inventory) and in the
// inventory, and raises no CredentialExposed (no credential is exposed).
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { runAudit } from "../../src/audit/audit.ts";
import { createAuditMetrics } from "../../src/audit/metrics.ts";
import { credentialResponder } from "../../src/audit/response.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { applyYaml, auditReport, deploymentYaml, eventsWhere, openaiPolicyYaml } from "../support/workloads.ts";

const ns = useTestNamespace("unreg");

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(openaiPolicyYaml(ns.name, "chat"));
  await applyYaml(`
apiVersion: v1
kind: ConfigMap
metadata: {name: llm, namespace: ${ns.name}}
data: {ANTHROPIC_BASE_URL: "https://api.anthropic.com"}
`);
  // Declared: api.openai.com (the policy selects app=chat). Not declared: api.anthropic.com, via envFrom.
  const env = `{name: OPENAI_BASE_URL, value: "https://api.openai.com/v1"}], envFrom: [{configMapRef: {name: llm}}`;
  await applyYaml(deploymentYaml(ns.name, "chat", env));
});

describe("the audit and unregistered AI APIs", () => {
  it("reports the undeclared API in the Report and the inventory, without a CredentialExposed Event", async () => {
    const logger = pino({ level: "silent" });
    const metrics = createAuditMetrics();
    const result = await runAudit({
      kc: kubeConfig(),
      logger,
      namespaces: [ns.name],
      metrics,
      onNewFinding: credentialResponder(eventRecorder(new KubeRest(kubeConfig()), logger), logger),
    });
    const report = await auditReport(ns.name);
    expect(report?.results).toEqual([
      expect.objectContaining({
        rule: "unregistered-ai-api",
        category: "inventory",
        severity: "medium",
        result: "fail",
        properties: expect.objectContaining({
          hint: "api.anthropic.com",
          provider: "Anthropic",
          path: "spec.template.spec.containers[0].envFrom[0].configMapRef",
          policies: "openai",
        }),
      }),
    ]);
    expect(result.inventory.unregistered).toEqual([
      { namespace: ns.name, host: "api.anthropic.com", provider: "Anthropic", workloads: ["Deployment/chat"] },
    ]);
    expect(result.inventory.apis.map((a) => [a.policy, a.workloads])).toEqual([["openai", ["Deployment/chat"]]]);
    expect(await metrics.registry.metrics()).toContain(
      `aiapiguard_audit_findings{namespace="${ns.name}",rule="unregistered-ai-api"} 1`,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await eventsWhere(ns.name, "reason=CredentialExposed")).toEqual([]);
  });
});
