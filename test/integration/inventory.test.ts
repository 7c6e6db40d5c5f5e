// `ai-api-guard inventory --kubeconfig` against the real API server, with policies and workloads made by kubectl.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";

const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
const NODE = join(import.meta.dirname, "../../node_modules/.bin/node");
const ns = useTestNamespace("inv");
// The same policy name, API name and unregistered host in a second namespace: another team to ask.
const other = useTestNamespace("inv");
type Entry = { apiName?: string; provider?: string; namespace: string; policy?: string; workloads: string[] };
const CONTRACT = "API Name,Endpoint,Auth Type,Data Sensitivity,Owner,Last Reviewed,Review Status";

function inventory(...args: string[]) {
  const run = spawnSync(NODE, [MAIN, "inventory", "--kubeconfig", kubeconfigPath(), ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const manifests = (namespace: string) => `
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: openai, namespace: ${namespace}}
spec:
  api: {displayName: OpenAI, endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: High, owner: ML, lastReviewed: "2020-01-01"}
  selector: {matchLabels: {app: chat}}
  admission: {action: Warn}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers: [{name: app, image: chat:1, env: [{name: OPENAI_BASE_URL, value: "https://api.openai.com/v1"}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: llm, namespace: ${namespace}}
data: {ANTHROPIC_BASE_URL: "https://api.anthropic.com"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: digest, namespace: ${namespace}}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: digest:1, envFrom: [{configMapRef: {name: llm}}]}]
`;

beforeAll(async () => {
  await installCrds();
  for (const namespace of [ns.name, other.name]) {
    const applied = await kubectl(["apply", "-f", "-"], { input: manifests(namespace) });
    if (applied.code !== 0) throw new Error(applied.stderr);
  }
});

describe("ai-api-guard inventory --kubeconfig", () => {
  it("prints the CSV from the cluster's policies and the unregistered APIs its workloads call", () => {
    const run = inventory("-n", ns.name);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split("\r\n")).toEqual([
      `${CONTRACT},Namespace,Policy,Workloads`,
      expect.stringMatching(
        new RegExp(
          `^OpenAI,https://api\\.openai\\.com/v1,APIKey,High,ML,2020-01-01,overdue by \\d+ days,${ns.name},openai,Deployment/chat$`,
        ),
      ),
      `Anthropic,api.anthropic.com,,,,,unregistered,${ns.name},,CronJob/digest`,
    ]);
  });

  it("tells the same API in two namespaces apart, alike in CSV, JSON and markdown", () => {
    // Before, the CSV had no namespace: both namespaces gave the same two rows, and no one to ask.
    const mine = [ns.name, other.name];
    const csv = inventory().stdout.trimEnd().split("\r\n");
    expect(csv[0]).toBe(`${CONTRACT},Namespace,Policy,Workloads`);
    const fromCsv = csv.map((line) => line.split(",")).map((c) => [c[0], c[7], c[8], c[9]]);
    const json = JSON.parse(inventory("--format", "json").stdout) as Record<"apis" | "unregistered", Entry[]>;
    const fromJson = [
      ...json.apis.map((e) => [e.apiName, e.namespace, e.policy, e.workloads.join(", ")]),
      ...json.unregistered.map((u) => [u.provider, u.namespace, "", u.workloads.join(", ")]),
    ];
    const markdown = inventory("--format", "markdown").stdout.trimEnd().split("\n").slice(2);
    const fromMarkdown = markdown.map((line) => line.slice(2, -2).split(" | ")).map((c) => [c[0], c[7], c[8], c[9]]);
    const ours = (rows: unknown[][]) => rows.filter((row) => mine.includes(row[1] as string));
    const [first, second] = [...mine].sort();
    const expected = [
      ["OpenAI", first, "openai", "Deployment/chat"],
      ["OpenAI", second, "openai", "Deployment/chat"],
      ["Anthropic", first, "", "CronJob/digest"],
      ["Anthropic", second, "", "CronJob/digest"],
    ];
    expect(ours(fromCsv)).toEqual(expected);
    expect(ours(fromJson)).toEqual(expected);
    expect(ours(fromMarkdown)).toEqual(expected);
  });

  it("gives the workloads each policy selects and its Ready state in JSON", () => {
    const run = inventory("-n", ns.name, "--format", "json");
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.apis).toEqual([
      expect.objectContaining({
        namespace: ns.name,
        policy: "openai",
        workloads: ["Deployment/chat"],
        ready: { status: "Unknown", reason: "NoStatus" },
      }),
    ]);
    expect(json.unregistered).toEqual([
      { namespace: ns.name, host: "api.anthropic.com", provider: "Anthropic", workloads: ["CronJob/digest"] },
    ]);
  });

  it("shows the Ready condition a controller wrote", async () => {
    const status = {
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Reconciled",
            message: "all set",
            lastTransitionTime: "2026-11-29T00:00:00Z",
          },
        ],
      },
    };
    const patched = await kubectl([
      "patch",
      "aap",
      "openai",
      "-n",
      ns.name,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(status),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const markdown = inventory("-n", ns.name, "--format", "markdown").stdout;
    expect(markdown).toMatch(/\| OpenAI \| .* \| Deployment\/chat \| True \(Reconciled\) \|/);
  });

  it("reads every namespace by default, and says what to do when the cluster cannot be read", () => {
    const all = inventory("--format", "json");
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).apis.map((e: { namespace: string }) => e.namespace)).toContain(ns.name);
    const broken = spawnSync(NODE, [MAIN, "inventory", "--kubeconfig", "/nonexistent"], { encoding: "utf8" });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain("cannot read the kubeconfig /nonexistent");
  });

  it("reads the cluster of the context named by --context, not the kubeconfig's current one", () => {
    // The test cluster's kubeconfig with a second context, current, whose server answers nothing.
    const config = parse(readFileSync(kubeconfigPath(), "utf8"));
    const real = config["current-context"];
    config.clusters.push({ name: "gone", cluster: { server: "https://127.0.0.1:1" } });
    config.contexts.push({ name: "gone", context: { cluster: "gone", user: config.contexts[0].context.user } });
    config["current-context"] = "gone";
    const path = join(mkdtempSync(join(tmpdir(), "aag-inv-")), "config");
    writeFileSync(path, stringify(config));
    const run = (...args: string[]) =>
      spawnSync(NODE, [MAIN, "inventory", "--kubeconfig", path, "-n", ns.name, ...args], { encoding: "utf8" });
    expect(run().status).toBe(2);
    const chosen = run("--context", real);
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).toContain(`,${ns.name},openai,Deployment/chat`);
    const unknown = run("--context", "prod");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`has no context "prod" (it has: ${real}, gone); pass one of them to --context`);
  });
});
