// Source text → Kubernetes objects, each able to say on which line a path of it sits. YAML covers
// JSON, multi-document streams and `helm template` output alike.
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import { isRecord, type Json } from "../../engine/objects.ts";
import type { InventoryContext, RegisteredApi } from "../../engine/rules/unregistered-ai-api.ts";
import type { PathSegment } from "../../engine/types.ts";
import type { InputError } from "./report.ts";

export interface ParsedObject {
  object: unknown;
  /** The line of the deepest node on `path` that the source has; the document's first line otherwise. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export interface ParsedSource {
  objects: ParsedObject[];
  errors: InputError[];
}

export function parseSource(file: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const objects: ParsedObject[] = [];
  const errors: InputError[] = [];
  // logLevel "error": yaml's warnings go to the process and quote the source, which may hold a secret.
  for (const doc of parseAllDocuments(text, { lineCounter, logLevel: "error" })) {
    const [error] = doc.errors;
    if (error) {
      // The first error of a document (the rest follow from it), and only the first line of its
      // message: the rest quotes the source.
      const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      errors.push({ file, line: error.linePos?.[0].line, message: `invalid YAML: ${message}` });
      continue;
    }
    const object = doc.toJS({ maxAliasCount: 100 });
    if (object === null || object === undefined) continue;
    objects.push({ object, lineOf: (path) => lineOf(doc, lineCounter, path) });
  }
  return { objects, errors };
}

function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PathSegment[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
    if (typeof start === "number") return lineCounter.linePos(start).line;
  }
  return undefined;
}

/** Hosts of every AiApiPolicy endpoint in the objects: a plaintext URL to one is always a finding. */
export function policyEndpointHosts(objects: readonly unknown[]): string[] {
  return registeredApis(objects).map((api) => api.endpointHost);
}

/** Every AiApiPolicy in the objects (Lists included), as the inventory rule reads it. */
export function registeredApis(objects: readonly unknown[]): RegisteredApi[] {
  const apis: RegisteredApi[] = [];
  for (const { object } of flatten(objects)) {
    if (object.kind !== "AiApiPolicy" || !String(object.apiVersion).startsWith("aiapiguard.dev/")) continue;
    const spec = isRecord(object.spec) ? object.spec : {};
    const api = isRecord(spec.api) ? spec.api : {};
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    if (typeof api.endpoint !== "string") continue;
    try {
      apis.push({
        namespace: typeof metadata.namespace === "string" ? metadata.namespace : "",
        name: typeof metadata.name === "string" ? metadata.name : "",
        endpointHost: new URL(api.endpoint).hostname.replace(/^\[|\]$/g, "").toLowerCase(),
        selector: isRecord(spec.selector) ? spec.selector : {},
      });
    } catch {
      // An invalid endpoint is the API server's to refuse; it names no host to protect.
    }
  }
  return apis;
}

/** The objects with the items of Lists in place of the Lists, each with its path in the source. */
export function flatten(
  objects: readonly unknown[],
  prefix: PathSegment[] = [],
): { object: Json; prefix: PathSegment[] }[] {
  const out: { object: Json; prefix: PathSegment[] }[] = [];
  for (const object of objects) {
    if (!isRecord(object)) continue;
    if (object.kind === "List" && Array.isArray(object.items)) {
      object.items.forEach((item, i) => {
        out.push(...flatten([item], [...prefix, "items", i]));
      });
    } else out.push({ object, prefix });
  }
  return out;
}

/** A lookup of the ConfigMaps among the objects, by namespace and name. */
export function configMapLookup(objects: readonly unknown[]): InventoryContext["configMap"] {
  const byName = new Map<string, Json>();
  for (const { object } of flatten(objects)) {
    if (object.kind !== "ConfigMap" || !isRecord(object.metadata)) continue;
    byName.set(`${object.metadata.namespace ?? ""}/${object.metadata.name}`, isRecord(object.data) ? object.data : {});
  }
  return (namespace, name) => byName.get(`${namespace}/${name}`);
}
