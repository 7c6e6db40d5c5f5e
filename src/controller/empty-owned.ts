// Server-side apply conflicts that take nothing from anyone. A manager that applied an empty map or list
// (`annotations: {}`, `volumes: []`, `volumeMounts: []`, as charts render empty values and Argo CD, Flux or
// `kubectl apply --server-side` send them) owns that map or list as a value, so any entry another manager
// adds to it conflicts. Forcing such an apply moves only the ownership of "empty": none of their values.
import { isRecord } from "../kube/objects.ts";
import { isStatus } from "../kube/rest.ts";

/** True when the apply failed with conflicts only on maps or lists the intent fills (never on a value it sets). */
export function onlyEmptyOwnedConflicts(error: unknown, intent: unknown): boolean {
  if (!isStatus(error, 409) || !isRecord(error.body)) return false;
  const causes =
    isRecord(error.body.details) && Array.isArray(error.body.details.causes) ? error.body.details.causes : [];
  const fields = causes.filter(isRecord).map((cause) => cause.field);
  return (
    fields.length > 0 && fields.every((field) => typeof field === "string" && fills(atConflictField(intent, field)))
  );
}

function fills(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : isRecord(value) && Object.keys(value).length > 0;
}

/**
 * The value at a field path as the API server writes it in a conflict: `.metadata.annotations`,
 * `.spec.template.spec.containers[name="app"].volumeMounts`. Undefined when the path leaves the intent
 * (an annotation key with dots in it, say): such a field is a value, not a map the intent fills.
 */
export function atConflictField(object: unknown, field: string): unknown {
  let node = object;
  for (const [, key, selector] of field.matchAll(/\.([^.[]+)|\[([^\]]*)\]/g)) {
    if (key !== undefined) node = isRecord(node) ? node[key] : undefined;
    else node = Array.isArray(node) ? node.find((item) => matches(item, selector ?? "")) : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** A list member by its keys: `name="app"` or `containerPort=443,protocol="TCP"`. */
function matches(item: unknown, selector: string): boolean {
  if (!isRecord(item)) return false;
  return selector.split(",").every((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) return false;
    try {
      return item[pair.slice(0, at)] === JSON.parse(pair.slice(at + 1));
    } catch {
      return false;
    }
  });
}
