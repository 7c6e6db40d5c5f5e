// The lines of a multi-line value (a block scalar, `key: |` or `>-` and the text below it; a file that
// kustomize makes a ConfigMap key of): a finding in one is located at the line that holds it, not at
// the key, where the value can tell which line that is.
import type { LineCounter, Node } from "yaml";

export interface Position {
  line: number;
  /** 1-based, where the source gives it exactly. */
  column?: number;
}

/**
 * Picks, among the lines of a block scalar (each trimmed), the one that holds what was found: its
 * index, or -1 when no line does on its own (a value split over lines: the key's line stands then).
 */
export type PickLine = (lines: readonly string[]) => number;

/** The line `pick` picks in the block scalar `node`; undefined for any other node, or when it picks none. */
export function blockScalarLine(
  node: Node,
  source: { lineCounter: LineCounter; lines: readonly string[] },
  pick: PickLine,
): Position | undefined {
  const { type, range } = node as { type?: string; range?: [number, number, number] };
  if ((type !== "BLOCK_LITERAL" && type !== "BLOCK_FOLDED") || !range) return undefined;
  // The header (`|`, `>-`) is on the key's line; the text starts on the next and ends where the value does.
  const end = source.lineCounter.linePos(range[1]);
  const first = source.lineCounter.linePos(range[0]).line + 1;
  return pickedLine(source.lines, first, end.col === 1 ? end.line - 1 : end.line, pick);
}

/** The line `pick` picks among lines `first` to `last` (1-based) of `lines`, blank ones left out. */
export function pickedLine(
  lines: readonly string[],
  first: number,
  last: number,
  pick: PickLine,
): Position | undefined {
  const positions: Position[] = [];
  const texts: string[] = [];
  for (let line = first; line <= last; line++) {
    const text = lines[line - 1] ?? "";
    if (text.trim() === "") continue;
    positions.push({ line, column: text.length - text.trimStart().length + 1 });
    texts.push(text.trim());
  }
  // One line of text is the line, with nothing to pick.
  if (positions.length === 1) return positions[0];
  return positions[pick(texts)];
}
