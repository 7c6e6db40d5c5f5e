// Held-out precision/recall check of `ai-api-guard scan`, written blind to the engine's source and its
// own corpus. The manifests under test/fixtures/heldout/ hold markers (%%name%%) that are filled here
// with fake values in the real formats (test/support/fake-secrets.ts) so that no committed file holds a
// key-shaped literal. Labels (test/fixtures/heldout/labels.json) come from PRODUCT.md's contract.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { fakeSecrets, HEX, seeded } from "../../support/fake-secrets.ts";

const ROOT = join(import.meta.dirname, "../../..");
const CORPUS = join(ROOT, "test/fixtures/heldout");

type Label = { resource: string; path: string; rule: string };
type FileLabels = { findings: Label[]; tolerated?: Label[]; note?: string };
type Finding = Label & { file: string };

/** Values that are not secrets but look random: certificates, public keys, digests, ids. */
function cleanValues(seed: number): Record<string, string> {
  const r = seeded(seed);
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const armor = (label: string, lines: number) =>
    [
      `-----BEGIN ${label}-----`,
      ...Array.from({ length: lines }, () => r(64, B64)),
      `${r(20, B64)}==`,
      `-----END ${label}-----`,
    ].join("\n");
  const cert = armor("CERTIFICATE", 14);
  return {
    cert,
    "cert-base64": Buffer.from(`${cert}\n`).toString("base64"),
    pubkey: armor("PUBLIC KEY", 6),
    "ssh-pub": `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r(43, B64)}`,
    "jwks-n": r(342, B64URL),
    hex64: r(64, HEX),
    hex40: r(40, HEX),
    uuid: [r(8, HEX), r(4, HEX), `4${r(3, HEX)}`, `a${r(3, HEX)}`, r(12, HEX)].join("-"),
    uuid2: [r(8, HEX), r(4, HEX), `4${r(3, HEX)}`, `b${r(3, HEX)}`, r(12, HEX)].join("-"),
  };
}

/** Replaces %%name%% markers; a multi-line value keeps the indentation of the line it lands on. */
function fill(text: string, values: Record<string, string>): string {
  return text
    .split("\n")
    .map((line) => {
      const indent = /^\s*/.exec(line)?.[0] ?? "";
      return line.replace(/%%([a-z0-9-]+)%%/g, (_m, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`unknown marker %%${name}%%`);
        return value.split("\n").join(`\n${indent}`);
      });
    })
    .join("\n");
}

const key = (f: Label) => `${f.resource}|${f.path}|${f.rule}`;

const workdir = mkdtempSync(join(tmpdir(), "heldout-"));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

describe("held-out corpus (blind labels from PRODUCT.md)", () => {
  it("reaches recall >= 0.95 and <= 1 false positive per 25 clean manifests", () => {
    const values = { ...fakeSecrets(424242), ...cleanValues(171717) };
    const labels = JSON.parse(readFileSync(join(CORPUS, "labels.json"), "utf8")) as Record<string, FileLabels>;
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".yaml"));
    expect(Object.keys(labels).sort()).toEqual(files.sort());
    const dir = join(workdir, "corpus");
    mkdirSync(dir);
    for (const f of files) {
      const filled = fill(readFileSync(join(CORPUS, f), "utf8"), values);
      expect(filled, `${f}: a marker was left`).not.toMatch(/%%/);
      writeFileSync(join(dir, f), filled);
    }

    // The scan CLI needs Node 24 (type stripping); the `node` dev dependency provides it even when
    // vitest itself runs under an older system node.
    const localNode = join(ROOT, "node_modules/.bin/node");
    const nodeBin = existsSync(localNode) ? localNode : process.execPath;
    const run = spawnSync(nodeBin, [join(ROOT, "src/cli/main.ts"), "scan", "--format", "json", dir], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout, run.stderr).not.toBe("");
    const out = JSON.parse(run.stdout) as { findings: Finding[]; summary: { objects: number; errors: unknown[] } };
    expect(out.summary.errors).toEqual([]);

    let expected = 0;
    let hit = 0;
    let reported = 0;
    let fpClean = 0;
    let fpDirty = 0;
    let cleanFiles = 0;
    let cleanObjects = 0;
    const misses: string[] = [];
    const fps: string[] = [];
    for (const f of files) {
      const fileLabels = labels[f];
      if (fileLabels === undefined) throw new Error(`${f}: no labels`);
      const want = new Set(fileLabels.findings.map(key));
      // `tolerated`: a finding the contract allows but does not require (a hardcoded-secret on the same
      // path as a credentials-in-url); it is neither a hit nor a false positive.
      const tolerated = new Set((fileLabels.tolerated ?? []).map(key));
      const clean = fileLabels.findings.length === 0;
      if (clean) {
        cleanFiles++;
        cleanObjects += parseAllDocuments(readFileSync(join(dir, f), "utf8")).filter((d) => d.contents !== null).length;
      }
      // Findings are compared as a set: several findings on one field under one rule count once.
      // The labels cover the value rules; unregistered-ai-api (category inventory) depends on which
      // policies the input holds and has its own tests (test/unit/engine/unregistered-ai-api.test.ts).
      const got = new Set(
        out.findings.filter((x) => basename(x.file) === f && x.rule !== "unregistered-ai-api").map(key),
      );
      expected += want.size;
      for (const k of want) {
        if (got.has(k)) hit++;
        else misses.push(`${f}: ${k}`);
      }
      for (const k of got) {
        if (tolerated.has(k)) continue;
        reported++;
        if (want.has(k)) continue;
        if (clean) fpClean++;
        else fpDirty++;
        fps.push(`${f}: ${k}`);
      }
    }
    const recall = hit / expected;
    const precision = reported === 0 ? 1 : hit / reported;
    // The bar counts false positives on clean manifests (a manifest = one file here).
    const fpPer25 = (fpClean / cleanFiles) * 25;
    const fpPer25Objects = (fpClean / cleanObjects) * 25;
    const report = [
      `held-out corpus: ${files.length} files (${cleanFiles} clean, ${files.length - cleanFiles} dirty), ${out.summary.objects} objects (${cleanObjects} in clean files), ${expected} labels`,
      `precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)} (${hit}/${expected})`,
      `false positives: ${fpClean} in clean files = ${fpPer25.toFixed(2)} per 25 clean manifests (${fpPer25Objects.toFixed(2)} per 25 clean objects); ${fpDirty} extra in dirty files`,
      ...misses.map((m) => `MISS ${m}`),
      ...fps.map((m) => `FP   ${m}`),
    ].join("\n");
    console.log(report);
    expect(recall, report).toBeGreaterThanOrEqual(0.95);
    expect(fpPer25, report).toBeLessThanOrEqual(1);
  });
});
