// JSON values back to back, as `jq '.items[]'` writes them and kubectl reads them: split, not parsed.

export interface JsonValue {
  text: string;
  /** The line of the source it starts on. */
  line: number;
}

/**
 * Two or more JSON values back to back, each with the line it starts on; undefined unless the text is
 * that (it starts with `{`, as kubectl's test for JSON has it, and nothing outside the values but blanks).
 */
export function jsonStream(text: string): JsonValue[] | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  const values: JsonValue[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (depth === 0 && start === -1) {
      if (c === "{" || c === "[") [start, startLine, depth] = [i, line, 1];
      else if (!/\s/.test(c ?? "")) return undefined;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) {
      values.push({ text: text.slice(start, i + 1), line: startLine });
      start = -1;
    }
  }
  return depth === 0 && values.length > 1 ? values : undefined;
}
