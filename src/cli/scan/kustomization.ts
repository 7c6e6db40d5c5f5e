// What a kustomization.yaml is to scan: the objects kustomize builds from it are read as those objects.
import { readFile, realpath } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { isRecord, type Json } from "../../engine/objects.ts";
import { describe } from "./inputs.ts";
import type { InputError } from "./report.ts";

/** A kustomization.yaml: kind Kustomization, or no kind at all (kustomize's own default). */
export function isKustomization(object: unknown): object is Json {
  return isRecord(object) && (object.kind === undefined || object.kind === "Kustomization");
}

/**
 * The ConfigMap a configMapGenerator entry of `kustomization` makes, with `body` (data, binaryData) from
 * one of its sources; in the kustomization's namespace unless the entry names one.
 */
export function generatedConfigMap(kustomization: Json, generator: Json, body: Json): Json {
  const name = typeof generator.name === "string" ? generator.name : "";
  const named = [generator.namespace, kustomization.namespace].find((n) => typeof n === "string");
  const namespace = named === undefined ? {} : { namespace: named };
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...namespace }, ...body };
}

/**
 * A file a kustomization (read from `kustomization`) names at `line`, read from its folder: the file as scan names
 * it, with its bytes; or the input error, at that line (kustomize reads nothing outside the folder).
 */
export async function readBeside(
  kustomization: string,
  path: string,
  line: number | undefined,
): Promise<{ file: string; bytes: Uint8Array } | InputError> {
  const folder = dirname(kustomization);
  const refused = (why: string) => ({ file: kustomization, line, message: `${path}: ${why}` });
  try {
    const [root, real] = await Promise.all([realpath(folder), realpath(resolve(folder, path))]);
    if (!real.startsWith(root + sep))
      return refused("outside the kustomization's folder, which kustomize refuses: move the file into the folder");
    return { file: join(folder, path), bytes: await readFile(real) };
  } catch (error) {
    return refused(`cannot read: ${describe(error)}`);
  }
}
