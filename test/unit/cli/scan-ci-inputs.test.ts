// What a CI job hands `scan` beyond tidy manifests: unreadable entries, overlapping arguments, files
// written by Windows tools.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { deploymentYaml, folderWith, runCli } from "./run.ts";

const fake = fakeSecrets(13);
const openai = fake.openai ?? "";
const DIRTY = deploymentYaml("dirty", { OPENAI_API_KEY: openai });

type Finding = { file: string; path: string; line: number };
const findingsOf = (stdout: string): Finding[] => JSON.parse(stdout).findings;

describe("ai-api-guard scan: what a CI job hands it", () => {
  it("scans the rest of a folder that holds an unreadable file or subfolder, naming each", () => {
    const folder = folderWith({ "a.yaml": DIRTY, "b.yaml": DIRTY, "sub/c.yaml": DIRTY });
    chmodSync(folder, 0o755);
    chmodSync(join(folder, "b.yaml"), 0o000);
    chmodSync(join(folder, "sub"), 0o000);
    // Root reads anything: run as nobody to meet "permission denied".
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    const run = runCli(["scan", "-f", "json", folder], undefined, as);
    // Before: the folder's one error hid every file in it, a.yaml's key included.
    expect(run.stderr).toContain(`${join(folder, "b.yaml")}: cannot read: permission denied`);
    expect(run.stderr).toContain(`${join(folder, "sub")}: cannot read: permission denied`);
    expect(findingsOf(run.stdout).map((f) => f.file)).toEqual([join(folder, "a.yaml")]);
    expect(run.code).toBe(2);
  });

  it("reads an input named twice, or a file inside a folder also named, once", () => {
    const folder = folderWith({ "app.yaml": DIRTY });
    const file = join(folder, "app.yaml");
    const run = runCli(["scan", "-f", "json", file, folder, `${folder}/./app.yaml`]);
    // Before: three findings, one per argument that reached the file.
    expect(findingsOf(run.stdout).map((f) => f.file)).toEqual([file]);
    expect(JSON.parse(run.stdout).summary.files).toBe(1);
    const stdin = runCli(["scan", "-f", "json", "-", "-"], DIRTY);
    expect(JSON.parse(stdin.stdout).summary).toMatchObject({ files: 1, findings: 1 });
  });

  it("reads UTF-16 files with a byte-order mark (Windows PowerShell's > writes them), as kubectl does", () => {
    const line = DIRTY.split("\n").findIndex((l) => l.includes(openai)) + 1;
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(DIRTY, "utf16le")]);
    const utf16be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(DIRTY, "utf16le").swap16()]);
    const folder = folderWith({});
    writeFileSync(join(folder, "le.yaml"), utf16le);
    writeFileSync(join(folder, "be.yaml"), utf16be);
    const run = runCli(["scan", "-f", "json", folder]);
    // Before: read as UTF-8, they held no object with a key: no findings, exit 0.
    expect(findingsOf(run.stdout).map((f) => [f.file.slice(folder.length + 1), f.line])).toEqual([
      ["be.yaml", line],
      ["le.yaml", line],
    ]);
    expect(run.stdout).not.toContain(openai);
    expect(run.code).toBe(1);
  });

  it("refuses a document that is a bare scalar (JSON with comments reads as one), as kubectl does, and takes a list (a JSON patch) as before", () => {
    const pod = {
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [{ name: "a", env: [{ name: "OPENAI_API_KEY", value: openai }] }] },
    };
    const patch = "- op: add\n  path: /spec/template/metadata/labels/team\n  value: ml\n";
    const folder = folderWith({
      "commented.json": `// the model's pod\n${JSON.stringify(pod)}\n`,
      "patch.yaml": patch,
    });
    const run = runCli(["scan", folder]);
    // Before: the file was one string, no object, and the scan exited 0 with a key in it.
    expect(run.stderr).toBe(
      `${join(folder, "commented.json")}:1: not a Kubernetes object: the document is a string (JSON has no comments)\n`,
    );
    expect(run.stdout).not.toContain(openai);
    expect(run.code).toBe(2);
  });

  it("exits 2 on empty stdin: the command before the pipe most likely failed (helm template of a wrong path)", () => {
    const run = runCli(["scan", "-"], "\n");
    // Before: "no findings in 0 objects in 1 file", exit 0: a CI gate passed on nothing.
    expect(run.stderr).toBe("<stdin>: nothing to scan: did the command before the pipe fail?\n");
    expect(run.code).toBe(2);
  });
});
