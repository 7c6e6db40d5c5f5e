import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { deploymentYaml, folderWith, MAIN, runCli } from "./run.ts";

const fake = fakeSecrets(11);
const CLEAN = deploymentYaml("clean", { LOG_LEVEL: "info", UPSTREAM: "http://api.shop.svc:8080" });
const DIRTY = deploymentYaml("dirty", { LOG_LEVEL: "info", OPENAI_API_KEY: fake.openai ?? "" });

describe("ai-api-guard scan: exit codes", () => {
  it("exits 0 on clean input", () => {
    const run = runCli(["scan", folderWith({ "app.yaml": CLEAN })]);
    expect(run.stdout).toContain("no findings in 1 object in 1 file");
    expect(run.code).toBe(0);
  });

  it("exits 1 on findings", () => {
    const run = runCli(["scan", folderWith({ "app.yaml": DIRTY })]);
    expect(run.stdout).toContain("1 finding (1 hardcoded-secret)");
    expect(run.code).toBe(1);
  });

  it("exits 0 when every finding is exempt, and still lists them", () => {
    const exempt = deploymentYaml(
      "legacy",
      { OPENAI_API_KEY: fake.openai ?? "" },
      '  annotations:\n    aiapiguard.dev/exempt: "hardcoded-secret"\n',
    );
    const run = runCli(["scan", "--format", "json", folderWith({ "legacy.yaml": exempt })]);
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: { exempt: boolean }) => f.exempt)).toEqual([true]);
    expect(report.summary).toMatchObject({ findings: 0, exempt: 1 });
    expect(run.code).toBe(0);
  });

  it("exits with the scan's code, and no stack trace, when its reader stops early (| head)", async () => {
    // Findings and an input error: exit 2, which no crash gives.
    const files = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`app-${i}.yaml`, DIRTY]));
    files["broken.yaml"] = "a: [";
    const child = spawn(process.execPath, [MAIN, "scan", "-f", "sarif", folderWith(files)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // The reader goes away before the report (far more than a pipe holds) is written.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    // Before: an unhandled EPIPE, its stack trace on stderr, and exit 1 whatever the scan found.
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).toMatch(/^\S+broken\.yaml:1: invalid YAML: .*\n$/);
    expect(code).toBe(2);
  });

  it("exits 2 on usage errors", () => {
    expect(runCli(["scan"]).code).toBe(2);
    expect(runCli(["scan", "--format", "xml", "."]).stderr).toContain('unknown format "xml"');
    expect(runCli(["scan", "--format", "xml", "."]).code).toBe(2);
    expect(runCli(["scan", "--verbose", "."]).code).toBe(2);
    expect(runCli(["no-such-command"]).code).toBe(2);
  });

  it("exits 2 on unreadable files and invalid YAML, naming file and line, and still scans the rest", () => {
    const broken = `${CLEAN}---\nkind: Pod\nmetadata: [oops\nspec:\n  containers: {a: [}\n`;
    const root = folderWith({ "a-broken.yaml": broken, "b-dirty.yaml": DIRTY });
    const run = runCli([
      "scan",
      "-f",
      "json",
      root,
      join(root, "missing.yaml"),
      join(folderWith({ "empty/notes.txt": "x" }), "empty"),
    ]);
    // One error per broken document: the ones yaml reports after the first follow from it.
    expect(run.stderr.match(/a-broken\.yaml:\d+: invalid YAML: /g)).toHaveLength(1);
    expect(run.stderr).toContain("missing.yaml: cannot read: no such file or folder");
    expect(run.stderr).toContain("empty: no .yaml, .yml or .json files in this folder");
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: { resource: string }) => f.resource)).toEqual(["Deployment/shop/dirty"]);
    expect(report.summary.objects).toBe(2);
    expect(run.code).toBe(2);
  });

  it("exits 2, naming file and line, on YAML whose aliases cannot become an object, and still scans the rest", () => {
    // An alias inside what it names (legal YAML, a cycle JSON cannot hold) and an alias bomb (yaml's limit).
    const cycle = `${CLEAN}---\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &x\n  self: *x\n`;
    let bomb = "kind: ConfigMap\nmetadata: {name: bomb}\nlaugh0: &a0 [lol]\n";
    for (let i = 1; i < 12; i++)
      bomb += `laugh${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(",")}]\n`;
    const root = folderWith({ "a-cycle.yaml": cycle, "b-bomb.yaml": bomb, "c-dirty.yaml": DIRTY });
    const run = runCli(["scan", "-f", "json", root]);
    const aliasLine = cycle.split("\n").indexOf("  self: *x") + 1;
    expect(run.stderr).toContain(`a-cycle.yaml:${aliasLine}: invalid YAML: an alias refers to a node that contains it`);
    expect(run.stderr).toMatch(/b-bomb\.yaml:1: invalid YAML: .*alias/);
    expect(run.stderr).not.toContain("    at ");
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: { resource: string }) => f.resource)).toEqual(["Deployment/shop/dirty"]);
    expect(report.summary.objects).toBe(2);
    expect(run.code).toBe(2);
  });

  it("exits 2 on an object the rules cannot read", () => {
    const run = runCli(["scan", "-"], "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: nope\n");
    expect(run.stderr).toContain("<stdin>:4: Pod//p: spec.containers is a string, not a list");
    expect(run.code).toBe(2);
  });

  it("names the line of the field the rules cannot read, in a List too", () => {
    // ingress-nginx's vouch-proxy example: `value: true`, a boolean where kubectl wants a string.
    const pod =
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n      env:\n        - name: DEBUG\n          value: true\n";
    const list = `kind: List\nitems:\n  - ${pod.trimEnd().replaceAll("\n", "\n    ")}\n`;
    const run = runCli(["scan", "-", join(folderWith({ "list.yaml": list }), "list.yaml")], pod);
    // Before: line 1, the document's first line, for both.
    expect(run.stderr).toContain("<stdin>:8: Pod//p: spec.containers[0].env[0].value is a boolean, not a string");
    expect(run.stderr).toContain("list.yaml:10: Pod//p: items[0].spec.containers[0].env[0].value is a boolean");
    expect(run.code).toBe(2);
  });

  it("exits 0 on the product's own CRD, install manifests and examples", () => {
    // Before: the CRD's schema (a `containers` property is an object) was an input error, exit 2, and
    // the Deployment's AI_API_GUARD_CERTIFICATE_SECRET (a Secret's name) a hardcoded password.
    const repo = join(import.meta.dirname, "../../..");
    const run = runCli(["scan", ...["crds", "manifests", "examples"].map((dir) => join(repo, dir))]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^no findings in \d+ objects/m);
    expect(run.code).toBe(0);
  });

  it("reads a CRD's schema (Ray's, Argo's) as data, where `containers` is an object", () => {
    const crd = [
      "apiVersion: apiextensions.k8s.io/v1",
      "kind: CustomResourceDefinition",
      "metadata: {name: rayclusters.ray.io}",
      "spec:",
      "  versions:",
      "    - name: v1",
      "      schema:",
      "        openAPIV3Schema:",
      "          properties:",
      "            spec:",
      "              properties:",
      "                containers: {type: array, items: {type: object}}",
      `                example: {type: string, default: ${fake.openai}}`,
    ].join("\n");
    const run = runCli(["scan", "-f", "json", "-"], crd);
    expect(run.stderr).toBe("");
    // Still read: a key in it is reported, not skipped with the schema.
    expect(JSON.parse(run.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(["hardcoded-secret"]);
    expect(run.code).toBe(1);
  });
});

describe("ai-api-guard scan: inputs", () => {
  it("reads stdin, multi-document YAML and helm template output", () => {
    const helm = `---\n# Source: shop/templates/clean.yaml\n${CLEAN}---\n# Source: shop/templates/dirty.yaml\n${DIRTY}`;
    const run = runCli(["scan", "-f", "json", "-"], helm);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toHaveLength(1);
    const line = helm.split("\n").findIndex((l) => l.includes(fake.openai ?? "-")) + 1;
    expect(line).toBeGreaterThan(30);
    expect(report.findings[0]).toMatchObject({ file: "<stdin>", resource: "Deployment/shop/dirty", line });
  });

  it("leaves a Helm chart's templates in a folder to helm template, saying so, and reads the rest", () => {
    const chart = {
      "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
      "charts/shop/values.yaml": "replicaCount: 1\n",
      "charts/shop/templates/deployment.yaml": 'metadata:\n  labels:\n    {{- include "shop.labels" . | nindent 4 }}\n',
      "deploy/dirty.yaml": DIRTY,
    };
    const folder = folderWith(chart);
    const run = runCli(["scan", folder]);
    // Before: the template was invalid YAML, an input error, and the scan exited 2 whatever it found.
    expect(run.stderr).not.toContain("invalid YAML");
    expect(run.stderr).toContain(`${join(folder, "charts/shop")}: a Helm chart: its templates are read once rendered`);
    expect(run.stdout).toContain("1 finding (1 hardcoded-secret)");
    expect(run.code).toBe(1);
    // A template named on the command line is still read, and is still no YAML.
    expect(runCli(["scan", join(folder, "charts/shop/templates/deployment.yaml")]).code).toBe(2);
  });

  it("walks folders for .yaml, .yml and .json only", () => {
    const list = JSON.stringify({
      kind: "List",
      items: [
        JSON.parse(
          JSON.stringify({
            kind: "Pod",
            metadata: { name: "p" },
            spec: { containers: [{ name: "c", env: [{ name: "GROQ_API_KEY", value: fake.groq }] }] },
          }),
        ),
      ],
    });
    const root = folderWith({ "a/one.yaml": DIRTY, "a/b/two.yml": DIRTY, "c/list.json": list, "notes.txt": DIRTY });
    const report = JSON.parse(runCli(["scan", "-f", "json", root]).stdout);
    expect(report.summary.files).toBe(3);
    expect(report.findings.map((f: { file: string }) => f.file.slice(root.length + 1))).toEqual([
      "a/b/two.yml",
      "a/one.yaml",
      "c/list.json",
    ]);
    expect(report.findings[2]).toMatchObject({ path: "items[0].spec.containers[0].env[0].value", line: 1 });
  });

  it("applies AiApiPolicy endpoints from any input to workloads in every input", () => {
    const policy =
      "apiVersion: aiapiguard.dev/v1alpha1\nkind: AiApiPolicy\nmetadata: {name: llm, namespace: ml}\nspec:\n  api: {endpoint: https://llm.ml.svc/v1}\n";
    const workload = deploymentYaml("caller", { LLM_URL: "http://llm.ml.svc/v1" });
    const root = folderWith({ "policy.yaml": policy, "workload.yaml": workload });
    const report = JSON.parse(runCli(["scan", "-f", "json", root]).stdout);
    // The caller is in another namespace than the policy, so it also calls a policy's API unregistered.
    expect(report.findings.map((f: { rule: string; severity: string }) => [f.rule, f.severity])).toEqual([
      ["plaintext-endpoint", "high"],
      ["unregistered-ai-api", "medium"],
    ]);
    expect(JSON.parse(runCli(["scan", "-f", "json", join(root, "workload.yaml")]).stdout).findings).toEqual([]);
  });
});

describe("ai-api-guard scan: no output ever holds a secret", () => {
  it("keeps a value out of yaml's error messages that quote the source (a password that starts with * or |)", () => {
    const secret = fake.random ?? "";
    const env = (value: string) =>
      `kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - env:\n        - {name: DB_PASSWORD, value: ${value}}\n`;
    const run = runCli(["scan", folderWith({ "alias.yaml": env(`*${secret}`), "block.yaml": `a: |${secret}\n  b\n` })]);
    // Before: "invalid YAML: Unresolved alias (the anchor must be set before the alias): <the password>".
    expect(run.stderr).toMatch(/alias\.yaml:6: invalid YAML: an alias \(\*name\) names no anchor before it/);
    expect(run.stderr).toMatch(/block\.yaml:1: invalid YAML: /);
    expect(run.stderr + run.stdout).not.toContain(secret.slice(0, 8));
    expect(run.code).toBe(2);
  });

  it("keeps planted canaries out of text, JSON and SARIF, stdout and stderr", () => {
    const canaries = Object.values(fakeSecrets(12));
    const env = Object.fromEntries(canaries.map((value, i) => [`CANARY_${i}_TOKEN`, value]));
    const configMap = `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: canary}\ndata:\n  app.env: |\n${canaries.map((c, i) => `    KEY_${i}=${JSON.stringify(c)}`).join("\n")}\n`;
    const url = `---\n${deploymentYaml("urls", { DB: `postgres://app:${fake.password}@db.example.net/app`, BROKEN: "{{" })}`;
    const root = folderWith({
      "canary.yaml": deploymentYaml("canary", env) + configMap + url,
      "broken.yaml": `a: [${canaries[0]}\nb: 1\n`,
    });
    for (const format of ["text", "json", "sarif"]) {
      const run = runCli(["scan", "--format", format, root]);
      expect(run.code, format).toBe(2);
      expect(run.stdout.length, format).toBeGreaterThan(500);
      const output = run.stdout + run.stderr;
      for (const canary of [...canaries, fake.password ?? ""]) {
        // A webhook URL's secret is its last segment; "https://" is in every SARIF file.
        const secret = canary.startsWith("https://") ? canary.slice(canary.lastIndexOf("/") + 1) : canary;
        expect(output, format).not.toContain(secret);
        expect(output, format).not.toContain(secret.slice(0, 8));
      }
    }
  });

  it("names an object named with a key by its hint, in text, JSON and SARIF and in an unreadable object's error", () => {
    // A DeepSeek key is a valid object name: the resource each finding names would quote it.
    const key = fake.deepseek ?? "";
    const unreadable = `---\nkind: Pod\nmetadata: {name: ${key}}\nspec: {containers: oops}\n`;
    const root = folderWith({
      "named.yaml": `${deploymentYaml(key, { OPENAI_API_KEY: fake.openai ?? "" })}${unreadable}`,
    });
    for (const format of ["text", "json", "sarif"]) {
      const run = runCli(["scan", "--format", format, root]);
      expect(run.code, format).toBe(2);
      expect(run.stdout, format).toContain(`Deployment/shop/<DeepSeek API key ending …${key.slice(-4)}>`);
      expect(run.stderr, format).toContain(`Pod//<DeepSeek API key ending …${key.slice(-4)}>: spec.containers is`);
      expect(run.stdout + run.stderr, format).not.toContain(key.slice(3, 11));
    }
  });

  it("names a ConfigMap named with a key by its hint where a workload reads an AI API's URL from it", () => {
    const key = fake.deepseek ?? "";
    const manifests = `apiVersion: v1
kind: ConfigMap
metadata: {name: ${key}, namespace: shop}
data: {OPENAI_BASE_URL: "https://api.openai.com/v1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: app, image: app:1, envFrom: [{configMapRef: {name: ${key}}}]}]
`;
    const run = runCli(["scan", folderWith({ "chat.yaml": manifests })]);
    expect(run.stdout).toContain(`ConfigMap "<DeepSeek API key ending …${key.slice(-4)}>" key "OPENAI_BASE_URL"`);
    expect(run.stdout + run.stderr).not.toContain(key.slice(3, 11));
  });
});
