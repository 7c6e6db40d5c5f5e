// What a kustomization.yaml is to scan: the objects kustomize builds from it are read as those objects.
import { readFile, realpath } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { isRecord, type Json } from "../../engine/objects.ts";
import { describe } from "./inputs.ts";

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

/** The file's bytes, or why there are none: kustomize reads nothing outside the kustomization's folder. */
export async function readInside(folder: string, path: string): Promise<Uint8Array | string> {
  try {
    const [root, real] = await Promise.all([realpath(folder), realpath(resolve(folder, path))]);
    if (!real.startsWith(root + sep))
      return "outside the kustomization's folder, which kustomize refuses: move the file into the folder";
    return await readFile(real);
  } catch (error) {
    return `cannot read: ${describe(error)}`;
  }
}
