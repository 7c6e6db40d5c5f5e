// Where a finding's value sits, in words: the container or volume it belongs to, then its field. Every
// output (the engine's message, the refusal, the warning, the audit's Event and log line) names a value's
// owner through here, so that none of them leaves a volume out where another names it.
import type { Candidate } from "./extract.ts";
import { shownName, shownPath } from "./shown.ts";

/** What a value belongs to inside its object, besides the object itself. Names as shown (a key by its hint). */
export interface Owner {
  role: "container" | "volume";
  name: string;
}

/** A finding, or what one is made of: its container's and volume's names, as shown. */
export interface Owned {
  container?: string | undefined;
  volume?: string | undefined;
}

export function ownerOf(finding: Owned): Owner | undefined {
  if (finding.container !== undefined) return { role: "container", name: finding.container };
  return finding.volume === undefined ? undefined : { role: "volume", name: finding.volume };
}

/** `container "app"`, `volume "models"`; undefined for a value of the object itself (an annotation, data). */
export function describeOwner(finding: Owned): string | undefined {
  const owner = ownerOf(finding);
  return owner && `${owner.role} "${owner.name}"`;
}

/** The field, after its owner when it has one: `container "app" env OPENAI_API_KEY`. */
export function located(finding: Owned, field: string): string {
  const owner = describeOwner(finding);
  return owner === undefined ? field : `${owner} ${field}`;
}

/** The field a candidate was read from, in words: `env OPENAI_API_KEY`, `annotation "x"`, `csi.volumeAttributes.token`. */
export function describeField(c: Candidate): string {
  const name = shownName(c.name ?? "");
  if (c.field === "env") return `env ${name || "(unnamed)"}`;
  if (c.field === "data") return `${String(c.base.at(-1))} key "${name}"`;
  if (c.field === "annotation" || c.field === "label") return `${c.field} "${name}"`;
  if (c.field === "name" && c.tail.length === 1) return `a key's name in ${shownPath(c.base) || "the object"}`;
  return shownPath(c.tail);
}
