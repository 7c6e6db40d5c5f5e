// A namespace and an AiApiPolicy named with a key (a DeepSeek key, "sk-" + 32 hex, is a valid DNS label),
// and a Deployment with one after a prefix: `ai-api-guard run` (audit, quarantine, controller, webhook under
// Audit), `inventory`, `scan` and the read API's sources name them by their hints wherever ai-api-guard writes
// text, a label or a name. What refers to them (an Event's namespace, an owner reference) must keep them.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { applyYaml, auditReport } from "../support/workloads.ts";

const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
const NODE = join(import.meta.dirname, "../../node_modules/.bin/node");
// Made at run time: no key-shaped literal sits in the repository.
const key = () => `sk-${randomBytes(16).toString("hex")}`;
const NAMESPACE = key();
const POLICY = key();
const WORKLOAD_KEY = key();
const WORKLOAD = `team-a-${WORKLOAD_KEY}-worker`;
const KEYS = [NAMESPACE, POLICY, WORKLOAD_KEY];
const hint = (k: string) => `<DeepSeek API key ending …${k.slice(-4)}>`;
let operator: Operator | undefined;
let metricsPort = 0;

const policies = `
apiVersion: v1
kind: Secret
metadata: {name: openai, namespace: ${NAMESPACE}, annotations: {aiapiguard.dev/rotated-at: "2020-01-01"}}
stringData: {api-key: from-a-vault}
---
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: ${POLICY}, namespace: ${NAMESPACE}}
spec:
  api: {endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: High}
  selector: {matchLabels: {tier: leaky}}
  admission: {action: Audit}
  response: {quarantine: true}
  credentials: {secretName: openai, maxAgeDays: 30}
---
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: absent-secret, namespace: ${NAMESPACE}}
spec:
  api: {endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: High}
  selector: {matchLabels: {tier: other}}
  credentials: {secretName: absent}
`;

const ENV = [
  { name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" },
  { name: "DEEPSEEK_BASE_URL", value: "https://api.deepseek.com" },
  { name: "LLM_URL", value: "http://llm.example.com/v1" },
];
/** Its pods labelled tier=<tier> only: a label the quarantine's podSelector copies must not hold a key. */
const deploymentJson = (name: string, tier: string) =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: { tier } },
      template: { metadata: { labels: { tier } }, spec: { containers: [{ name: "app", image: "app:1", env: ENV }] } },
    },
  });
const deployment = deploymentJson(WORKLOAD, "leaky");

/** Neither a key nor a long piece of one (a hint keeps the last 4 characters). */
function expectNoKey(text: string, where: string): void {
  for (const k of KEYS) {
    expect(text, where).not.toContain(k.slice(3, 20));
    expect(text, where).not.toContain(k.slice(-16));
  }
}

/**
 * What ai-api-guard wrote in the namespace, as kubectl prints it, less what refers to the namespace and the
 * policy (an object's namespace, an Event's involvedObject, an owner reference, the policy's own name and
 * kubectl's copy of it):
 * its Events (Kubernetes' own name the Deployment's ReplicaSets and Pods), NetworkPolicies, the policies'
 * statuses, the Report.
 */
async function written(): Promise<{ text: string; kinds: string[] }> {
  const kinds = "events,networkpolicies,aiapipolicies,reports.openreports.io";
  const listed = JSON.parse((await kubectl(["-n", NAMESPACE, "get", kinds, "-o", "json"])).stdout);
  type Item = { kind: string; reportingComponent?: string; metadata: Record<string, unknown> };
  const ours = (listed.items as Item[]).filter((i) => i.kind !== "Event" || i.reportingComponent === "ai-api-guard");
  const text = JSON.stringify(ours, (field, value) =>
    // kubectl's own copy of what it applied is the user's, not ai-api-guard's.
    ["namespace", "ownerReferences", "involvedObject", "managedFields", "annotations"].includes(field)
      ? undefined
      : value,
  );
  // The policies' own names are theirs, not ai-api-guard's.
  return { text: text.replaceAll(`"name":"${POLICY}"`, ""), kinds: ours.map((i) => i.kind) };
}

/** Its stdout and stderr, once it exited with `status`. */
function cli(args: string[], status: number): string {
  const run = spawnSync(NODE, [MAIN, ...args], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(status);
  return run.stdout + run.stderr;
}

/** A kubeconfig for a ServiceAccount of the namespace with no rights, written into `dir`. */
async function readerKubeconfig(dir: string): Promise<string> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: "reader" } } });
  const token = await core.createNamespacedServiceAccountToken({ name: "reader", namespace: NAMESPACE, body: {} });
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...kubeConfig().getCurrentCluster(), name: "local" }],
    users: [{ name: "reader", token: token.status?.token }],
    contexts: [{ name: "reader", cluster: "local", user: "reader" }],
    currentContext: "reader",
  });
  const path = join(dir, "reader.kubeconfig");
  writeFileSync(path, kc.exportConfig());
  return path;
}

beforeAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  // Its floor lets a policy ask for Audit: the Deployment is admitted, and the audit and controller see it.
  const labels = { "aiapiguard.dev/action-floor": "Audit" };
  await core.createNamespace({ body: { metadata: { name: NAMESPACE, labels } } });
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(policies);
  metricsPort = await freePort();
  operator = await startOperator(
    kubeconfigPath(),
    ["--default-action", "Audit", "--metrics-port", String(metricsPort), "--audit-interval", "5"],
    { controllerNamespaces: [NAMESPACE] },
  );
  // After the webhook is up: it reviews the Deployment, under Audit.
  await applyYaml(deployment);
});

afterAll(async () => {
  await kubectl(["-n", NAMESPACE, "delete", "aap", "--all", "--timeout=30s"]);
  await operator?.stop();
  await kubectl(["delete", "namespace", NAMESPACE, "--wait=false"]);
});

describe("a namespace, a policy and a workload named with keys", () => {
  it("are named by their hints in the Report, the policies' statuses and the Events", async () => {
    const report = await eventually(
      async () => {
        const got = await auditReport(NAMESPACE);
        return got && got.results.length >= 3 ? got : undefined;
      },
      60_000,
      "the audit's Report",
    );
    expect(report.results.map((r) => r.resources[0])).toContainEqual(
      expect.objectContaining({
        kind: "Deployment",
        namespace: hint(NAMESPACE),
        name: `team-a-${hint(WORKLOAD_KEY)}-worker`,
      }),
    );
    const status = await eventually(
      async () => {
        const got = await kubectl(["-n", NAMESPACE, "get", "aap", POLICY, "-o", "jsonpath={.status.workloads.names}"]);
        return got.stdout.includes("Deployment/") ? got.stdout : undefined;
      },
      30_000,
      "the policy's status",
    );
    expect(JSON.parse(status)).toEqual([`Deployment/team-a-${hint(WORKLOAD_KEY)}-worker`]);
    // The Secret is mounted at a path named after the policy's uid, as its volume is named: not after its name.
    const uid = (await kubectl(["-n", NAMESPACE, "get", "aap", POLICY, "-o", "jsonpath={.metadata.uid}"])).stdout;
    const template = await eventually(
      async () => {
        const got = await kubectl(["-n", NAMESPACE, "get", "deployment", WORKLOAD, "-o", "json"]);
        const spec = JSON.parse(got.stdout).spec.template.spec;
        return spec.volumes ? spec : undefined;
      },
      30_000,
      "the Secret's mount",
    );
    expect(template.volumes).toEqual([expect.objectContaining({ name: `aiapiguard-${uid}` })]);
    expect(template.containers[0].volumeMounts).toEqual([
      expect.objectContaining({ mountPath: `/var/run/secrets/ai-api/${uid}` }),
    ]);
    const missing = await eventually(
      async () => {
        const got = await kubectl(["-n", NAMESPACE, "get", "aap", "absent-secret", "-o", "json"]);
        const conditions = JSON.parse(got.stdout).status?.conditions as { message: string }[] | undefined;
        return conditions?.find((c) => c.message.includes("Secret absent does not exist"));
      },
      30_000,
      "the missing Secret's condition",
    );
    expect(missing.message).toContain(`in namespace ${hint(NAMESPACE)}`);
  });

  it("appear nowhere ai-api-guard wrote: Events, NetworkPolicies, statuses, Reports, log lines, metrics", async () => {
    await eventually(
      async () => (await written()).kinds.includes("NetworkPolicy"),
      30_000,
      "the quarantine's NetworkPolicy",
    );
    const { text, kinds } = await written();
    expect(kinds).toEqual(expect.arrayContaining(["Event", "AiApiPolicy", "Report"]));
    expectNoKey(text, "the namespace's objects");
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(`aiapiguard_credential_rotation_overdue{namespace="${hint(NAMESPACE)}"`);
    expect(metrics).toContain("aiapiguard_audit_findings{");
    expectNoKey(metrics, "the metrics");
    expect(operator?.output()).toContain(hint(NAMESPACE));
    expectNoKey(operator?.output() ?? "", "the operator's log");
  });

  // The read API shows them as `inventory` does: test/unit/readapi/readapi.test.ts.
  it("appear in no refusal, inventory or scan output", async () => {
    // The other policy selects it, with the Deny its High sensitivity sets.
    const refused = await kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: deploymentJson(`${WORKLOAD}-strict`, "other"),
    });
    expect(refused.stderr).toContain(`denied the request: Deployment ${hint(NAMESPACE)}/`);
    expectNoKey(refused.stderr, "the refusal");
    const kubeconfig = ["--kubeconfig", kubeconfigPath(), "-n", NAMESPACE];
    for (const format of ["csv", "json", "markdown"]) {
      const out = cli(["inventory", ...kubeconfig, "--format", format], 0);
      expect(out, format).toContain(hint(NAMESPACE));
      expectNoKey(out, `inventory --format ${format}`);
    }
    const dir = mkdtempSync(join(tmpdir(), "key-namespace-"));
    // A reader the API server refuses: its refusal quotes the namespace, and its user name holds it.
    const forbidden = cli(["inventory", "--kubeconfig", await readerKubeconfig(dir), "-n", NAMESPACE], 2);
    expect(forbidden).toContain(`cannot list resource "aiapipolicies"`);
    expectNoKey(forbidden, "inventory refused");
    writeFileSync(join(dir, "deployment.json"), deployment);
    for (const format of ["text", "json", "sarif"]) {
      const out = cli(["scan", "--format", format, join(dir, "deployment.json")], 1);
      expect(out, format).toContain(hint(NAMESPACE));
      expectNoKey(out, `scan --format ${format}`);
    }
  });

  it("leave no series of the policy's gauges once it is deleted", async () => {
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const series = `aiapiguard_review_overdue{namespace="${hint(NAMESPACE)}",policy="${hint(POLICY)}"}`;
    expect(await scrape()).toContain(series);
    await kubectl(["-n", NAMESPACE, "delete", "aap", POLICY, "--timeout=30s"]);
    await eventually(async () => !(await scrape()).includes(series), 30_000, "the deleted policy's series gone");
  });
});
