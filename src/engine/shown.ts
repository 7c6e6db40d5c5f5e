// Names as findings show them. A name can hold a key itself (a ConfigMap key, an annotation or an env var
// named with one), and paths and messages quote names: such a name is shown as its hint, never as written.
import { type CandidateGroup, SHORTEST_KEY } from "./extract.ts";
import { formatPath } from "./objects.ts";
import { hardcodedSecrets } from "./rules/hardcoded-secret.ts";
import type { PathSegment } from "./types.ts";

const NAME_GROUP: CandidateGroup = { source: {}, configMap: false, complete: true };

/** The name, each key in it replaced by its hint: `<Google API key ending …WqXJ>`. */
export function shownName(name: string): string {
  if (name.length < SHORTEST_KEY) return name;
  const secrets: string[] = [];
  const candidate = { value: name, base: [], tail: [], field: "name" as const, annotations: [], group: NAME_GROUP };
  const hits = hardcodedSecrets(candidate, name.toLowerCase(), secrets);
  return secrets.reduce((shown, secret, i) => shown.replaceAll(secret, `<${hits[i]?.hint.replaceAll('"', "")}>`), name);
}

/** formatPath, with each name shown as shownName shows it. */
export function shownPath(segments: readonly PathSegment[]): string {
  return formatPath(segments.map((segment) => (typeof segment === "string" ? shownName(segment) : segment)));
}
