// What a rule reports about one value, before the engine adds the object, container and path.
import type { Candidate } from "../extract.ts";
import type { RuleId, Severity } from "../types.ts";

export interface Hit {
  rule: RuleId;
  severity: Severity;
  provider?: string;
  /** Redacted: never the value. */
  hint: string;
  /** What is wrong, after "<where>: ", e.g. `hardcoded OpenAI API key ending "…a1B2"`. */
  what: string;
  /** Overrides the rule's general fix when there is a more precise one. */
  fix?: string;
}

/** A value pasted full of keys is reported by its first findings; the rest add nothing to act on. */
export const MAX_HITS_PER_VALUE = 20;

export type Rule = (candidate: Candidate, lower: string) => Hit[];
