// Where manifests come from: files, folders (recursively, .yaml/.yml/.json) and stdin.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import type { InputError } from "./report.ts";

export interface Source {
  file: string;
  text: string;
}

const MANIFEST = /\.(?:ya?ml|json)$/i;
export const STDIN_NAME = "<stdin>";

export async function readSources(paths: readonly string[]): Promise<{ sources: Source[]; errors: InputError[] }> {
  const sources: Source[] = [];
  const errors: InputError[] = [];
  for (const path of paths) {
    try {
      if (path === "-") sources.push({ file: STDIN_NAME, text: await text(process.stdin) });
      else if ((await stat(path)).isDirectory()) {
        const found = await readFolder(path);
        // A folder with nothing to scan is more likely a wrong path in CI than a clean result.
        if (found.length === 0) errors.push({ file: path, message: "no .yaml, .yml or .json files in this folder" });
        sources.push(...found);
      } else sources.push({ file: path, text: await readFile(path, "utf8") });
    } catch (error) {
      errors.push({ file: path, message: `cannot read: ${describe(error)}` });
    }
  }
  return { sources, errors };
}

async function readFolder(folder: string): Promise<Source[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const candidates = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && MANIFEST.test(e.name))
    .map((e) => join(e.parentPath, e.name));
  // A symlinked manifest is read through its link (kubectl apply -f follows it); a dangling one is skipped.
  const isFile = async (file: string) => (await stat(file).catch(() => undefined))?.isFile() ?? false;
  const kept = await Promise.all(candidates.map(isFile));
  const files = candidates.filter((_, i) => kept[i]).sort();
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(file, "utf8") })));
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
