// The CustomResourceDefinition, generated from the zod schemas. zod's JSON Schema is close to what the
// API server wants; `structural` turns it into a structural schema (types everywhere, no $ref, no
// additionalProperties next to properties) and refuses anything the server would reject.
import { stringify } from "yaml";
import { z } from "zod";
import {
  API_GROUP,
  API_VERSION,
  CATEGORIES,
  CRD_NAME,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
} from "./names.ts";
import { AiApiPolicySpecSchema } from "./spec.ts";
import { AiApiPolicyStatusSchema } from "./status.ts";

type Schema = { [key: string]: unknown };

const UNSUPPORTED = ["$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "const", "nullable"];
const DROPPED = ["$schema", "propertyNames"];
/** Read top to bottom in the YAML: what a field is before how it is checked. */
const KEY_ORDER = ["description", "type", "format", "enum", "default"];

function structural(node: Schema, path: string): Schema {
  const bad = UNSUPPORTED.find((key) => key in node);
  if (bad) throw new Error(`${path}: "${bad}" has no place in a structural schema; express it another way in src/api/`);
  if (typeof node.type !== "string") throw new Error(`${path}: every schema needs a type`);
  const out: Schema = {};
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b));
  for (const key of keys) {
    const value = node[key];
    if (DROPPED.includes(key) || isNoise(node, key)) continue;
    if (key === "properties")
      out[key] = mapValues(value as Record<string, Schema>, (v, k) => structural(v, `${path}.${k}`));
    else if (key === "items") out[key] = structural(value as Schema, `${path}[]`);
    else if (key === "additionalProperties" && typeof value === "object")
      out[key] = structural(value as Schema, `${path}{}`);
    else out[key] = value;
  }
  return out;
}

function rank(key: string): number {
  const i = KEY_ORDER.indexOf(key);
  return i === -1 ? KEY_ORDER.length : i;
}

/** What zod adds that the API server either refuses or already knows. */
function isNoise(node: Schema, key: string): boolean {
  const value = node[key];
  switch (key) {
    case "additionalProperties":
      return value === false; // zod's closed objects; the server prunes unknown fields instead
    case "pattern":
      return "format" in node; // zod's regex for a format the server validates itself
    case "minimum":
      return value === Number.MIN_SAFE_INTEGER;
    case "maximum":
      return value === Number.MAX_SAFE_INTEGER;
    default:
      return false;
  }
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v, k)]));
}

function jsonSchema(schema: z.ZodType, path: string): Schema {
  return structural(z.toJSONSchema(schema, { io: "input", target: "openapi-3.0" }) as Schema, path);
}

export function openAPIV3Schema(): Schema {
  return {
    description: `${KIND} declares one AI API that workloads in its namespace call, and how ai-api-guard secures those calls.`,
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: { description: "The versioned schema of this object: aiapiguard.dev/v1alpha1.", type: "string" },
      kind: { description: `The kind of this object: ${KIND}.`, type: "string" },
      metadata: { type: "object" },
      spec: jsonSchema(AiApiPolicySpecSchema, "spec"),
      status: jsonSchema(AiApiPolicyStatusSchema, "status"),
    },
  };
}

export function crdManifest(): Schema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME, labels: { "app.kubernetes.io/part-of": "ai-api-guard" } },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Endpoint", type: "string", jsonPath: ".spec.api.endpoint", description: "The API's URL." },
            {
              name: "Sensitivity",
              type: "string",
              jsonPath: ".spec.api.sensitivity",
              description: "The data's sensitivity.",
            },
            {
              name: "Workloads",
              type: "integer",
              jsonPath: ".status.workloads.count",
              description: "Workloads selected.",
            },
            {
              name: "Ready",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: "Whether every setting is in place.",
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          selectableFields: [{ jsonPath: ".spec.api.sensitivity" }, { jsonPath: ".spec.api.authType" }],
          schema: { openAPIV3Schema: openAPIV3Schema() },
        },
      ],
    },
  };
}

const HEADER = [
  "# Generated by `npm run generate` from src/api/. Do not edit: change the zod schema and regenerate.",
  `# The CustomResourceDefinition of ${KIND} (${API_GROUP}/${API_VERSION}).`,
];

/** The exact bytes of crds/aiapipolicies.aiapiguard.dev.yaml. */
export function crdYaml(): string {
  return `${HEADER.join("\n")}\n${stringify(crdManifest(), { lineWidth: 0 })}`;
}
