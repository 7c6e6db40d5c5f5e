// The objects of the inputs scan and `inventory -f` read: each source's documents, the ConfigMaps its
// kustomizations make of their generators' env files and files, and what their patch files patch in
// (read beside them).
import { parseSource } from "./documents.ts";
import { generatorFiles, type ScannedObject } from "./generator-files.ts";
import type { Source } from "./inputs.ts";
import { patchFiles } from "./patch-files.ts";
import type { InputError } from "./report.ts";

export async function parseInputs(
  sources: readonly Source[],
): Promise<{ objects: ScannedObject[]; errors: InputError[]; notes: string[] }> {
  const objects: ScannedObject[] = [];
  const errors: InputError[] = [];
  const notes: string[] = [];
  const scanned = new Set(sources.map((source) => source.file));
  for (const source of sources) {
    const result = parseSource(source.file, source.text);
    errors.push(...result.errors);
    objects.push(...result.objects.map((item) => ({ file: source.file, item })));
    for (const item of result.objects) {
      const generated = await generatorFiles(source.file, item);
      const patched = await patchFiles(source.file, item, scanned);
      errors.push(...generated.errors, ...patched.errors);
      objects.push(...generated.objects, ...patched.objects);
      notes.push(...patched.notes);
    }
  }
  return { objects, errors, notes };
}
