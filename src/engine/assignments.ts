// Name/value pairs inside free text: config files in ConfigMaps (.env, properties, YAML, INI, JSON)
// and shell strings in command/args (export KEY=..., --api-key=..., -H "X-Api-Key: ..."). The
// generic credential rule needs a name to judge a value by.
import { leadingLiteral, matchesOf } from "./literals.ts";

export interface Assignment {
  name: string;
  value: string;
}

const NAME = String.raw`[A-Za-z_][\w.-]{0,80}`;
// `  export NAME = value`, `name: value`, `"name": "value",` — one line at a time, anchored.
const LINE = new RegExp(
  String.raw`^\s{0,64}(?:export\s{1,8})?["']?(${NAME})["']?\s{0,8}(?::|=|:=)\s{0,8}(\S.{0,4096})$`,
);
// JSON written on one line: "name": "value"
const JSON_PAIR = new RegExp(String.raw`"(${NAME})"\s{0,8}:\s{0,8}"([^"\\\n]{1,1024})"`, "g");
const TOKEN_PAIR = new RegExp(`^-{0,2}(${NAME})=(.{1,4096})$`);
const FLAG_OR_HEADER = new RegExp(`^(?:--?(${NAME})|(${NAME}):)$`);

export function assignmentsIn(text: string): Assignment[] {
  const found: Assignment[] = [];
  // Every form below needs an operator or two tokens; most values have neither.
  if (!/[=:\s]/.test(text)) return found;
  const add = (name: string | undefined, raw: string | undefined) => {
    const value = raw === undefined ? "" : leadingLiteral(raw);
    if (name && value) found.push({ name, value });
  };
  if (/[:=]/.test(text)) {
    for (const line of text.split("\n")) {
      const m = LINE.exec(line);
      if (m) add(m[1], m[2]);
    }
    if (text.includes('":')) for (const m of matchesOf(JSON_PAIR, text)) add(m[1], m[2]);
  }
  if (!/[=\s]/.test(text)) return found;
  const tokens = text.split(/[\s;&|]+/).map((t) => t.replace(/^["']|["']$/g, ""));
  for (const [i, t] of tokens.entries()) {
    const pair = TOKEN_PAIR.exec(t);
    if (pair) add(pair[1], pair[2]);
    const flag = FLAG_OR_HEADER.exec(t);
    if (flag) add(flag[1] ?? flag[2], tokens[i + 1]);
  }
  return found;
}
