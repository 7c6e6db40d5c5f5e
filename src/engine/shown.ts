// Names as findings show them. A name can hold a key itself (a ConfigMap key, an annotation or an env var
// named with one), and paths and messages quote names: such a name is shown as its hint, never as written.
import { type CandidateGroup, SHORTEST_KEY } from "./extract.ts";
import { keywordScreen } from "./keyword-screen.ts";
import { formatPath } from "./objects.ts";
import { hardcodedSecrets, SECRET_KEYWORDS } from "./rules/hardcoded-secret.ts";
import type { PathSegment } from "./types.ts";

const SECRET_SCREEN = keywordScreen(SECRET_KEYWORDS);
const NAME_GROUP: CandidateGroup = { source: {}, configMap: false, complete: true };

/**
 * Generated suffixes a name can carry: a Deployment's ReplicaSet is `<name>-<hash>`, its Pods
 * `<name>-<hash>-<random>`, a CronJob's Pods `<name>-<time>-<random>`.
 */
const GENERATED_SUFFIXES = 3;

/** The name, each key in it replaced by its hint: `<Google API key ending …WqXJ>`. */
export function shownName(name: string): string {
  // Every review's object has a name, most with no keyword at all: those are shown as written, unread.
  if (name.length < SHORTEST_KEY || !SECRET_SCREEN(name)) return name;
  const secrets: string[] = [];
  const hints: string[] = [];
  // A key ends where a name's generated suffixes begin: a format's match stops at no "-".
  let end = name.length;
  for (let cuts = 0; cuts <= GENERATED_SUFFIXES && end >= SHORTEST_KEY; cuts++) {
    const value = name.slice(0, end);
    const candidate = { value, base: [], tail: [], field: "name" as const, annotations: [], group: NAME_GROUP };
    for (const hit of hardcodedSecrets(candidate, value.toLowerCase(), secrets)) hints.push(hit.hint);
    end = name.lastIndexOf("-", end - 1);
  }
  return secrets.reduce((shown, secret, i) => shown.replaceAll(secret, `<${hints[i]?.replaceAll('"', "")}>`), name);
}

/** formatPath, with each name shown as shownName shows it. */
export function shownPath(segments: readonly PathSegment[]): string {
  return formatPath(segments.map((segment) => (typeof segment === "string" ? shownName(segment) : segment)));
}
