// kustomization.yaml's configMapGenerator reads env files (`envs:`, the older `env:`) and files (`files:`,
// `key=path` too) from the kustomization's folder: read them as the ConfigMaps kustomize makes, each
// finding at the line of the file that holds it. A path out of the folder is refused, as kustomize does.
import { basename } from "node:path";
import { isRecord, type Json } from "../../engine/objects.ts";
import type { PathSegment } from "../../engine/types.ts";
import { type PickLine, type Position, pickedLine } from "./block-lines.ts";
import type { ParsedObject } from "./documents.ts";
import { decode, STDIN_NAME } from "./inputs.ts";
import { generatedConfigMap, isKustomization, readBeside } from "./kustomization.ts";
import type { InputError } from "./report.ts";

export interface ScannedObject {
  file: string;
  item: ParsedObject;
}

interface Source {
  kustomization: Json;
  generator: Json;
  /** Where the kustomization names it. */
  at: PathSegment[];
  /** As written: relative to the kustomization's folder. */
  path: string;
  /** The ConfigMap key of a file; an env file has a key per line. */
  key?: string;
}

/** The ConfigMaps a kustomization (read from `file`) makes of its generators' env files and files. */
export async function generatorFiles(
  file: string,
  item: ParsedObject,
): Promise<{ objects: ScannedObject[]; errors: InputError[] }> {
  const sources = sourcesOf(item.object);
  const line = (source: Source) => item.positionOf(source.at)?.line;
  if (sources.length === 0) return { objects: [], errors: [] };
  const [first] = sources;
  if (file === STDIN_NAME && first) {
    const message = "configMapGenerator reads its env files and files from the kustomization's folder: scan the folder";
    return { objects: [], errors: [{ file, line: line(first), message }] };
  }
  const objects: ScannedObject[] = [];
  const errors: InputError[] = [];
  for (const source of sources) {
    const read = await readBeside(file, source.path, line(source));
    if (!("bytes" in read)) errors.push(read);
    else
      objects.push({
        file: read.file,
        item: source.key === undefined ? envFile(source, read.bytes) : keyFile(source, source.key, read.bytes),
      });
  }
  return { objects, errors };
}

function sourcesOf(object: unknown): Source[] {
  if (!isKustomization(object) || !Array.isArray(object.configMapGenerator)) return [];
  return object.configMapGenerator.flatMap((generator, index): Source[] => {
    if (!isRecord(generator)) return [];
    const at = (...rest: PathSegment[]) => ["configMapGenerator", index, ...rest];
    const named = (field: string) =>
      (Array.isArray(generator[field]) ? generator[field] : []).flatMap((path: unknown, i: number) =>
        typeof path === "string" ? [{ path, at: at(field, i) }] : [],
      );
    const env = typeof generator.env === "string" ? [{ path: generator.env, at: at("env") }] : [];
    return [
      ...[...named("envs"), ...env].map((source) => ({ ...source, kustomization: object, generator })),
      ...named("files").map(({ path, at }) => {
        // key=path names the key; a path alone is keyed by its file name.
        const equals = path.indexOf("=");
        return equals === -1
          ? { kustomization: object, generator, at, path, key: basename(path) }
          : { kustomization: object, generator, at, path: path.slice(equals + 1), key: path.slice(0, equals) };
      }),
    ];
  });
}

/**
 * An env file as kustomize reads it: KEY=value a line, the key after leading blanks, the value as written
 * (quotes included); blank lines and # comments skipped. A name alone takes its value from the
 * environment kustomize runs in, which the repository does not hold.
 */
function envFile(source: Source, bytes: Uint8Array): ParsedObject {
  // Maps, not `data[key] = ...`: a key __proto__ would set the prototype and be lost.
  const data = new Map<string, string>();
  const positions = new Map<string, Position>();
  decode(bytes)
    .split("\n")
    .forEach((raw, index) => {
      const line = raw.replace(/\r$/, "");
      const start = line.length - line.trimStart().length;
      const equals = line.indexOf("=", start);
      if (line[start] === "#" || equals === -1) return;
      const key = line.slice(start, equals);
      data.set(key, line.slice(equals + 1));
      positions.set(key, { line: index + 1, column: equals + 2 });
    });
  return {
    object: generatedConfigMap(source.kustomization, source.generator, { data: Object.fromEntries(data) }),
    positionOf: (path) => positions.get(String(path[1])) ?? { line: 1 },
  };
}

/** A file as one key: data when it is UTF-8, binaryData otherwise, as kustomize does. */
function keyFile(source: Source, key: string, bytes: Uint8Array): ParsedObject {
  const text = utf8(bytes);
  const lines = text?.split(/\r?\n/) ?? [];
  const body =
    text === undefined ? { binaryData: { [key]: Buffer.from(bytes).toString("base64") } } : { data: { [key]: text } };
  return {
    object: generatedConfigMap(source.kustomization, source.generator, body),
    positionOf: (_path, pick?: PickLine) => (pick && pickedLine(lines, 1, lines.length, pick)) || { line: 1 },
  };
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
