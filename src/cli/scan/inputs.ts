// Where manifests come from: files, folders (recursively, .yaml/.yml/.json) and stdin.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { text } from "node:stream/consumers";
import type { InputError } from "./report.ts";

export interface Source {
  file: string;
  text: string;
}

const MANIFEST = /\.(?:ya?ml|json)$/i;
export const STDIN_NAME = "<stdin>";

export interface Sources {
  sources: Source[];
  errors: InputError[];
  /** Helm charts met in folders, whose templates were left for `helm template`: said on stderr. */
  notes: string[];
}

export async function readSources(paths: readonly string[]): Promise<Sources> {
  const sources: Source[] = [];
  const errors: InputError[] = [];
  const notes: string[] = [];
  for (const path of paths) {
    try {
      if (path === "-") sources.push({ file: STDIN_NAME, text: await text(process.stdin) });
      else if ((await stat(path)).isDirectory()) {
        const { found, charts } = await readFolder(path);
        // A folder with nothing to scan is more likely a wrong path in CI than a clean result.
        if (found.length === 0 && charts.length === 0)
          errors.push({ file: path, message: "no .yaml, .yml or .json files in this folder" });
        sources.push(...found);
        for (const chart of charts)
          notes.push(
            `${chart}: a Helm chart: its templates are read once rendered: helm template ${chart} | ai-api-guard scan -`,
          );
      } else sources.push({ file: path, text: await readFile(path, "utf8") });
    } catch (error) {
      errors.push({ file: path, message: `cannot read: ${describe(error)}` });
    }
  }
  return { sources, errors, notes };
}

async function readFolder(folder: string): Promise<{ found: Source[]; charts: string[] }> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  // A Helm chart's templates are Go templates, YAML only once rendered: left out, and said so.
  const charts = entries.filter((e) => e.name === "Chart.yaml" && e.isFile()).map((e) => e.parentPath);
  const inTemplates = (file: string) => charts.some((chart) => file.startsWith(join(chart, "templates") + sep));
  const candidates = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && MANIFEST.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !inTemplates(file));
  // A symlinked manifest is read through its link (kubectl apply -f follows it); a dangling one is skipped.
  const isFile = async (file: string) => (await stat(file).catch(() => undefined))?.isFile() ?? false;
  const kept = await Promise.all(candidates.map(isFile));
  const files = candidates.filter((_, i) => kept[i]).sort();
  const found = await Promise.all(files.map(async (file) => ({ file, text: await readFile(file, "utf8") })));
  return { found, charts: charts.sort() };
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
