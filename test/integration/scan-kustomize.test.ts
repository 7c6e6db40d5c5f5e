// scan against the real kustomize (kubectl kustomize, the control plane's kubectl): the ConfigMaps scan reads
// from a kustomization's configMapGenerator env files and files are the ones kustomize builds, and a file
// that kustomize refuses, scan refuses.
import { describe, expect, it } from "vitest";
import { kubectl } from "../support/cluster.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { folderWith, runCli } from "../unit/cli/run.ts";

const fake = fakeSecrets(43);

type Found = { resource: string; rule: string; path: string; message: string };

/** What scan finds in its input, the generated ConfigMaps' hash suffix left off (kustomize adds it). */
function found(args: string[], stdin?: string, describe = (f: Found) => `${f.rule} ${f.path}`): string[] {
  const run = runCli(["scan", "-f", "json", ...args], stdin);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout)
    .findings.map((f: Found) => `${f.resource.replace(/-[a-z0-9]{10}$/, "")} ${describe(f)}`)
    .sort();
}

/** What scan finds in what kubectl kustomize builds of the folder (which must build), and in the folder itself. */
async function foundBothWays(root: string, describe?: (f: Found) => string) {
  const built = await kubectl(["kustomize", root]);
  expect(built.code, built.stderr).toBe(0);
  return { fromKustomize: found(["-"], built.stdout, describe), fromFolder: found([root], undefined, describe) };
}

/** A Deployment `app` with the container given, and a ConfigMap `llm` with the data given. */
const appYaml = (container: string, data: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - ${container}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: llm}
data: ${data}
`;

describe("scan reads configMapGenerator env files and files as kubectl kustomize builds them", () => {
  it("finds in the folder what it finds in kustomize's output", async () => {
    const root = folderWith({
      "kustomization.yaml": `namespace: shop
configMapGenerator:
  - name: llm
    envs: [llm.env]
    files: [config/llm.ini, provider.conf=config/llm.ini]
    literals: [LOG_LEVEL=info]
  - name: legacy
    env: legacy.env
`,
      // Comments, blank lines, leading blanks, quotes kept, CRLF: kustomize's env file rules.
      "llm.env": `# model\n\n  OPENAI_API_KEY=${fake.openai}\nQUOTED="${fake.anthropic}"\r\nBASE_URL=http://api.openai.com/v1\n`,
      "config/llm.ini": `[llm]\napi_key = ${fake.groq}\n`,
      "legacy.env": `HF_TOKEN=${fake.hf}\n`,
    });
    const { fromKustomize, fromFolder } = await foundBothWays(root);
    expect(fromKustomize.length).toBeGreaterThanOrEqual(5);
    expect(fromFolder).toEqual(fromKustomize);
  });

  it("finds the values of JSON 6902 patches in the objects kustomize patches", async () => {
    const root = folderWith({
      "kustomization.yaml": `resources: [app.yaml]
patches:
  - target: {group: apps, version: v1, kind: Deployment, name: app}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: OPENAI_API_KEY, value: ${fake.openai}}
patchesJson6902:
  - target: {version: v1, kind: ConfigMap, name: llm}
    patch: |-
      - {op: replace, path: /data/GROQ_API_KEY, value: ${fake.groq}}
`,
      "app.yaml": appYaml(
        "{name: app, image: app:1, env: [{name: LOG_LEVEL, value: info}]}",
        "{GROQ_API_KEY: placeholder}",
      ),
    });
    // The rule and resource: an appended value's list index is the target's, which the patch does not say.
    const { fromKustomize, fromFolder } = await foundBothWays(root, (f) => f.rule);
    expect(fromKustomize).toEqual(["ConfigMap//llm hardcoded-secret", "Deployment//app hardcoded-secret"]);
    expect(fromFolder).toEqual(fromKustomize);
  });

  it("finds what kustomize patches in from patch files: JSON 6902 and strategic-merge", async () => {
    const root = folderWith({
      "kustomization.yaml": `resources: [app.yaml]
patches:
  - path: patches/env.yaml
    target: {group: apps, version: v1, kind: Deployment, name: app}
  - path: patches/args.yaml
patchesJson6902:
  - path: patches/data.json
    target: {version: v1, kind: ConfigMap, name: llm}
`,
      "app.yaml": appYaml("{name: app, image: app:1}", "{LOG_LEVEL: info}"),
      "patches/env.yaml": `- op: add
  path: /spec/template/spec/containers/0/env
  value: [{name: OPENAI_API_KEY, value: ${fake.openai}}]
`,
      "patches/args.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
        - {name: app, args: ["--hf-token=${fake.hf}"]}
`,
      "patches/data.json": `[{"op": "add", "path": "/data/GROQ_API_KEY", "value": "${fake.groq}"}]`,
    });
    // The rule and the key's hint: a patched container's name is the target's, which a JSON patch does not say.
    const withHint = (f: Found) => `${f.rule} ${/ending "[^"]+"/.exec(f.message)}`;
    const { fromKustomize, fromFolder } = await foundBothWays(root, withHint);
    expect(fromKustomize).toHaveLength(3);
    // Before: the JSON patch files' keys were not found in the folder.
    expect(fromFolder).toEqual(fromKustomize);
  });

  it("refuses an env file outside the kustomization's folder, as kustomize does", async () => {
    const root = folderWith({
      "app/kustomization.yaml": "configMapGenerator:\n  - name: llm\n    envs: [../shared/llm.env]\n",
      "shared/llm.env": `OPENAI_API_KEY=${fake.openai}\n`,
    });
    const built = await kubectl(["kustomize", `${root}/app`]);
    expect(built.stderr).toContain("is not in or below");
    expect(built.code).not.toBe(0);
    const run = runCli(["scan", `${root}/app`]);
    expect(run.stderr).toContain("../shared/llm.env: outside the kustomization's folder, which kustomize refuses");
    expect(run.code).toBe(2);
  });
});
