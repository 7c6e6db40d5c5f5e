// The objects of the inputs scan and `inventory -f` read: each source's documents, and the ConfigMaps its
// kustomizations make of their generators' env files and files (read beside them).
import { parseSource } from "./documents.ts";
import { generatorFiles, type ScannedObject } from "./generator-files.ts";
import type { Source } from "./inputs.ts";
import type { InputError } from "./report.ts";

export async function parseInputs(
  sources: readonly Source[],
): Promise<{ objects: ScannedObject[]; errors: InputError[] }> {
  const objects: ScannedObject[] = [];
  const errors: InputError[] = [];
  for (const source of sources) {
    const result = parseSource(source.file, source.text);
    errors.push(...result.errors);
    objects.push(...result.objects.map((item) => ({ file: source.file, item })));
    for (const item of result.objects) {
      const generated = await generatorFiles(source.file, item);
      errors.push(...generated.errors);
      objects.push(...generated.objects);
    }
  }
  return { objects, errors };
}
