// scan against the real kustomize (kubectl kustomize, the control plane's kubectl): the ConfigMaps scan reads
// from a kustomization's configMapGenerator env files and files are the ones kustomize builds, and a file
// that kustomize refuses, scan refuses.
import { describe, expect, it } from "vitest";
import { kubectl } from "../support/cluster.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { folderWith, runCli } from "../unit/cli/run.ts";

const fake = fakeSecrets(43);

type Found = { resource: string; rule: string; path: string };

/** What scan finds in its input, the generated ConfigMaps' hash suffix left off (kustomize adds it). */
function found(args: string[], stdin?: string): string[] {
  const run = runCli(["scan", "-f", "json", ...args], stdin);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout)
    .findings.map((f: Found) => `${f.resource.replace(/-[a-z0-9]{10}$/, "")} ${f.rule} ${f.path}`)
    .sort();
}

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
    const built = await kubectl(["kustomize", root]);
    expect(built.code, built.stderr).toBe(0);
    const fromKustomize = found(["-"], built.stdout);
    expect(fromKustomize.length).toBeGreaterThanOrEqual(5);
    expect(found([root])).toEqual(fromKustomize);
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
