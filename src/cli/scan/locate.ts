// Where a finding sits in its source. In a block scalar (a script, an env file in a ConfigMap) that is
// the line that gives the same finding on its own: the rules say which value, not where in it.
import { type EvaluationContext, evaluate, type Finding, type PathSegment } from "../../engine/index.ts";
import { formatPath, isRecord } from "../../engine/objects.ts";
import type { Position } from "./block-lines.ts";
import type { ParsedObject } from "./documents.ts";

export function findingPosition(
  item: ParsedObject,
  finding: Finding,
  context: EvaluationContext,
): Position | undefined {
  return item.positionOf(finding.pathSegments, (lines) => {
    const own = listItem(item.object, finding.pathSegments);
    return lineFinding(lines, (text) => findsWith(own.object, own.path, finding, text, context));
  });
}

/**
 * The first line that gives the finding on its own, or -1. Narrowed by halves, the earlier half first: a
 * line trial re-evaluates the whole object, and a script of 20,000 lines tried line by line took seconds a
 * finding. A value split over lines gives it in a joined half but on no line: -1 then, as line by line.
 */
export function lineFinding(lines: readonly string[], finds: (text: string) => boolean): number {
  let from = 0;
  let to = lines.length;
  while (to - from > 1) {
    const middle = (from + to) >> 1;
    if (finds(lines.slice(from, middle).join("\n"))) to = middle;
    else if (finds(lines.slice(middle, to).join("\n"))) from = middle;
    else return -1;
  }
  return to - from === 1 && finds(lines[from] ?? "") ? from : -1;
}

/** The item of a List (of Lists) that the path leads into, and the path in it: the rest of the List is not evaluated again. */
function listItem(object: unknown, path: readonly PathSegment[]): { object: unknown; path: readonly PathSegment[] } {
  const [items, index] = path;
  const list = isRecord(object) && typeof object.kind === "string" && object.kind.endsWith("List");
  if (!list || items !== "items" || typeof index !== "number" || !Array.isArray(object.items)) return { object, path };
  return listItem(object.items[index], path.slice(2));
}

/**
 * Whether the object with `line` in place of the value at `path` gives the same finding. The value is
 * put in place and back (a copy of the object per line would cost more).
 */
function findsWith(
  object: unknown,
  path: readonly PathSegment[],
  finding: Finding,
  line: string,
  context: EvaluationContext,
): boolean {
  const holder = path.slice(0, -1).reduce<unknown>((node, key) => field(node, key), object);
  const key = path.at(-1);
  if (key === undefined || field(holder, key) === undefined) return false;
  const record = holder as Record<PathSegment, unknown>;
  const value = record[key];
  record[key] = line;
  try {
    return evaluate(object, context).findings.some(
      (f) => f.rule === finding.rule && f.path === formatPath(path) && f.message === finding.message,
    );
  } finally {
    record[key] = value;
  }
}

function field(node: unknown, key: PathSegment): unknown {
  return node !== null && typeof node === "object" ? (node as Record<PathSegment, unknown>)[key] : undefined;
}
