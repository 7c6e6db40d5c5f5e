// Runs the real CLI as a child process, the way CI runs it.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const MAIN = join(import.meta.dirname, "../../../src/cli/main.ts");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `as`: the user to run it as (to meet permission denied, which root never does). */
export function runCli(args: string[], stdin?: string, as?: { uid: number; gid: number }): Run {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    input: stdin,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    ...as,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temporary folder holding the given files (relative path → content); returns its path. */
export function folderWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "aag-scan-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export function deploymentYaml(name: string, env: Record<string, string>, annotations = ""): string {
  const vars = Object.entries(env)
    .map(([k, v]) => `            - name: ${k}\n              value: ${JSON.stringify(v)}`)
    .join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: shop
${annotations}spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0
          env:
${vars}
`;
}
