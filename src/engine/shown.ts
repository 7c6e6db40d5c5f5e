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
 * The name, each key in it replaced by its hint: `<Google API key ending …WqXJ>`. A key can stand anywhere
 * between "-": after a prefix (`team-a-<key>`), before a Deployment's Pods' generated suffixes
 * (`<key>-<hash>-<random>`).
 */
export function shownName(name: string): string {
  // Every review's object has a name, most with no keyword at all: those are shown as written, unread.
  if (name.length < SHORTEST_KEY || !SECRET_SCREEN(name)) return name;
  const secrets: string[] = [];
  // Read as the engine reads an object's name: a "-" next to a key bounds it there.
  const candidate = {
    value: name,
    base: [],
    tail: [],
    field: "objectName" as const,
    annotations: [],
    group: NAME_GROUP,
  };
  const hits = hardcodedSecrets(candidate, name.toLowerCase(), secrets);
  // Longest first: a key found inside another is hidden with it.
  const found = secrets.map((secret, i) => ({ secret, hint: hits[i]?.hint.replaceAll('"', "") }));
  found.sort((a, b) => b.secret.length - a.secret.length);
  return found.reduce((shown, { secret, hint }) => shown.replaceAll(secret, `<${hint}>`), name);
}

/** "Kind/namespace/name" as findings show it: a namespace can be a key too. `name` is shown already. */
export function shownResource(kind: string, namespace: string, name: string): string {
  return `${kind}/${shownName(namespace)}/${name}`;
}

/**
 * A row of an output (an inventory entry, a finding) as shown: its namespace, policy and API name (the policy's
 * name by default) by their hints when they hold a key. The row itself stays as written: it is filtered by them.
 */
export function shownRow<T extends { namespace: string; policy?: string; apiName?: string }>(row: T): T {
  return {
    ...row,
    namespace: shownName(row.namespace),
    ...(row.policy === undefined ? {} : { policy: shownName(row.policy) }),
    ...(row.apiName === undefined ? {} : { apiName: shownName(row.apiName) }),
  };
}

/** formatPath, with each name shown as shownName shows it. */
export function shownPath(segments: readonly PathSegment[]): string {
  return formatPath(segments.map((segment) => (typeof segment === "string" ? shownName(segment) : segment)));
}
