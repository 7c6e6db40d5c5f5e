// A kustomization's configMapGenerator env files and files reach the cluster as ConfigMaps (kubectl kustomize):
// scan reads them so, at the lines of those files.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { folderWith, runCli } from "./run.ts";

const fake = fakeSecrets(41);
const openai = fake.openai ?? "";
const groq = fake.groq ?? "";

type Found = { file: string; path: string; line: number };

function scanJson(root: string) {
  const run = runCli(["scan", "-f", "json", root]);
  expect(run.stdout + run.stderr).not.toContain(openai);
  const findings: Found[] = JSON.parse(run.stdout).findings.map((f: Found) => ({
    file: f.file,
    path: f.path,
    line: f.line,
  }));
  return { run, findings };
}

describe("scan reads a kustomization's configMapGenerator env files and files", () => {
  it("as the ConfigMaps kustomize makes, each finding at its line in the file", () => {
    const root = folderWith({
      "app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
configMapGenerator:
  - name: llm
    envs: [llm.env]
    files: [config/llm.ini, provider.conf=config/llm.ini]
  - name: legacy
    env: legacy.env
`,
      "app/llm.env": `# the model service\nLOG_LEVEL=info\n\n  OPENAI_API_KEY=${openai}\nTIMEOUT=30\n`,
      "app/config/llm.ini": `[llm]\nurl = https://llm.shop.svc\napi_key = ${groq}\n`,
      "app/legacy.env": `GROQ_API_KEY=${groq}\r\n`,
    });
    const { run, findings } = scanJson(root);
    // Before: none; kubectl kustomize builds ConfigMaps that hold both keys.
    expect(findings).toEqual([
      { file: join(root, "app/llm.env"), path: "data.OPENAI_API_KEY", line: 4 },
      { file: join(root, "app/config/llm.ini"), path: 'data["llm.ini"]', line: 3 },
      { file: join(root, "app/config/llm.ini"), path: 'data["provider.conf"]', line: 3 },
      { file: join(root, "app/legacy.env"), path: "data.GROQ_API_KEY", line: 1 },
    ]);
    expect(run.code).toBe(1);
    const sarif = JSON.parse(runCli(["scan", "-f", "sarif", root]).stdout);
    // The value's column: after `  OPENAI_API_KEY=`.
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.region).toEqual({ startLine: 4, startColumn: 18 });
  });

  it("refuses a file outside the kustomization's folder, as kustomize does, and names one that is missing", () => {
    const root = folderWith({
      "app/kustomization.yaml":
        "configMapGenerator:\n  - name: llm\n    envs: [../shared/llm.env]\n    files: [gone.ini]\n",
      "shared/llm.env": `OPENAI_API_KEY=${openai}\n`,
    });
    const { run, findings } = scanJson(root);
    expect(findings).toEqual([]);
    const kustomization = join(root, "app/kustomization.yaml");
    expect(run.stderr).toContain(
      `${kustomization}:3: ../shared/llm.env: outside the kustomization's folder, which kustomize refuses`,
    );
    expect(run.stderr).toContain(`${kustomization}:4: gone.ini: cannot read: no such file or folder`);
    expect(run.code).toBe(2);
  });

  it("gives the ConfigMap's env file to the workloads that read it, in the kustomization's namespace (unregistered-ai-api)", () => {
    const root = folderWith({
      "kustomization.yaml":
        "namespace: shop\nresources: [app.yaml]\nconfigMapGenerator:\n  - name: llm\n    envs: [llm.env]\n",
      "llm.env": "OPENAI_BASE_URL=https://api.openai.com/v1\n",
      "app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  template:
    spec:
      containers:
        - {name: app, image: app:1, envFrom: [{configMapRef: {name: llm}}]}
`,
    });
    const run = runCli(["scan", "-f", "json", root]);
    expect(JSON.parse(run.stdout).findings.map((f: { rule: string }) => f.rule)).toContain("unregistered-ai-api");
  });

  it("reads the values of JSON 6902 patches into their targets, at their lines", () => {
    const kustomization = `resources: [app.yaml]
patches:
  - target: {group: apps, version: v1, kind: Deployment, name: app, namespace: shop}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: OPENAI_API_KEY
          value: ${openai}
      - op: test
        path: /metadata/name
        value: ${openai}
patchesJson6902:
  - target: {version: v1, kind: ConfigMap, name: llm}
    patch: |-
      - {op: replace, path: /data/GROQ_API_KEY, value: ${groq}}
      - {op: remove, path: /data/OLD}
  - target: {version: v1, kind: Secret, name: keys}
    patch: |-
      - {op: add, path: /stringData/GROQ_API_KEY, value: ${groq}}
`;
    const root = folderWith({ "kustomization.yaml": kustomization });
    const line = (text: string) => kustomization.split("\n").findIndex((l) => l.includes(text)) + 1;
    // Before: none; kustomize adds both keys. An op test carries no value into the object; a Secret holds keys.
    expect(scanJson(root).findings).toEqual([
      {
        file: join(root, "kustomization.yaml"),
        path: "spec.template.spec.containers[0].env[0].value",
        line: line(openai),
      },
      { file: join(root, "kustomization.yaml"), path: "data.GROQ_API_KEY", line: line(`value: ${groq}}`) },
    ]);
  });
});

describe("scan reads a kustomization's patch files", () => {
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
        - {name: app, image: app:1}
`;
  const files = {
    "app/kustomization.yaml": `resources: [app.yaml]
patches:
  - path: patches/env.yaml
    target: {group: apps, version: v1, kind: Deployment, name: app}
  - path: patches/replicas.yaml
patchesJson6902:
  - path: patches/data.json
    target: {version: v1, kind: ConfigMap, name: llm}
patchesStrategicMerge:
  - patches/legacy.yaml
`,
    "app/app.yaml": deployment,
    "app/patches/env.yaml": `- op: add
  path: /spec/template/spec/containers/0/env
  value:
    - name: LOG_LEVEL
      value: info
    - name: OPENAI_API_KEY
      value: ${openai}
`,
    "app/patches/replicas.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          args: ["--api-key=${groq}"]
`,
    "app/patches/data.json": `[{"op": "add", "path": "/data/GROQ_API_KEY", "value": "${groq}"}]\n`,
    "app/patches/legacy.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: legacy}
data:
  OPENAI_API_KEY: ${openai}
`,
  };

  it("reads a JSON 6902 patch file's values in its target, and a strategic-merge patch file once, at their lines", () => {
    const root = folderWith(files);
    const at = (file: string) => join(root, "app/patches", file);
    const expected = [
      { file: at("env.yaml"), path: "spec.template.spec.containers[0].env[1].value", line: 7 },
      { file: at("replicas.yaml"), path: "spec.template.spec.containers[0].args[0]", line: 10 },
      { file: at("data.json"), path: "data.GROQ_API_KEY", line: 1 },
      { file: at("legacy.yaml"), path: "data.OPENAI_API_KEY", line: 5 },
    ];
    const byFile = (a: Found, b: Found) => a.file.localeCompare(b.file) || a.path.localeCompare(b.path);
    // Before: the two JSON patch files' keys were not found (a list of operations is no object), exit 0 with the
    // folder given; with only kustomization.yaml given, none of the four.
    const folder = scanJson(root);
    expect(folder.findings.sort(byFile)).toEqual(expected.sort(byFile));
    expect(folder.run.code).toBe(1);
    const alone = scanJson(join(root, "app/kustomization.yaml"));
    expect(alone.findings.sort(byFile)).toEqual(expected.sort(byFile));
    expect(alone.run.code).toBe(1);
  });

  it("names a patch file that is missing or outside the kustomization's folder, at its line", () => {
    const root = folderWith({
      "app/kustomization.yaml": `patches:
  - path: ../shared/env.yaml
    target: {kind: Deployment, name: app}
  - path: gone.yaml
`,
      "shared/env.yaml": files["app/patches/env.yaml"],
    });
    const { run, findings } = scanJson(root);
    expect(findings).toEqual([]);
    const kustomization = join(root, "app/kustomization.yaml");
    expect(run.stderr).toContain(
      `${kustomization}:2: ../shared/env.yaml: outside the kustomization's folder, which kustomize refuses`,
    );
    expect(run.stderr).toContain(`${kustomization}:4: gone.yaml: cannot read: no such file or folder`);
    expect(run.code).toBe(2);
  });

  it("says it does not fetch a remote patch, and keeps the exit code the rest's", () => {
    const url = "https://raw.githubusercontent.com/kubernetes-sigs/kustomize/master/examples/wordpress/patch.yaml";
    const root = folderWith({
      "kustomization.yaml": `resources: [app.yaml]\npatches:\n  - path: ${url}\n`,
      "app.yaml": deployment,
    });
    const run = runCli(["scan", root]);
    // Before: exit 2, "cannot read: no such file or folder", as if the kustomization were broken.
    expect(run.stderr).toContain(`${join(root, "kustomization.yaml")}:3: ${url}: a remote patch is not read`);
    expect(run.code).toBe(0);
  });

  it("asks for the folder when the kustomization comes on stdin", () => {
    const run = runCli(["scan", "-"], files["app/kustomization.yaml"]);
    expect(run.stderr).toContain("<stdin>:3: a patch file is read from the kustomization's folder: scan the folder");
    expect(run.code).toBe(2);
  });
});
