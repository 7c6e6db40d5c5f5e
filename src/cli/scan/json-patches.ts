// kustomize's JSON 6902 patches (`op: add` or `replace` with a `value`) put values into the objects it
// builds: each value is read in an object of the patch target's kind, at the op's path, and located at
// the value in the patch. List indexes become 0 (the target's other items are not in the patch).
import { isRecord, type Json } from "../../engine/objects.ts";
import type { PathSegment } from "../../engine/types.ts";
import type { PickLine } from "./block-lines.ts";
import type { ParsedObject } from "./documents.ts";

export function jsonPatchObjects(patch: ParsedObject, target: unknown): ParsedObject[] {
  if (!Array.isArray(patch.object) || !isRecord(target) || typeof target.kind !== "string") return [];
  const metadata = {
    ...(typeof target.name === "string" ? { name: target.name } : {}),
    ...(typeof target.namespace === "string" ? { namespace: target.namespace } : {}),
  };
  const group = typeof target.group === "string" && target.group !== "" ? `${target.group}/` : "";
  const apiVersion = `${group}${typeof target.version === "string" ? target.version : "v1"}`;
  return patch.object.flatMap((op, index): ParsedObject[] => {
    if (!isRecord(op) || (op.op !== "add" && op.op !== "replace") || typeof op.path !== "string") return [];
    const at = pointer(op.path);
    // A value for the whole object is no value in it.
    if (!("value" in op) || at.length === 0) return [];
    const object: Json = { apiVersion, kind: target.kind, metadata };
    placeAt(object, at, op.value);
    return [
      {
        object,
        positionOf: (path: readonly PathSegment[], pick?: PickLine) =>
          patch.positionOf([index, "value", ...path.slice(at.length)], pick),
      },
    ];
  });
}

/** A JSON pointer (RFC 6901) as a path: `-` (the end of a list) and list indexes as 0. */
function pointer(text: string): PathSegment[] {
  if (text === "") return [];
  return text
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((token) => (token === "-" || /^\d+$/.test(token) ? 0 : token));
}

function placeAt(object: Json, path: readonly PathSegment[], value: unknown): void {
  let node: object = object;
  path.forEach((key, i) => {
    const next = path[i + 1];
    const existing = (node as Record<PathSegment, unknown>)[key];
    const child =
      next === undefined
        ? value
        : existing !== null && typeof existing === "object" && Object.hasOwn(node, key)
          ? existing
          : typeof next === "number"
            ? []
            : {};
    // Defined, not assigned: a key __proto__ would set the prototype and be lost.
    Object.defineProperty(node, key, { value: child, writable: true, enumerable: true, configurable: true });
    if (next !== undefined) node = child as object;
  });
}
