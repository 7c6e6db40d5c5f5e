// Reading Kubernetes objects defensively: the engine sees whatever JSON arrives, and a reviewed kind
// whose fields have the wrong types must be reported as unreadable (adapters fail closed), not crash.
import type { PathSegment } from "./types.ts";

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "spec.template.spec.containers[0].env[2].value"; keys that are not identifiers are quoted. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The value at `path` through own properties only (a path may name `constructor` or `__proto__`). */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}

/** Thrown inside extraction when a field has the wrong type; evaluate turns it into `unreadable`. */
export class Unreadable extends Error {
  /** The field of the wrong type, for adapters that point at its line. */
  readonly path: readonly PathSegment[];
  constructor(message: string, path: readonly PathSegment[] = []) {
    super(message);
    this.path = path;
  }
}

const describe = (value: unknown) =>
  Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`;

// The readers below take the path as a parent and the keys below it, and join them only to report a
// wrong type: building every path up front was most of the cost of extraction.
const wrongType = (value: unknown, parent: readonly PathSegment[], keys: PathSegment[], expected: string) => {
  const path = [...parent, ...keys];
  return new Unreadable(`${formatPath(path)} is ${describe(value)}, not ${expected}`, path);
};

/** The field at `parent.keys` as an object, or undefined when absent; a wrong type is Unreadable. */
export function optionalRecord(value: unknown, parent: readonly PathSegment[], ...keys: PathSegment[]) {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw wrongType(value, parent, keys, "an object");
  return value;
}

export function optionalList(value: unknown, parent: readonly PathSegment[], ...keys: PathSegment[]): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType(value, parent, keys, "a list");
  return value;
}

export function optionalString(value: unknown, parent: readonly PathSegment[], ...keys: PathSegment[]) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw wrongType(value, parent, keys, "a string");
  return value;
}
