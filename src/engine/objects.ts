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

/** Thrown inside extraction when a field has the wrong type; evaluate turns it into `unreadable`. */
export class Unreadable extends Error {}

const describe = (value: unknown) =>
  Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`;

/** The field at `path` as an object, or undefined when absent; a wrong type is Unreadable. */
export function optionalRecord(value: unknown, path: readonly PathSegment[]): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw new Unreadable(`${formatPath(path)} is ${describe(value)}, not an object`);
  return value;
}

export function optionalList(value: unknown, path: readonly PathSegment[]): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Unreadable(`${formatPath(path)} is ${describe(value)}, not a list`);
  return value;
}

export function optionalString(value: unknown, path: readonly PathSegment[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new Unreadable(`${formatPath(path)} is ${describe(value)}, not a string`);
  return value;
}
