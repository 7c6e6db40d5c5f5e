// Where manifests come from: files, folders (recursively, .yaml/.yml/.json) and stdin.
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { buffer } from "node:stream/consumers";
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
  // An input reached twice (named twice, or named and inside a named folder) is read and reported once.
  const seen = new Set<string>();
  const firstTime = (path: string) => {
    const key = path === "-" ? path : resolve(path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (const path of paths) {
    if (!firstTime(path)) continue;
    try {
      if (path === "-") {
        const text = decode(await buffer(process.stdin));
        // Empty stdin is most likely a command before the pipe that failed, not a clean result.
        if (text.trim() === "")
          errors.push({ file: STDIN_NAME, message: "nothing to scan: did the command before the pipe fail?" });
        else sources.push({ file: STDIN_NAME, text });
      } else if ((await stat(path)).isDirectory()) {
        const folder = await readFolder(path, errors);
        // A folder with nothing to scan is more likely a wrong path in CI than a clean result.
        if (folder.files.length === 0 && folder.charts.length === 0)
          errors.push({ file: path, message: "no .yaml, .yml or .json files in this folder" });
        const read = await Promise.all(folder.files.filter(firstTime).map((file) => readSource(file, errors)));
        sources.push(...read.filter((source) => source !== undefined));
        for (const chart of folder.charts)
          notes.push(
            `${chart}: a Helm chart: its templates are read once rendered: helm template ${chart} | ai-api-guard scan -`,
          );
      } else {
        const source = await readSource(path, errors);
        if (source) sources.push(source);
      }
    } catch (error) {
      errors.push({ file: path, message: `cannot read: ${describe(error)}` });
    }
  }
  return { sources, errors, notes };
}

/** The manifests of a folder and the Helm charts in it; an entry that cannot be read is an error of its own. */
async function readFolder(folder: string, errors: InputError[]): Promise<{ files: string[]; charts: string[] }> {
  const entries = await walk(folder, errors);
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
  return { files: candidates.filter((_, i) => kept[i]).sort(), charts: charts.sort() };
}

/** Every entry below the folder; a subfolder it cannot list is reported and the walk goes on. */
async function walk(folder: string, errors: InputError[]): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    errors.push({ file: folder, message: `cannot read: ${describe(error)}` });
    return [];
  }
  const below = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => walk(join(folder, e.name), errors)),
  );
  return [...entries, ...below.flat()];
}

async function readSource(file: string, errors: InputError[]): Promise<Source | undefined> {
  try {
    return { file, text: decode(await readFile(file)) };
  } catch (error) {
    errors.push({ file, message: `cannot read: ${describe(error)}` });
    return undefined;
  }
}

/** UTF-8, or UTF-16 behind its byte-order mark (what Windows PowerShell's `>` writes): kubectl reads both. */
export function decode(bytes: Uint8Array): string {
  return new TextDecoder(encodingOf(bytes)).decode(bytes);
}

function encodingOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  return "utf-8";
}

export function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
