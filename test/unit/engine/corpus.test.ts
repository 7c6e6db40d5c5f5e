// Precision and recall on a corpus of realistic manifests (test/fixtures/corpus): clean ones from the
// kind of apps clusters run, and dirty ones labelled on their first line, e.g.
// `# expect: hardcoded-secret=1, plaintext-endpoint=1`. Provider keys are written as %%name%% markers
// and filled in here with fake keys, so the repository itself holds no key-shaped strings.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSource, policyEndpointHosts } from "../../../src/cli/scan/documents.ts";
import { evaluate } from "../../../src/engine/index.ts";
import { FAKE_NOW, fakeSecrets } from "../../support/fake-secrets.ts";

const CORPUS = join(import.meta.dirname, "../../fixtures/corpus");
const fake = fakeSecrets(2026);

function expand(text: string): string {
  return text.replace(/^([ \t]*)(.*?)%%([\w-]+)%%/gm, (_, indent: string, before: string, name: string) => {
    const secret = fake[name];
    if (secret === undefined) throw new Error(`unknown marker %%${name}%%`);
    return `${indent}${before}${secret.replaceAll("\n", `\n${indent}`)}`;
  });
}

function expectedCounts(text: string): Map<string, number> {
  const label = /^# expect: (.*)$/m.exec(text)?.[1] ?? "";
  return new Map(
    label
      .split(",")
      .filter(Boolean)
      .map((pair) => {
        const [rule, n] = pair.trim().split("=");
        return [rule ?? "", Number(n)];
      }),
  );
}

function foundCounts(file: string, text: string): Map<string, number> {
  const { objects, errors } = parseSource(file, text);
  expect(errors, file).toEqual([]);
  const context = { policyEndpointHosts: policyEndpointHosts(objects.map((o) => o.object)), now: FAKE_NOW };
  const counts = new Map<string, number>();
  for (const { object } of objects) {
    const { findings, unreadable } = evaluate(object, context);
    expect(unreadable, file).toBeUndefined();
    for (const f of findings) if (!f.exempt) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  }
  return counts;
}

describe("corpus precision and recall", () => {
  it("finds at least 95% of labelled secrets with at most 1 false positive per 25 clean manifests", () => {
    let truePositives = 0;
    let falseNegatives = 0;
    let falsePositives = 0;
    let cleanFalsePositives = 0;
    const misses: string[] = [];
    const files = { clean: readdirSync(join(CORPUS, "clean")), dirty: readdirSync(join(CORPUS, "dirty")) };
    for (const [group, names] of Object.entries(files)) {
      for (const name of names) {
        const file = `${group}/${name}`;
        const raw = readFileSync(join(CORPUS, file), "utf8");
        const expected = expectedCounts(raw);
        const found = foundCounts(file, expand(raw));
        for (const rule of new Set([...expected.keys(), ...found.keys()])) {
          const want = expected.get(rule) ?? 0;
          const got = found.get(rule) ?? 0;
          truePositives += Math.min(want, got);
          falseNegatives += Math.max(0, want - got);
          falsePositives += Math.max(0, got - want);
          if (group === "clean") cleanFalsePositives += got;
          if (want !== got) misses.push(`${file}: ${rule} expected ${want}, found ${got}`);
        }
      }
    }
    const recall = truePositives / (truePositives + falseNegatives);
    const precision = truePositives / (truePositives + falsePositives);
    console.log(
      [
        `corpus: ${files.clean.length} clean + ${files.dirty.length} dirty manifests, ${truePositives + falseNegatives} labelled findings`,
        `recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)}, false positives ${falsePositives} (${cleanFalsePositives} in clean manifests)`,
        ...misses.map((m) => `  ${m}`),
      ].join("\n"),
    );
    expect(files.clean.length + files.dirty.length).toBeGreaterThanOrEqual(60);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(cleanFalsePositives * 25).toBeLessThanOrEqual(files.clean.length);
  });
});
