// The whole AiApiPolicy object, and its parsing: objects read from the cluster are checked against the
// same schema the CRD was generated from, with the same defaults applied.
import { z } from "zod";
import { API_GROUP, API_VERSION, KIND } from "./names.ts";
import { AiApiPolicySpecSchema } from "./spec.ts";
import { AiApiPolicyStatusSchema } from "./status.ts";

/** The metadata the product reads; every other field is kept as it came. */
export const ObjectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const AiApiPolicySchema = z.object({
  apiVersion: z.literal(`${API_GROUP}/${API_VERSION}`),
  kind: z.literal(KIND),
  metadata: ObjectMetaSchema,
  spec: AiApiPolicySpecSchema,
  status: AiApiPolicyStatusSchema.optional(),
});

export type AiApiPolicy = z.output<typeof AiApiPolicySchema>;

export type ParseResult = { ok: true; policy: AiApiPolicy } | { ok: false; error: string };

/** Validates an object as an AiApiPolicy and applies the defaults; an error names each bad field's path. */
export function parseAiApiPolicy(raw: unknown): ParseResult {
  const result = AiApiPolicySchema.safeParse(raw);
  if (result.success) return { ok: true, policy: result.data };
  return { ok: false, error: result.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`).join("; ") };
}

/** kubectl's notation: spec.egress.ports[0]. */
function fieldPath(path: readonly PropertyKey[]): string {
  const text = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return text.replace(/^\./, "") || "(object)";
}
