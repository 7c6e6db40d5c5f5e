// Every string field of every built-in kind the webhook reviews, taken from the API server's own OpenAPI schema (what
// no one here wrote): where the API server stores a key (a server-side dry run says so, and hands back the object as
// it would be stored), the engine reports it and shows it by its hint, and the webhook refuses it (or warns) with no
// trace of it in its response, log lines or Events. A DeepSeek key ("sk-" and 32 hex) fits most
// fields, names included; where it does not, it is tried as a path, a host and an assignment. Fields the API server
// refuses it in (enums, formats, fields that need other fields) or drops (features that are off) cannot carry it,
// so are not counted. A workload's pod template is read as a Pod's spec is: its fields are probed in the Pod only.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.ts";
import { isStatus, KubeRest } from "../../src/kube/rest.ts";
import { admissionReview } from "../support/admission.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { webhookHarness } from "../support/webhook.ts";

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  required?: string[];
};
type Segment = string | number;
/** A string field, or (`mapKey`) the keys of a map of strings. */
type Field = { path: Segment[]; mapKey?: true };

const ns = useTestNamespace("podfields");
const KEY = `sk-${randomBytes(16).toString("hex")}`;
const HINT_END = KEY.slice(-4);
const WAYS = [KEY, `/data/${KEY}`, `${KEY}.example.com`, `${KEY}=1`, `example.com/${KEY}`];
const MAP_KEY = Symbol("a map's key");
const schemas: Record<string, Schema> = {};

const resolve = (schema: Schema): Schema => {
  if (schema.$ref) return resolve(schemas[schema.$ref.replace("#/components/schemas/", "")] ?? {});
  const [only] = schema.allOf ?? [];
  return only && schema.allOf?.length === 1 ? { ...resolve(only), ...schema, allOf: undefined } : schema;
};

type Json = Record<string | number, unknown>;
const template = (labels: Json) => ({
  metadata: { labels },
  spec: { restartPolicy: "Never", containers: [{ name: "app", image: "app:1" }] },
});
const POD_TEMPLATE = ["spec", "template", "spec"];

/** Where the API server's validation asks for more than the schema's required fields. */
const CLAIM = { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } };
const VALID: Record<string, Json> = {
  initContainers: { name: "init", image: "app:1" },
  volumeClaimTemplate: CLAIM,
  hostAliases: { ip: "10.0.0.1" },
  items: { key: "k", path: "p" },
};

interface Kind {
  kind: string;
  /** Its OpenAPI v3 document (its group and version's path below the API root too), and its schema's name there. */
  doc: string;
  schema: string;
  /** A valid object, the field under test aside. */
  base: Json;
  /** A subtree read by the same code as another kind's and probed there. */
  skip?: Segment[];
}

const KINDS: Kind[] = [
  {
    kind: "Pod",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.Pod",
    base: { spec: { containers: [{ name: "app", image: "app:1" }] } },
  },
  { kind: "ConfigMap", doc: "api/v1", schema: "io.k8s.api.core.v1.ConfigMap", base: {} },
  {
    kind: "PodTemplate",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.PodTemplate",
    base: { template: template({ app: "x" }) },
    skip: ["template", "spec"],
  },
  {
    kind: "ReplicationController",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.ReplicationController",
    base: {
      spec: {
        selector: { app: "x" },
        template: { ...template({ app: "x" }), spec: { containers: [{ name: "app", image: "app:1" }] } },
      },
    },
    skip: POD_TEMPLATE,
  },
  ...["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"].map((kind) => ({
    kind,
    doc: "apis/apps/v1",
    schema: `io.k8s.api.apps.v1.${kind}`,
    base: {
      spec: {
        selector: { matchLabels: { app: "x" } },
        template: { ...template({ app: "x" }), spec: { containers: [{ name: "app", image: "app:1" }] } },
        // A claim needs a name, a size and an access mode, which the schema does not mark required.
        ...(kind === "StatefulSet" && {
          volumeClaimTemplates: [{ metadata: { name: "data" }, ...CLAIM }],
        }),
      },
    },
    skip: POD_TEMPLATE,
  })),
  {
    kind: "Job",
    doc: "apis/batch/v1",
    schema: "io.k8s.api.batch.v1.Job",
    base: { spec: { template: template({ app: "x" }) } },
    skip: POD_TEMPLATE,
  },
  {
    kind: "CronJob",
    doc: "apis/batch/v1",
    schema: "io.k8s.api.batch.v1.CronJob",
    base: { spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: template({ app: "x" }) } } } },
    skip: ["spec", "jobTemplate", ...POD_TEMPLATE],
  },
];

const startsWith = (path: readonly Segment[], prefix: readonly Segment[] = []) =>
  prefix.length > 0 && prefix.every((segment, i) => path[i] === segment);

/** The string fields of the kind's object (not its status), each type once on a path (the schema is recursive). */
function fieldsOf(kind: Kind, schema: Schema, path: Segment[], seen: readonly string[], out: Field[]): Field[] {
  const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
  if (ref && seen.includes(ref)) return out;
  const at = ref ? [...seen, ref] : seen;
  const s = resolve(schema);
  // Ephemeral containers are added through their subresource, never on create; they are read as containers are.
  if (path.includes("ephemeralContainers") || startsWith(path, kind.skip)) return out;
  if (s.type === "string") {
    if (!s.enum && !s.format && path.length > 1) out.push({ path });
  } else if (s.type === "array" && s.items) fieldsOf(kind, s.items, [...path, 0], at, out);
  else if (s.additionalProperties && !s.properties) {
    if (resolve(s.additionalProperties).type === "string") out.push({ path, mapKey: true }, { path: [...path, "k"] });
  } else
    for (const [name, property] of Object.entries(s.properties ?? {}))
      if (path.length > 0 || name !== "status") fieldsOf(kind, property, [...path, name], at, out);
  return out;
}

/** What a required field gets, so that the API server judges the field under test and not a missing one. */
function filler(name: string, schema: Schema): unknown {
  if (schema.enum) return schema.enum[0];
  if (name === "operator") return "In";
  if (schema.format === "int-or-string") return 8080;
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
function objectWith(kind: Kind, field: Field, value: string): Json {
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
      const next = (typeof segment === "number" ? s.items : s.properties?.[segment]) ?? {};
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

/** The object as the API server would store it, or undefined when it refuses it. */
async function stored(rest: KubeRest, kind: Kind, object: Json): Promise<unknown> {
  // Each kind here names its collection in lower case with an "s" (pods, cronjobs, replicationcontrollers).
  try {
    return await rest.request(`/${kind.doc}/namespaces/${ns.name}/${kind.kind.toLowerCase()}s`, {
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

type Outcome = "found" | "missed" | "cannot hold it";

type Probed = { outcome: Outcome; leaked: boolean; object?: Json };

async function probe(rest: KubeRest, kind: Kind, field: Field): Promise<Probed> {
  const none = { outcome: "cannot hold it" as const, leaked: false };
  if ((await stored(rest, kind, objectWith(kind, field, field.mapKey ? "abc" : "abc1"))) === undefined) return none;
  for (const way of WAYS) {
    const object = (await stored(rest, kind, objectWith(kind, field, way))) as Json | undefined;
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

const name = (kind: Kind, field: Field) => `${kind.kind} ${field.path.join(".")}${field.mapKey ? " (a key)" : ""}`;
const results = new Map<string, Probed>();

beforeAll(async () => {
  // kubectl as the client: the schemas the API server publishes.
  for (const doc of new Set(KINDS.map((kind) => kind.doc))) {
    const openapi = await kubectl(["get", "--raw", `/openapi/v3/${doc}`]);
    expect(openapi.code, openapi.stderr).toBe(0);
    Object.assign(schemas, JSON.parse(openapi.stdout).components.schemas);
  }
  const rest = new KubeRest(kubeConfig());
  const queue = KINDS.flatMap((kind) =>
    fieldsOf(kind, { $ref: `#/components/schemas/${kind.schema}` }, [], [], []).map((field) => ({ kind, field })),
  );
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      results.set(name(next.kind, next.field), await probe(rest, next.kind, next.field));
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}, 180_000);

describe("a key in any string field of a reviewed kind that the API server stores it in", () => {
  const where = (outcome: Outcome) => [...results].filter(([, r]) => r.outcome === outcome).map(([field]) => field);

  it("is reported by the engine", () => {
    // Before: 17 of a Pod's, among them env[].valueFrom's names, httpHeaders[].name, csi.driver, gitRepo.revision.
    expect(where("missed")).toEqual([]);
    // Measured on Kubernetes 1.34 with this harness: 535 of 906 fields take a key (a Pod's: 217 of 450). Fewer means
    // the probe broke: a base object or a filler the API server now refuses.
    expect(where("found").length).toBeGreaterThanOrEqual(520);
    for (const kind of KINDS)
      expect(
        where("found").some((field) => field.startsWith(`${kind.kind} `)),
        kind.kind,
      ).toBe(true);
  });

  it("is shown by its hint in every finding", () => {
    expect([...results].filter(([, r]) => r.leaked).map(([field]) => field)).toEqual([]);
  });

  it("is refused by the webhook, or warned of, and is in no response, log line or Event", async () => {
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
    // Warn records an Event for each object whose name holds no key.
    expect(events).toBeGreaterThan(0);
    expect(written).toContain(`ending …${HINT_END}`);
    expect(written).not.toContain(KEY.slice(3, 20));
    expect(written).not.toContain(KEY.slice(-16));
  });
});
