// The field probe: a key planted in each string field of a kind's OpenAPI schema, as the API server publishes it
// (what no one here wrote). A server-side dry run says whether the API server stores it there and hands back the
// object as it would be stored; the engine must report it and show it by its hint only. Used for the built-in
// kinds (reviewed-fields.test.ts) and for the real CRDs of the AI kinds (reviewed-crd-fields.test.ts).
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { evaluate } from "../../src/engine/index.ts";
import { isStatus, KubeRest } from "../../src/kube/rest.ts";
import { admissionReview } from "./admission.ts";
import { kubeConfig, kubectl } from "./cluster.ts";
import { webhookHarness } from "./webhook.ts";

export type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  required?: string[];
  "x-kubernetes-int-or-string"?: boolean;
};
type Segment = string | number;
export type Json = Record<string | number, unknown>;
/** A string field, or (`mapKey`) the keys of a map of strings. */
type Field = { path: Segment[]; mapKey?: true };

export interface ProbedKind {
  kind: string;
  /** Its OpenAPI v3 document (its group and version's path below the API root too), and its schema's name there. */
  doc: string;
  schema: string;
  /** Its collection's name: the kind in lower case with an "s" when absent. */
  plural?: string;
  /** A valid object, the field under test aside. */
  base: Json;
  /** A subtree read by the same code as another kind's and probed there. */
  skip?: Segment[];
  /**
   * Probe a subtree once per kind when another with the same schema under the same field name was probed: a CRD
   * inlines its types, so a pod template or a container is written out again wherever it is used.
   */
  once?: true;
}

export const KEY = `sk-${randomBytes(16).toString("hex")}`;
export const HINT_END = KEY.slice(-4);
const WAYS = [KEY, `/data/${KEY}`, `${KEY}.example.com`, `${KEY}=1`, `example.com/${KEY}`];
const MAP_KEY = Symbol("a map's key");

/** Where the API server's validation asks for more than the schema's required fields. */
export const CLAIM = { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } };
const VALID: Record<string, Json> = {
  initContainers: { name: "init", image: "app:1" },
  volumeClaimTemplate: CLAIM,
  hostAliases: { ip: "10.0.0.1" },
  items: { key: "k", path: "p" },
};

export type Outcome = "found" | "missed" | "cannot hold it";
export type Probed = { outcome: Outcome; leaked: boolean; object?: Json };

const startsWith = (path: readonly Segment[], prefix: readonly Segment[] = []) =>
  prefix.length > 0 && prefix.every((segment, i) => path[i] === segment);

/** Probes the kinds' fields in `namespace`, with their schemas read from the API server by kubectl. */
export async function probeFields(kinds: readonly ProbedKind[], namespace: string): Promise<Map<string, Probed>> {
  const schemas: Record<string, Schema> = {};
  for (const doc of new Set(kinds.map((kind) => kind.doc))) {
    const openapi = await kubectl(["get", "--raw", `/openapi/v3/${doc}`]);
    expect(openapi.code, openapi.stderr).toBe(0);
    Object.assign(schemas, JSON.parse(openapi.stdout).components.schemas);
  }
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(schemas[schema.$ref.replace("#/components/schemas/", "")] ?? {});
    const [only] = schema.allOf ?? [];
    return only && schema.allOf?.length === 1 ? { ...resolve(only), ...schema, allOf: undefined } : schema;
  };

  const probedShapes = new Set<string>();
  /** The string fields of the kind's object (not its status), each type once on a path (the schema is recursive). */
  function fieldsOf(kind: ProbedKind, schema: Schema, path: Segment[], seen: readonly string[], out: Field[]): Field[] {
    const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
    if (ref && seen.includes(ref)) return out;
    const at = ref ? [...seen, ref] : seen;
    const s = resolve(schema);
    // Ephemeral containers are added through their subresource, never on create; they are read as containers are.
    if (path.includes("ephemeralContainers") || startsWith(path, kind.skip)) return out;
    if (kind.once && s.properties && path.length > 1) {
      const shape = `${kind.kind}\u0000${String(path.at(-1))}\u0000${JSON.stringify(s)}`;
      if (probedShapes.has(shape)) return out;
      probedShapes.add(shape);
    }
    // A port or a surge is an int or a string: a CRD's schema admits any string there.
    const intOrString = s.format === "int-or-string" || s["x-kubernetes-int-or-string"] === true;
    if (s.type === "string" || intOrString) {
      if (!s.enum && (!s.format || intOrString) && path.length > 1) out.push({ path });
    } else if (s.type === "array" && s.items) fieldsOf(kind, s.items, [...path, 0], at, out);
    else if (s.additionalProperties && !s.properties) {
      const value = resolve(s.additionalProperties);
      if (value.type === "string") out.push({ path, mapKey: true }, { path: [...path, "k"] });
      // A map of objects (Kubeflow's replica specs: Master, Worker) is probed through one entry.
      else fieldsOf(kind, s.additionalProperties, [...path, "k"], at, out);
    } else
      for (const [name, property] of Object.entries(s.properties ?? {}))
        if (path.length > 0 || name !== "status") fieldsOf(kind, property, [...path, name], at, out);
    return out;
  }

  /** What a required field gets, so that the API server judges the field under test and not a missing one. */
  function filler(name: string, schema: Schema): unknown {
    if (schema.enum) return schema.enum[0];
    if (name === "operator") return "In";
    if (schema.format === "int-or-string" || schema["x-kubernetes-int-or-string"]) return 8080;
    switch (schema.type) {
      case "string":
        return name === "name" ? "n1" : "x1";
      case "integer":
        return 1;
      case "boolean":
        return false;
      case "array":
        return [];
      default:
        return filled({}, schema);
    }
  }

  function filled(object: Json, schema: Schema): Json {
    const s = resolve(schema);
    for (const name of s.required ?? [])
      object[name] ??= filler(name, resolve(s.properties?.[name] ?? { type: "string" }));
    return object;
  }

  /** A valid object with `value` in the field (or as the map's one key), its parents made with their required fields. */
  function objectWith(kind: ProbedKind, field: Field, value: string): Json {
    const apiVersion = kind.doc.replace(/^apis?\//, "");
    const object: Json = { apiVersion, kind: kind.kind, metadata: { name: "p" }, ...structuredClone(kind.base) };
    let node = object;
    let schema: Schema = { $ref: `#/components/schemas/${kind.schema}` };
    const path: (Segment | typeof MAP_KEY)[] = field.mapKey ? [...field.path, MAP_KEY] : field.path;
    for (const [i, segment] of path.entries()) {
      if (segment === MAP_KEY) node[value] = "1";
      else if (i === path.length - 1) node[segment] = value;
      else {
        const s = resolve(schema);
        const next =
          (typeof segment === "number" ? s.items : (s.properties?.[segment] ?? s.additionalProperties)) ?? {};
        const resolved = resolve(next);
        // An element of a list takes its valid start from the list's name.
        const valid = VALID[typeof segment === "number" ? String(path[i - 1]) : segment];
        node[segment] ??= resolved.type === "array" ? [] : filled(structuredClone(valid ?? {}), resolved);
        node = node[segment] as Json;
        schema = next;
      }
    }
    return object;
  }

  const rest = new KubeRest(kubeConfig());
  /** The object as the API server would store it, or undefined when it refuses it. */
  async function stored(kind: ProbedKind, object: Json): Promise<unknown> {
    const plural = kind.plural ?? `${kind.kind.toLowerCase()}s`;
    try {
      return await rest.request(`/${kind.doc}/namespaces/${namespace}/${plural}`, {
        method: "POST",
        query: { dryRun: "All" },
        body: object,
      });
    } catch (error) {
      // 422: invalid; 400: a value of the wrong type for the field; 403: an admission plugin's refusal (a service
      // account or priority class that does not exist). The count of fields found guards against refusing all.
      if (isStatus(error, 400, 403, 422)) return undefined;
      throw error;
    }
  }

  async function probe(kind: ProbedKind, field: Field): Promise<Probed> {
    const none = { outcome: "cannot hold it" as const, leaked: false };
    if ((await stored(kind, objectWith(kind, field, field.mapKey ? "abc" : "abc1"))) === undefined) return none;
    for (const way of WAYS) {
      const object = (await stored(kind, objectWith(kind, field, way))) as Json | undefined;
      if (object === undefined) continue;
      if (!JSON.stringify(object).includes(KEY)) return none;
      const { findings } = evaluate(object);
      // pathSegments address the value for the adapters; they are never shown.
      const shown = JSON.stringify(findings.map(({ pathSegments: _, ...finding }) => finding));
      const found = findings.some((f) => f.rule === "hardcoded-secret" && f.hint.includes(HINT_END));
      return { outcome: found ? "found" : "missed", leaked: shown.includes(KEY.slice(3, 20)), object };
    }
    return none;
  }

  const name = (kind: ProbedKind, field: Field) =>
    `${kind.kind} ${field.path.join(".")}${field.mapKey ? " (a key)" : ""}`;
  const queue = kinds.flatMap((kind) =>
    fieldsOf(kind, { $ref: `#/components/schemas/${kind.schema}` }, [], [], []).map((field) => ({ kind, field })),
  );
  const results = new Map<string, Probed>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      results.set(name(next.kind, next.field), await probe(next.kind, next.field));
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return results;
}

/** The fields of one outcome, named "Kind path". */
export const fieldsWhere = (results: ReadonlyMap<string, Probed>, outcome: Outcome) =>
  [...results].filter(([, r]) => r.outcome === outcome).map(([field]) => field);

/**
 * Every object the API server stored with a key, through the webhook (inject, real engine) under Deny and Warn:
 * refused or warned of, and the key in no response, log line or Event.
 */
export async function expectRefusedWithoutTrace(results: ReadonlyMap<string, Probed>): Promise<void> {
  const objects = [...results].flatMap(([field, r]) => (r.object ? [{ field, object: r.object }] : []));
  let written = "";
  let events = 0;
  for (const defaultAction of ["Deny", "Warn"] as const) {
    const webhook = await webhookHarness({ evaluate, config: { defaultAction } });
    for (const { field, object } of objects) {
      const { body, text } = await webhook.validate(admissionReview(object));
      const answered = defaultAction === "Deny" ? body.response.allowed === false : body.response.warnings?.length;
      expect(answered, `${defaultAction}: ${field}`).toBeTruthy();
      written += text;
    }
    written += webhook.logText.join("") + JSON.stringify(webhook.events);
    events += webhook.events.length;
  }
  // Deny records an AdmissionDenied Event for each object whose name holds no key.
  expect(events).toBeGreaterThan(0);
  expect(written).toContain(`ending …${HINT_END}`);
  expect(written).not.toContain(KEY.slice(3, 20));
  expect(written).not.toContain(KEY.slice(-16));
}
