// Tools and files from Go modules that the tests check ai-api-guard's output against, fetched once
// per machine into caches (the Go module cache; ~/.cache/ai-api-guard/tools), never committed.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const goTool = fileURLToPath(new URL("../../scripts/go-tool.sh", import.meta.url));

/** The path of a file inside a Go module, downloaded (`go mod download -json`) unless cached. */
export async function goModuleFile(module: string, version: string, path: string): Promise<string> {
  const { stdout } = await run("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd: tmpdir(), // outside any module: nothing here changes a go.mod
    maxBuffer: 1 << 20,
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? stdout}`);
  return join(info.Dir, path);
}

/** cyclonus, the NetworkPolicy analyzer, installed from its Go module by scripts/go-tool.sh. */
export async function cyclonus(): Promise<string> {
  const module = "github.com/mattfenwick/cyclonus/cmd/cyclonus";
  const { stdout } = await run("bash", [goTool, "cyclonus", module, "v0.5.6"], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

export const CILIUM_CRD = () =>
  goModuleFile(
    "github.com/cilium/cilium",
    "v1.20.2",
    "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml",
  );

export const TRAEFIK_CRDS = () =>
  goModuleFile(
    "github.com/traefik/traefik/v3",
    "v3.7.13",
    "docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml",
  );

/**
 * The OASIS SARIF 2.1.0 schema (errata01, JSON Schema draft-04), as go-sarif embeds it for its own Validate():
 * the Go source file holds it as one raw string constant.
 */
export async function sarifSchema(): Promise<Record<string, unknown>> {
  const file = await goModuleFile("github.com/owenrumney/go-sarif/v3", "v3.3.1", "pkg/report/v210/sarif/schema.go");
  const source = await readFile(file, "utf8");
  const schema = /^const schema = `([^`]+)`/m.exec(source)?.[1];
  if (!schema) throw new Error(`${file} holds no \`const schema = \`...\`\`: has go-sarif moved it?`);
  return JSON.parse(schema);
}
