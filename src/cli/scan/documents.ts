// Source text → Kubernetes objects, each able to say on which line a path of it sits. YAML covers
// JSON, multi-document streams and `helm template` output alike.
import { type Document, LineCounter, type Node, parseAllDocuments, visit } from "yaml";
import { isRecord, type Json } from "../../engine/objects.ts";
import type { InventoryContext, RegisteredApi } from "../../engine/rules/unregistered-ai-api.ts";
import type { PathSegment } from "../../engine/types.ts";
import { blockScalarLine, type PickLine, type Position } from "./block-lines.ts";
import { jsonPatchObjects } from "./json-patches.ts";
import { type JsonValue, jsonStream } from "./json-stream.ts";
import { generatedConfigMap, isKustomization } from "./kustomization.ts";
import type { InputError } from "./report.ts";

export interface ParsedObject {
  object: unknown;
  /**
   * Where the deepest node on `path` that the source has starts; the document's start otherwise. When
   * `path` ends in a block scalar, the line of it that `pick` picks (see PickLine).
   */
  positionOf(path: readonly PathSegment[], pick?: PickLine): Position | undefined;
}

export interface ParsedSource {
  objects: ParsedObject[];
  errors: InputError[];
}

// What kubectl's YAML reader accepts and the yaml library's default does not: merge keys (`<<: *base`).
const PARSE_OPTIONS = { logLevel: "error", merge: true } as const;

export function parseSource(file: string, text: string): ParsedSource {
  const objects: ParsedObject[] = [];
  const errors: InputError[] = [];
  let { docs, lineCounter, lines } = parseWithLines(text);
  if (docs.some((doc) => doc.errors.length > 0)) {
    // kubectl reads JSON objects one after another (`jq '.items[]'` writes them) as a stream.
    const stream = jsonStream(text);
    if (stream) return parseJsonStream(file, stream);
    // kubectl also takes a multi-line quoted scalar whose lines sit left of its key; read it as kubectl does.
    const repaired = indentQuotedContinuations(text);
    const again = repaired === text ? undefined : parseWithLines(repaired);
    if (again?.docs.every((doc) => doc.errors.length === 0)) ({ docs, lineCounter, lines } = again);
  }
  for (const doc of docs) {
    const [error] = doc.errors;
    if (error) {
      // The first error of a document (the rest follow from it), and only the first line of its
      // message: the rest quotes the source.
      const message = withoutQuotedSource(
        (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, ""),
      );
      errors.push({ file, line: error.linePos?.[0].line, message: `invalid YAML: ${message}` });
      continue;
    }
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount: 100, reviver: binaryAsBase64 });
    } catch (error) {
      errors.push(notJson(file, doc, lineCounter, error));
      continue;
    }
    if (object === null || object === undefined) continue;
    if (typeof object !== "object") {
      errors.push(notAnObject(file, typeof object, lineOf(doc, lineCounter, [])));
      continue;
    }
    objects.push({ object, positionOf: (path, pick) => positionOf(doc, { lineCounter, lines }, path, pick) });
    objects.push(
      ...generatedConfigMaps(object, doc, { lineCounter, lines }),
      ...inlinePatches(file, object, doc, lineCounter),
    );
  }
  return { objects, errors };
}

/** Each value of a JSON stream parsed on its own, its lines those of the file. */
function parseJsonStream(file: string, values: JsonValue[]): ParsedSource {
  const parsed = values.map(({ text, line }) => ({ result: parseSource(file, text), offset: line - 1 }));
  const shift = (line: number | undefined, offset: number) => (line === undefined ? undefined : line + offset);
  return {
    objects: parsed.flatMap(({ result, offset }) =>
      result.objects.map((o) => ({
        object: o.object,
        positionOf: (path: readonly PathSegment[], pick?: PickLine) => {
          const at = o.positionOf(path, pick);
          // A value's first line may start mid-line in the file (`}{`): its columns are not the file's.
          return at && (at.line === 1 ? { line: at.line + offset } : { ...at, line: at.line + offset });
        },
      })),
    ),
    errors: parsed.flatMap(({ result, offset }) => result.errors.map((e) => ({ ...e, line: shift(e.line, offset) }))),
  };
}

function parseWithLines(text: string) {
  const lineCounter = new LineCounter();
  // logLevel "error": yaml's warnings go to the process and quote the source, which may hold a secret.
  const docs = parseAllDocuments(text, { lineCounter, ...PARSE_OPTIONS });
  return { docs, lineCounter, lines: text.split(/\r?\n/) };
}

/**
 * A document that parses but cannot become an object: an alias inside the node it names (a cycle, which
 * JSON cannot hold), reported at the alias, or more aliases than yaml expands (an alias bomb).
 */
function notJson(file: string, doc: Document, lineCounter: LineCounter, error: unknown): InputError {
  const line = (offset: number | undefined) => lineCounter.linePos(offset ?? 0).line;
  let problem: { at: number | undefined; message: string } | undefined;
  visit(doc, {
    Alias(_key, alias, ancestors) {
      const target = alias.resolve(doc);
      if (!target) problem = { at: alias.range?.[0], message: UNRESOLVED_ALIAS };
      else if (ancestors.includes(target)) problem = { at: alias.range?.[0], message: ALIAS_CYCLE };
      else return;
      return visit.BREAK;
    },
  });
  if (problem) return { file, line: line(problem.at), message: `invalid YAML: ${problem.message}` };
  // yaml's own reason names no value once its quote is dropped (its alias limit); anything else says what to look for.
  const reason =
    error instanceof ReferenceError
      ? withoutQuotedSource(error.message)
      : "its aliases cannot be expanded into an object";
  return { file, line: line(doc.contents?.range?.[0]), message: `invalid YAML: ${reason}` };
}

const ALIAS_CYCLE = "an alias refers to a node that contains it (a cycle, which JSON cannot hold)";
// The alias's name is not said: it may be a password that starts with *, which is what to look for.
const UNRESOLVED_ALIAS = "an alias (*name) names no anchor before it: quote a value that starts with *";

/**
 * yaml ends some messages with the source they quote, after `word: ` (a block scalar's header, an
 * alias's name), and that may be a secret: it is dropped. Its fixed texts put a space before a colon
 * (`Missing , or : between flow map items`).
 */
function withoutQuotedSource(message: string): string {
  return message.replace(/(?<=\S): .*$/, "");
}

/**
 * A document that is a bare string, number or boolean, which kubectl refuses too: most often JSON with
 * comments, which YAML reads as one long string (a key in it would otherwise pass unseen). Lists are
 * taken: kustomize's JSON patches are lists.
 */
function notAnObject(file: string, type: string, line: number | undefined): InputError {
  const hint = /\.json$/i.test(file) ? " (JSON has no comments)" : "";
  return { file, line, message: `not a Kubernetes object: the document is a ${type}${hint}` };
}

/** `!!binary` reaches the API server as base64 (Go's []byte in JSON): the same text the engine reads. */
function binaryAsBase64(_key: unknown, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
}

/**
 * A multi-line quoted scalar (double or single, alone or opening a flow sequence: Argo's `args: ["`)
 * whose continuation lines are indented no deeper than its key: each such line gets the key's
 * indentation plus two. Lines stay where they are, so line numbers hold.
 */
function indentQuotedContinuations(text: string): string {
  // CRLF too (Windows checkouts): `.` stops at a carriage return.
  const lines = text.split(/\r?\n/);
  let open: { indent: string; quote: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (open !== undefined) {
      if (line.trimStart().length > 0 && line.length - line.trimStart().length <= open.indent.length)
        lines[i] = `${open.indent}  ${line.trimStart()}`;
      if (unescapedQuotes(line, open.quote) % 2 === 1) open = undefined;
      continue;
    }
    const [, lead = "", quote = "", rest = ""] = /^(\s*(?:- )?)[^\s"'#][^"'#]*:\s+\[?\s*(["'])(.*)$/.exec(line) ?? [];
    // A list item's key sits after its "- ": that is the indentation to go past.
    if (quote && unescapedQuotes(rest, quote) % 2 === 0) open = { indent: " ".repeat(lead.length), quote };
  }
  return lines.join("\n");
}

/** Quotes that end a scalar: `\"` escapes one in double quotes, `''` in single quotes. */
function unescapedQuotes(text: string, quote: string): number {
  const unescaped = quote === '"' ? text.replace(/\\./g, "") : text.replaceAll("''", "");
  return unescaped.split(quote).length - 1;
}

/**
 * kustomization.yaml's configMapGenerator literals (KEY=value) become ConfigMaps when kustomize
 * builds them: read them as those ConfigMaps. secretGenerator makes Secrets, which are never read.
 */
function generatedConfigMaps(object: unknown, doc: Document, source: SourceLines): ParsedObject[] {
  if (!isKustomization(object) || !Array.isArray(object.configMapGenerator)) return [];
  return object.configMapGenerator.flatMap((generator, index) => {
    if (!isRecord(generator) || !Array.isArray(generator.literals)) return [];
    // Maps, not `data[key] = ...`: a literal keyed __proto__ would set the prototype and be lost.
    const values = new Map<string, string>();
    const literalIndex = new Map<string, number>();
    generator.literals.forEach((literal, at) => {
      if (typeof literal !== "string" || !literal.includes("=")) return;
      const key = literal.slice(0, literal.indexOf("="));
      values.set(key, literal.slice(key.length + 1).replace(/^"(.*)"$/, "$1"));
      literalIndex.set(key, at);
    });
    const generated = generatedConfigMap(object, generator, { data: Object.fromEntries(values) });
    const literalPath = (key: PathSegment | undefined): PathSegment[] =>
      key === undefined
        ? ["configMapGenerator", index]
        : ["configMapGenerator", index, "literals", literalIndex.get(String(key)) ?? 0];
    return [
      {
        object: generated,
        positionOf: (path: readonly PathSegment[]) => positionOf(doc, source, literalPath(path[1])),
      },
    ];
  });
}

/**
 * kustomization.yaml's inline patches are what kustomize merges into what it builds: strategic-merge ones
 * (`patches[].patch`, `patchesStrategicMerge[]`) are read as the objects they are, JSON 6902 ones
 * (`patches[].patch`, `patchesJson6902[].patch`) as their values in their targets. A block scalar keeps
 * its lines, so a path in it has its line in the file; a quoted one is located at the scalar.
 */
function inlinePatches(file: string, object: unknown, doc: Document, lineCounter: LineCounter): ParsedObject[] {
  if (!isKustomization(object)) return [];
  const patches = Array.isArray(object.patches) ? object.patches : [];
  const strategic = Array.isArray(object.patchesStrategicMerge) ? object.patchesStrategicMerge : [];
  const json6902 = Array.isArray(object.patchesJson6902) ? object.patchesJson6902 : [];
  const withTarget = (field: string) => (patch: unknown, i: number) => ({
    at: [field, i, "patch"],
    text: isRecord(patch) && patch.patch,
    target: isRecord(patch) && patch.target,
  });
  const inline: { at: PathSegment[]; text: unknown; target?: unknown }[] = [
    ...patches.map(withTarget("patches")),
    ...json6902.map(withTarget("patchesJson6902")),
    // An entry here is a file's name or a patch: a file name is one line (the file is read as any other).
    ...strategic.map((text, i) => ({ at: ["patchesStrategicMerge", i], text: String(text).includes("\n") && text })),
  ];
  return inline.flatMap(({ at, text, target }) => {
    if (typeof text !== "string") return [];
    const node = doc.getIn(at, true) as { type?: string } | undefined;
    const scalarLine = lineOf(doc, lineCounter, at) ?? 1;
    const block = node?.type === "BLOCK_LITERAL" || node?.type === "BLOCK_FOLDED";
    const objects = parseSource(file, text).objects;
    // A JSON patch parses to a list of operations.
    return objects
      .flatMap((patch) => (Array.isArray(patch.object) ? jsonPatchObjects(patch, target) : [patch]))
      .map((patch) => ({
        object: patch.object,
        // Lines only: the patch's columns are those of its text without the block's indentation.
        positionOf: (path: readonly PathSegment[], pick?: PickLine) => ({
          line: block ? scalarLine + (patch.positionOf(path, pick)?.line ?? 1) : scalarLine,
        }),
      }));
  });
}

type SourceLines = { lineCounter: LineCounter; lines: readonly string[] };

function positionOf(
  doc: Document,
  source: SourceLines,
  path: readonly PathSegment[],
  pick?: PickLine,
): Position | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
    const start = node?.range?.[0];
    if (typeof start !== "number") continue;
    const inBlock = node && depth === path.length && pick ? blockScalarLine(node, source, pick) : undefined;
    if (inBlock) return inBlock;
    const { line, col } = source.lineCounter.linePos(start);
    return { line, column: col };
  }
  return undefined;
}

function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PathSegment[]): number | undefined {
  return positionOf(doc, { lineCounter, lines: [] }, path)?.line;
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
    const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    // One generator's sources (literals, env files, files) come as a ConfigMap each: one ConfigMap in the cluster.
    byName.set(key, { ...byName.get(key), ...(isRecord(object.data) ? object.data : {}) });
  }
  return (namespace, name) => byName.get(`${namespace}/${name}`);
}
