// The "done when", through the running operator: a Deployment with a hardcoded key, created
// before the operator started, shows up in a Report within one (short) audit interval, with a
// CredentialExposed Event; the read API serves it to a service-account token RBAC allows; once the
// Deployment is fixed the Report goes away.
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { applyYaml, auditReport, deploymentYaml, eventsWhere, openaiPolicyYaml } from "../support/workloads.ts";

const ns = useTestNamespace("e2e-audit");
const key = fakeSecrets(99).openai ?? "";
let operator: Operator;

const apply = applyYaml;
const report = () => auditReport(ns.name);

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await apply(`${openaiPolicyYaml(ns.name, "leaky", "  admission: {action: Warn}")}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: auditor, namespace: ${ns.name}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: findings-reader, namespace: ${ns.name}}
rules: [{apiGroups: [openreports.io], resources: [reports], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: findings-reader, namespace: ${ns.name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: findings-reader}
subjects: [{kind: ServiceAccount, name: auditor, namespace: ${ns.name}}]
`);
  // Before the operator (and its webhook) exists: nothing refuses it.
  await apply(deploymentYaml(ns.name, "leaky", `{name: OPENAI_API_KEY, value: "${key}"}`));
  operator = await startOperator(kubeconfigPath(), ["--audit-interval", "5"], { controllerNamespaces: [ns.name] });
});

afterAll(async () => {
  await operator?.stop();
});

describe("the operator's background audit", () => {
  it("reports a Deployment made before it started, with an Event, and serves the finding on the read API", async () => {
    const written = await eventually(report, 20_000, "the Report");
    expect(written.results.map((r) => `${r.resources[0]?.name} ${r.rule}`)).toEqual(["leaky hardcoded-secret"]);
    const events = await eventually(async () => {
      const kinds = (await eventsWhere(ns.name, "reason=CredentialExposed")).map((e) => e.kind);
      return kinds.length >= 2 && kinds.sort();
    });
    expect(events).toEqual(["AiApiPolicy", "Deployment"]);
    expect(operator.output()).toContain('"alert":"CredentialExposed"');
    expect(operator.output()).not.toContain(key.slice(-12));

    const token = (
      await kubectl(["create", "token", "auditor", "-n", ns.name, "--audience", "ai-api-guard"])
    ).stdout.trim();
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    const response = await fetch(`${operator.url}/api/v1/findings?namespace=${ns.name}`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher: insecure,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { name: string; rule: string; policies: string[] }[] };
    expect(body.items).toEqual([
      expect.objectContaining({ name: "leaky", rule: "hardcoded-secret", policies: ["openai"] }),
    ]);
    const anonymous = await fetch(`${operator.url}/api/v1/findings`, { dispatcher: insecure });
    expect(anonymous.status).toBe(401);
    expect(operator.output()).not.toContain(token.split(".")[2] ?? "unreachable");
  });

  it("deletes the Report once the Deployment is fixed", async () => {
    await apply(
      deploymentYaml(
        ns.name,
        "leaky",
        "{name: OPENAI_API_KEY, valueFrom: {secretKeyRef: {name: openai, key: api-key}}}",
      ),
    );
    await eventually(async () => (await report()) === undefined, 20_000, "the Report gone");
  });
});
