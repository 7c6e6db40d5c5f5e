// Class 10 of issue 12: `scan` reads what kubectl sends, so a CI gate on it passes nothing the webhook refuses.
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { deploymentYaml, folderWith, runCli } from "./run.ts";

const fake = fakeSecrets(10);
const openai = fake.openai ?? "";

function findings(files: Record<string, string>): { path: string; line: number }[] {
  const run = runCli(["scan", "--format", "json", folderWith(files)]);
  expect(run.stdout).not.toContain(openai);
  return JSON.parse(run.stdout).findings.map((f: { path: string; line: number }) => ({ path: f.path, line: f.line }));
}

describe("scan reads what kubectl sends", () => {
  it("expands YAML merge keys", () => {
    const yaml = `base: &env
  - name: OPENAI_API_KEY
    value: ${openai}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: app:1
      <<: {env: [{name: OPENAI_API_KEY, value: ${openai}}]}
`;
    expect(findings({ "merge.yaml": yaml }).map((f) => f.path)).toEqual(["spec.containers[0].env[0].value"]);
  });

  it("reads !!binary binaryData as the bytes it encodes", () => {
    const encoded = Buffer.from(`OPENAI_API_KEY=${openai}\n`).toString("base64");
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData:\n  app.env: !!binary ${encoded}\n`;
    expect(findings({ "binary.yaml": yaml }).map((f) => f.path)).toEqual(['binaryData["app.env"]']);
  });

  it("reads configMapGenerator literals of a kustomization.yaml, at their line, and leaves its Secrets alone", () => {
    const yaml = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
configMapGenerator:
  - name: llm
    literals:
      - LOG_LEVEL=info
      - OPENAI_API_KEY=${openai}
secretGenerator:
  - name: llm-keys
    literals:
      - OPENAI_API_KEY=${openai}
`;
    // Once, as the ConfigMap kustomize makes; the secretGenerator makes a Secret, where a key belongs.
    expect(findings({ "kustomization.yaml": yaml })).toEqual([{ path: "data.OPENAI_API_KEY", line: 7 }]);
  });

  it("reads a kustomization.yaml's inline strategic-merge patches as the objects they patch, at their lines", () => {
    const yaml = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
patches:
  - target: {kind: Deployment, name: app}
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: app}
      spec:
        template:
          spec:
            containers:
              - name: app
                env:
                  - {name: OPENAI_API_KEY, value: ${openai}}
patchesStrategicMerge:
  - "kind: Pod\\nmetadata: {name: p}\\nspec: {containers: [{name: a, env: [{name: OPENAI_API_KEY, value: ${openai}}]}]}"
  - deployment-patch.yaml
`;
    // Before: none; kustomize builds a Deployment and a Pod that hold the key.
    expect(findings({ "kustomization.yaml": yaml })).toEqual([
      { path: "spec.template.spec.containers[0].env[0].value", line: 16 },
      { path: "spec.containers[0].env[0].value", line: 18 },
    ]);
  });

  it("reads a configMapGenerator literal whose key is __proto__ like any other", () => {
    const yaml = `kind: Kustomization\nconfigMapGenerator:\n  - name: llm\n    literals:\n      - __proto__=${openai}\n`;
    expect(findings({ "kustomization.yaml": yaml })).toEqual([{ path: "data.__proto__", line: 5 }]);
  });

  it("follows symlinked manifests", () => {
    const folder = folderWith({});
    const target = join(folder, "..", `target-${process.pid}.yml`);
    writeFileSync(target, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  OPENAI_API_KEY: ${openai}\n`);
    symlinkSync(target, join(folder, "linked.yaml"));
    const run = runCli(["scan", "--format", "json", folder]);
    expect(JSON.parse(run.stdout).findings).toHaveLength(1);
  });

  it("reads a multi-line quoted annotation indented left of its key, as kubectl does", () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    description: "calls the model
  with a key"
spec:
  containers:
    - name: app
      image: app:1
      env:
        - {name: OPENAI_API_KEY, value: ${openai}}
`;
    expect(findings({ "pod.yaml": yaml })).toEqual([{ path: "spec.containers[0].env[0].value", line: 13 }]);
  });

  it("reads multi-line quoted args in a flow sequence, single or double quoted, as kubectl does (Argo's examples)", () => {
    const workflow = (quote: string) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: ci-}
spec:
  templates:
  - name: build
    container:
      image: golang:1.25
      command: [sh, -c]
      args: [${quote}
        export OPENAI_API_KEY=${openai} &&
        go run ./cmd/eval
      ${quote}]
`;
    // Before: "invalid YAML: Missing closing quote" for both, exit 2 and the key unseen.
    const crlf = workflow("'").replaceAll("\n", "\r\n");
    expect(findings({ "a.yaml": workflow('"'), "b.yaml": workflow("'"), "c.yaml": crlf })).toEqual([
      { path: "spec.templates[0].container.args[0]", line: 10 },
      { path: "spec.templates[0].container.args[0]", line: 10 },
      { path: "spec.templates[0].container.args[0]", line: 10 },
    ]);
  });

  it("reads a multi-line quoted value of a list item's key whose lines sit at the item's dash (Istio's CRD)", () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: app:1
      env:
        - value: 'the key is
        ${openai}'
          name: NOTE
`;
    // Before: "invalid YAML: Missing closing 'quote", exit 2 and the key unseen.
    expect(findings({ "pod.yaml": yaml })).toEqual([{ path: "spec.containers[0].env[0].value", line: 9 }]);
  });

  it("reads a stream of JSON objects (jq '.items[]' output), at their lines, as kubectl does", () => {
    const pod = (name: string, value: string) =>
      JSON.stringify(
        {
          kind: "Pod",
          metadata: { name },
          spec: { containers: [{ name: "a", env: [{ name: "OPENAI_API_KEY", value }] }] },
        },
        null,
        2,
      );
    const stream = `${pod("a", "x")}\n${pod("b", openai)}{"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"OPENAI_API_KEY": "${openai}"}}\n`;
    const lineOf = (text: string) => stream.split("\n").findIndex((l) => l.includes(text)) + 1;
    // Before: "invalid YAML: Unexpected flow-map-start at node end", exit 2 and nothing read.
    expect(findings({ "stream.json": stream })).toEqual([
      { path: "spec.containers[0].env[0].value", line: lineOf(openai) },
      { path: "data.OPENAI_API_KEY", line: lineOf('"ConfigMap"') },
    ]);
  });

  it("takes the cluster domain as a setting, and refuses one that is not a DNS name", () => {
    const env = { UPSTREAM: "http://api.shop.svc.corp.acme.io" };
    const folder = folderWith({ "app.yaml": deploymentYaml("app", env) });
    expect(runCli(["scan", folder]).code).toBe(1);
    expect(runCli(["scan", "--cluster-domain", "corp.acme.io", folder]).code).toBe(0);
    const bad = runCli(["scan", "--cluster-domain", "not a domain", folder]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringContaining('--cluster-domain "not a domain" is not a DNS name'),
    ]);
  });
});
