// `ai-api-guard inventory --kubeconfig` against the real API server, with policies and workloads made by kubectl.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";

const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
const NODE = join(import.meta.dirname, "../../node_modules/.bin/node");
const ns = useTestNamespace("inv");

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
  const applied = await kubectl(["apply", "-f", "-"], { input: manifests(ns.name) });
  if (applied.code !== 0) throw new Error(applied.stderr);
});

describe("ai-api-guard inventory --kubeconfig", () => {
  it("prints the CSV from the cluster's policies and the unregistered APIs its workloads call", () => {
    const run = inventory("-n", ns.name);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split("\r\n")).toEqual([
      "API Name,Endpoint,Auth Type,Data Sensitivity,Owner,Last Reviewed,Review Status",
      expect.stringMatching(/^OpenAI,https:\/\/api\.openai\.com\/v1,APIKey,High,ML,2020-01-01,overdue by \d+ days$/),
      "Anthropic,api.anthropic.com,,,,,unregistered",
    ]);
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
});
