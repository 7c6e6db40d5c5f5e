// kustomization.yaml's patches kept in files of their own (`patches[].path`, `patchesJson6902[].path`,
// `patchesStrategicMerge[]`): a JSON 6902 patch's values are read in its target, as kustomize puts them,
// each finding at its line in the patch file; a strategic-merge patch is the object it is. A file the scan
// reads anyway (the kustomization's folder was given) gives only its JSON patches here: its objects and
// errors are reported once, as that file's.
import { isRecord } from "../../engine/objects.ts";
import type { PathSegment } from "../../engine/types.ts";
import { type ParsedObject, parseSource } from "./documents.ts";
import type { ScannedObject } from "./generator-files.ts";
import { decode, STDIN_NAME } from "./inputs.ts";
import { jsonPatchObjects } from "./json-patches.ts";
import { isKustomization, readBeside } from "./kustomization.ts";
import type { InputError } from "./report.ts";

interface PatchFile {
  /** Where the kustomization names it. */
  at: PathSegment[];
  /** As written: relative to the kustomization's folder. */
  path: string;
  /** A JSON patch's (a strategic-merge patch names its own). */
  target?: unknown;
}

/** The objects the patch files of a kustomization (read from `file`) make; `scanned`: the files read anyway. */
export async function patchFiles(
  file: string,
  item: ParsedObject,
  scanned: ReadonlySet<string>,
): Promise<{ objects: ScannedObject[]; errors: InputError[]; notes: string[] }> {
  const line = (patch: PatchFile) => item.positionOf(patch.at)?.line;
  const notes: string[] = [];
  const patches: PatchFile[] = [];
  for (const patch of patchFilesOf(item.object)) {
    // kustomize fetches a patch by URL; scan reads no network: said, and not an input error.
    if (!REMOTE.test(patch.path)) patches.push(patch);
    else
      notes.push(
        `${file}:${line(patch) ?? 1}: ${patch.path}: a remote patch is not read (scan reads no network): run kubectl kustomize and scan its output (kubectl kustomize DIR | ai-api-guard scan -) to include it`,
      );
  }
  const [first] = patches;
  if (!first) return { objects: [], errors: [], notes };
  if (file === STDIN_NAME) {
    const message = "a patch file is read from the kustomization's folder: scan the folder";
    return { objects: [], errors: [{ file, line: line(first), message }], notes };
  }
  const objects: ScannedObject[] = [];
  const errors: InputError[] = [];
  for (const patch of patches) {
    const read = await readBeside(file, patch.path, line(patch));
    if (!("bytes" in read)) {
      errors.push(read);
      continue;
    }
    const parsed = parseSource(read.file, decode(read.bytes));
    const own = !scanned.has(read.file);
    if (own) errors.push(...parsed.errors);
    for (const patchItem of parsed.objects) {
      // A JSON patch parses to a list of operations.
      const made = Array.isArray(patchItem.object) ? jsonPatchObjects(patchItem, patch.target) : own ? [patchItem] : [];
      objects.push(...made.map((object) => ({ file: read.file, item: object })));
    }
  }
  return { objects, errors, notes };
}

/** A URL (kustomize loads a patch over HTTP(S) too), not a path in the folder. */
const REMOTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function patchFilesOf(object: unknown): PatchFile[] {
  if (!isKustomization(object)) return [];
  const list = (field: string) => (Array.isArray(object[field]) ? object[field] : []);
  const withPath = (field: string) =>
    list(field).flatMap((entry: unknown, i: number): PatchFile[] =>
      isRecord(entry) && typeof entry.path === "string"
        ? [{ at: [field, i, "path"], path: entry.path, target: entry.target }]
        : [],
    );
  // An entry of patchesStrategicMerge is a file's name or an inline patch (read by documents.ts).
  const strategic = list("patchesStrategicMerge").flatMap((entry: unknown, i: number): PatchFile[] =>
    typeof entry === "string" && !entry.includes("\n") ? [{ at: ["patchesStrategicMerge", i], path: entry }] : [],
  );
  return [...withPath("patches"), ...withPath("patchesJson6902"), ...strategic];
}
