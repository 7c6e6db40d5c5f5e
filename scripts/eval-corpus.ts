// Precision and recall on real-world manifests (test/fixtures/real-world), ours and gitleaks' side by
// side. A finding counts by file and line; labels.json lists every credential (and plaintext endpoint)
// a reviewer found in a value kubectl would send: the positives. Anything else reported is a false positive.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSource } from "../src/cli/scan/documents.ts";
import { evaluate } from "../src/engine/index.ts";

const ROOT = join(import.meta.dirname, "../test/fixtures/real-world");
type Source = { file: string; repo: string; path: string; commit: string; documents: number };
type Label = { file: string; line: number; category: "credential" | "weak-default" | "endpoint"; note: string };

const sources: Source[] = JSON.parse(readFileSync(join(ROOT, "sources.json"), "utf8"));
const labels: Label[] = JSON.parse(readFileSync(join(ROOT, "labels.json"), "utf8")).positives;
const at = (file: string, line: number | undefined) => `${file}:${line ?? 0}`;

// A workload: any object that holds a container, whatever its kind.
const HOLDS_A_CONTAINER = /"(?:containers|initContainers|container|script)":\s*[[{]/;

function ours() {
  const credentials = new Set<string>();
  const endpoints = new Set<string>();
  let documents = 0;
  let workloads = 0;
  for (const { file } of sources) {
    for (const item of parseSource(file, readFileSync(join(ROOT, file), "utf8")).objects) {
      documents++;
      const kind = (item.object as { kind?: unknown } | null)?.kind;
      if (kind === "ConfigMap" || (kind !== "Secret" && HOLDS_A_CONTAINER.test(JSON.stringify(item.object))))
        workloads++;
      for (const finding of evaluate(item.object).findings) {
        const key = at(file, item.positionOf(finding.pathSegments)?.line);
        (finding.rule === "plaintext-endpoint" ? endpoints : credentials).add(key);
      }
    }
  }
  return { credentials, endpoints, documents, workloads };
}

function gitleaks(): Set<string> | string {
  let binary: string;
  try {
    const module = ["gitleaks", "github.com/zricethezav/gitleaks/v8", "v8.28.0"];
    binary = execFileSync("bash", [join(import.meta.dirname, "go-tool.sh"), ...module], { encoding: "utf8" }).trim();
  } catch (error) {
    return `gitleaks could not be built: ${(error as { stderr?: string }).stderr?.trim().split("\n").at(-1) ?? error}`;
  }
  const out = mkdtempSync(join(tmpdir(), "gitleaks-"));
  try {
    const report = join(out, "report.json");
    execFileSync(binary, [
      "dir",
      ROOT,
      "--no-banner",
      "--log-level",
      "error",
      "-f",
      "json",
      "-r",
      report,
      "--exit-code",
      "0",
    ]);
    const results: { File: string; StartLine: number }[] = JSON.parse(readFileSync(report, "utf8"));
    return new Set(results.map((r) => at(r.File.replace(`${ROOT}/`, ""), r.StartLine)));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * The lines a labelled value covers: its own, and those of a block scalar below it (more indented), so a
 * tool that reports the line of the match inside a multi-line value (gitleaks) and one that reports the
 * line of its key (ours) both hit it.
 */
function span(label: Label): { key: string; lines: Set<string> } {
  const text = readFileSync(join(ROOT, label.file), "utf8").split("\n");
  const indent = (line: string) => line.length - line.trimStart().length;
  const own = indent(text[label.line - 1] ?? "");
  const lines = new Set([at(label.file, label.line)]);
  for (let n = label.line + 1; n <= text.length; n++) {
    const line = text[n - 1] ?? "";
    if (line.trim() !== "" && indent(line) <= own) break;
    lines.add(at(label.file, n));
  }
  return { key: at(label.file, label.line), lines };
}

function score(found: ReadonlySet<string>, positives: readonly Label[]) {
  const truth = positives.map(span);
  const hitLabel = (key: string) => truth.find((t) => t.lines.has(key));
  const matched = new Set([...found].map(hitLabel).filter((t) => t !== undefined));
  const wrong = [...found].filter((key) => !hitLabel(key));
  const hits = found.size - wrong.length;
  const precision = found.size === 0 ? 1 : hits / found.size;
  const recall = truth.length === 0 ? 1 : matched.size / truth.length;
  const missed = truth.filter((t) => !matched.has(t)).map((t) => t.key);
  return { found: found.size, hits, precision, recall, missed, wrong };
}

const credentialLabels = labels.filter((l) => l.category !== "endpoint");
const result = ours();
const repos = new Set(sources.map((s) => s.repo)).size;
console.log(
  `corpus: ${sources.length} files, ${result.documents} documents (${result.workloads} workloads and ConfigMaps), ${repos} repositories`,
);
console.log(
  `labelled: ${credentialLabels.length} credentials (${labels.filter((l) => l.category === "weak-default").length} weak defaults), ${labels.length - credentialLabels.length} plaintext endpoints\n`,
);
const rows: [string, ReturnType<typeof score> | string][] = [
  ["ours: credentials", score(result.credentials, credentialLabels)],
  [
    "ours: plaintext endpoints",
    score(
      result.endpoints,
      labels.filter((l) => l.category === "endpoint"),
    ),
  ],
];
const leaks = gitleaks();
rows.push(["gitleaks: credentials", typeof leaks === "string" ? leaks : score(leaks, credentialLabels)]);
console.log("tool                        found  true  precision  recall");
for (const [name, row] of rows) {
  if (typeof row === "string") console.log(`${name.padEnd(28)}${row}`);
  else
    console.log(
      `${name.padEnd(28)}${String(row.found).padStart(5)}${String(row.hits).padStart(6)}${row.precision.toFixed(3).padStart(11)}${row.recall.toFixed(3).padStart(8)}`,
    );
}
for (const [name, row] of rows) {
  if (typeof row === "string" || !name.startsWith("ours")) continue;
  for (const key of row.missed) console.log(`  ${name} missed ${key}`);
  for (const key of row.wrong) console.log(`  ${name} false positive ${key}`);
}
