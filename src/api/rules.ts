// One validation rule, two enforcers: the API server runs `rule` (CEL, as an x-kubernetes-validations
// entry in the generated CRD) and zod runs `holds`, so objects read back from the cluster are judged
// exactly as the server judged them when they were written.
import type { z } from "zod";

export interface Rule<T> {
  /** CEL, evaluated by the API server with `self` bound to the value. */
  rule: string;
  /** Says what is wrong and what to do; the server prefixes it with the field path. */
  message: string;
  /** The same check in TypeScript. */
  holds: (value: T) => boolean;
}

export interface CelValidation {
  rule: string;
  message: string;
}

const KEY = "x-kubernetes-validations";

/**
 * Adds rules to a schema. Call it after the schema's own checks (.max(), .min()): zod drops the
 * metadata of a schema when a check is added to it, so the rules are carried over here.
 */
export function validated<S extends z.ZodType>(schema: S, ...rules: Rule<z.output<S>>[]): S {
  const meta = schema.meta() ?? {};
  const earlier = (meta[KEY] as CelValidation[] | undefined) ?? [];
  const checked = rules.reduce<S>((s, r) => s.refine(r.holds, { message: r.message }), schema);
  return checked.meta({ ...meta, [KEY]: [...earlier, ...rules.map(({ rule, message }) => ({ rule, message }))] });
}
