// An object named with a key (a DeepSeek key, "sk-" + 32 hex, is a valid name) that was in the cluster
// before ai-api-guard ran: `ai-api-guard run` (audit, quarantine, controller, webhook under Audit), the
// inventory and the read API's sources name it by its hint, and write no Event that would keep its name.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterSources } from "../../src/readapi/index.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { applyYaml, auditReport, eventsWhere, openaiPolicyYaml } from "../support/workloads.ts";

const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
const NODE = join(import.meta.dirname, "../../node_modules/.bin/node");
const ns = useTestNamespace("keyname");
// Made at run time: no key-shaped literal sits in the repository.
const KEY = `sk-${randomBytes(16).toString("hex")}`;
const HINT = `<DeepSeek API key ending …${KEY.slice(-4)}>`;
// A container's name is a DNS label too.
const CONTAINER_KEY = `sk-${randomBytes(16).toString("hex")}`;
const CONTAINER_HINT = `<DeepSeek API key ending …${CONTAINER_KEY.slice(-4)}>`;
let operator: Operator | undefined;
let metricsPort = 0;

const objects = `
apiVersion: v1
kind: Secret
metadata: {name: openai, namespace: ${ns.name}}
stringData: {api-key: from-a-vault}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ${KEY}, namespace: ${ns.name}}
data: {mode: chat}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${KEY}, namespace: ${ns.name}}
spec:
  selector: {matchLabels: {app: leaky}}
  template:
    metadata: {labels: {app: leaky}}
    spec:
      containers:
        - name: ${CONTAINER_KEY}
          image: app:1
          env:
            - {name: OPENAI_BASE_URL, value: "https://api.openai.com/v1"}
            - {name: DEEPSEEK_BASE_URL, value: "https://api.deepseek.com"}
`;

/**
 * What ai-api-guard wrote in the namespace, as kubectl prints it: its Events (Kubernetes' own controllers
 * name the Deployment's ReplicaSets and Pods in theirs), NetworkPolicies, the policy's status, the Report.
 */
async function writtenJson(): Promise<string> {
  const kinds = "events,networkpolicies,aiapipolicies,reports.openreports.io";
  const listed = JSON.parse((await kubectl(["-n", ns.name, "get", kinds, "-o", "json"])).stdout);
  const ours = (listed.items as { kind: string; reportingComponent?: string }[]).filter(
    (item) => item.kind !== "Event" || item.reportingComponent === "ai-api-guard",
  );
  expect(ours.filter((item) => item.kind === "Event").length).toBeGreaterThan(0);
  return JSON.stringify(ours);
}

function inventoryCli(format: string): string {
  const run = spawnSync(
    NODE,
    [MAIN, "inventory", "--kubeconfig", kubeconfigPath(), "-n", ns.name, "--format", format],
    { encoding: "utf8" },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout + run.stderr;
}

/** Neither key nor a long piece of one (a hint keeps the last 4 characters). */
function expectNoKey(text: string, where: string): void {
  for (const key of [KEY, CONTAINER_KEY]) {
    expect(text, where).not.toContain(key.slice(3, 20));
    expect(text, where).not.toContain(key.slice(-16));
  }
}

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(objects);
  await applyYaml(
    openaiPolicyYaml(ns.name, "leaky", "  response: {quarantine: true}\n  credentials: {secretName: openai}"),
  );
  // Mounts where "openai" (first by name) mounts, in the container named with a key.
  await applyYaml(`
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: second, namespace: ${ns.name}}
spec:
  api: {endpoint: "https://api.mistral.ai/v1", authType: APIKey, sensitivity: High}
  selector: {matchLabels: {app: leaky}}
  credentials: {secretName: openai, mountPath: /var/run/secrets/ai-api/openai}
`);
  // Under Audit the webhook admits the controller's Secret mount on the Deployment it would refuse.
  metricsPort = await freePort();
  operator = await startOperator(
    kubeconfigPath(),
    ["--default-action", "Audit", "--metrics-port", String(metricsPort)],
    {
      controllerNamespaces: [ns.name],
    },
  );
});

afterAll(async () => {
  await kubectl(["-n", ns.name, "delete", "aap", "--all", "--timeout=30s"]);
  await operator?.stop();
});

describe("an object named with a key", () => {
  it("is named by its hint in the Report, linked by uid, quarantined, and announced on its policies only", async () => {
    const report = await eventually(
      async () => {
        const got = await auditReport(ns.name);
        return got && got.results.length >= 3 ? got : undefined;
      },
      60_000,
      "the audit's Report",
    );
    const uid = (await kubectl(["-n", ns.name, "get", "deployment", KEY, "-o", "jsonpath={.metadata.uid}"])).stdout;
    expect(report.results.map((r) => r.resources[0])).toEqual(
      expect.arrayContaining([
        { apiVersion: "apps/v1", kind: "Deployment", namespace: ns.name, name: HINT, uid },
        expect.objectContaining({ kind: "ConfigMap", name: HINT }),
      ]),
    );
    const quarantine = await eventually(
      async () => {
        const listed = await kubectl(["-n", ns.name, "get", "networkpolicies", "-o", "json"]);
        const items = JSON.parse(listed.stdout).items as { metadata: { name: string }; spec: unknown }[];
        return items.find((p) => p.metadata.name.startsWith("aiapiguard-quarantine-"));
      },
      30_000,
      "the quarantine",
    );
    expect(quarantine.spec).toMatchObject({ podSelector: { matchLabels: { app: "leaky" } }, policyTypes: ["Egress"] });
    // The policy's Event can be written: it names the policy, and the workload by its hint.
    const exposed = await eventually(
      async () => {
        const events = await eventsWhere(ns.name, "reason=CredentialExposed");
        return events.length > 0 ? events : undefined;
      },
      30_000,
      "the CredentialExposed Event",
    );
    // One for each key, on each policy that selects the workload.
    expect(new Set(exposed.map((e) => `${e.kind}/${e.name}`))).toEqual(
      new Set(["AiApiPolicy/openai", "AiApiPolicy/second"]),
    );
    expect(exposed[0]?.message).toContain(`Deployment/${HINT}`);
    // The workload's own Events would keep its name: none is written, and the log says so.
    await eventually(
      () => operator?.output().includes("no Event written about the object"),
      30_000,
      "the log line of a withheld Event",
    );
  });

  it("is named by its hint in the policy's status and Events", async () => {
    const status = await eventually(
      async () => {
        const got = await kubectl(["-n", ns.name, "get", "aap", "openai", "-o", "jsonpath={.status.workloads.names}"]);
        return got.stdout.includes("Deployment/") ? got.stdout : undefined;
      },
      30_000,
      "the policy's status",
    );
    expect(JSON.parse(status)).toEqual([`Deployment/${HINT}`]);
    const mounted = await eventually(
      async () => {
        const events = await eventsWhere(ns.name, "reason=SecretMounted");
        return events[0];
      },
      30_000,
      "the SecretMounted Event",
    );
    expect(mounted.message).toContain(`Deployment/${HINT}`);
  });

  it("in a container's name is found, and named by its hint in the Report and in the mount clash it is in", async () => {
    const report = await eventually(async () => {
      const got = await auditReport(ns.name);
      return got?.results.some((r) => r.properties?.container !== undefined) ? got : undefined;
    });
    const named = report.results.filter((r) => r.properties?.path?.endsWith(".containers[0].name"));
    expect(named.map((r) => [r.rule, r.properties?.container])).toEqual([["hardcoded-secret", CONTAINER_HINT]]);
    const clash = await eventually(async () => {
      const got = await kubectl(["-n", ns.name, "get", "aap", "second", "-o", "json"]);
      const conditions = (JSON.parse(got.stdout).status?.conditions ?? []) as { reason: string; message: string }[];
      return conditions.find((c) => c.reason === "MountPathInUse");
    });
    expect(clash.message).toContain(`in container ${CONTAINER_HINT}`);
  });

  it("is named by its hint in the inventory and what the read API serves", async () => {
    for (const format of ["csv", "json", "markdown"]) expectNoKey(inventoryCli(format), `inventory --format ${format}`);
    expect(inventoryCli("json")).toContain(`Deployment/${HINT}`);
    const sources = clusterSources(kubeConfig(), { format: "openreports", namespaces: [ns.name], ttlMs: 0 });
    const served = JSON.stringify([await sources.findings(), await sources.inventory()]);
    expect(served).toContain(HINT);
    expectNoKey(served, "the read API's findings and inventory");
  });

  it("appears nowhere ai-api-guard wrote: Events, NetworkPolicies, policies, Reports, log lines, metrics", async () => {
    expectNoKey(await writtenJson(), "the namespace's objects");
    expectNoKey(operator?.output() ?? "", "the operator's log");
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain("aiapiguard_audit_findings");
    expectNoKey(metrics, "the metrics");
  });
});
