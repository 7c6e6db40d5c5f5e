// Name/value pairs inside free text: config files in ConfigMaps (.env, properties, YAML, INI, JSON,
// XML, .netrc, redis.conf) and shell or inline code in command/args (export KEY=..., --api-key=...,
// -H "X-Api-Key: ...", curl -u user:pass, ?token=..., api_key="..."). The generic credential rule
// needs a name to judge a value by.
import { leadingLiteral, matchesOf } from "./literals.ts";
import { mayNameCredential } from "./names.ts";

export interface Assignment {
  name: string;
  value: string;
  /** Its name with the YAML or JSON sections it is under, dotted as a property's: spring.ai.openai.api-key. */
  path?: string;
}

const NAME = String.raw`[A-Za-z_][\w.-]{0,80}`;
// `  export NAME = value`, `name: value`, `"name": "value",` — one line at a time, anchored. A YAML
// `name:` with nothing after it matches too: its value is on the lines below.
const LINE = new RegExp(
  String.raw`^\s{0,64}(?:export\s{1,8})?["']?(${NAME})["']?(\s{0,8})(:=|:|=)(\s{0,8})(\S.{0,4096})?$`,
);
// `, name: ` after a value on its line, and that pair: a line of counters or settings, not one value.
const NEXT_PAIR = new RegExp(String.raw`,\s{1,8}(?=${NAME}:\s)`);
const INLINE_PAIR = new RegExp(String.raw`^(${NAME}):\s{1,8}(.+)$`);
// A YAML block scalar's header (`|`, `>-`, `|2+`), maybe with a comment: its value is on the lines below.
const BLOCK_SCALAR = /^[|>][1-9+-]{0,2}(?:\s+#.*)?$/;
// What starts a YAML line that is no plain scalar: a list item, a comment, a mapping (`name: value`, `name:`).
const NOT_PLAIN_SCALAR = /^(?:-(?:\s|$)|#|\?\s)|:(?:\s|$)/;
// One word, maybe with a comment after it: a key or a password, not prose or a command.
const ONE_WORD = /^\S+(?:\s+#.*)?$/;
// name="value" or name: 'value' anywhere: keyword arguments of inline code, JSON on one line.
const QUOTED_PAIR = new RegExp(
  String.raw`(?<![\w.-])["']?(${NAME})["']?\s{0,3}(?:=|:|=>)\s{0,3}(["'])([^"'\\\n]{1,1024})\2`,
  "g",
);
// A quoted name and its quoted value in code: os.environ["KEY"] = "v", settings['api_key'] = 'v' (not ==),
// and os.environ.setdefault / putenv / setenv / Go's os.Setenv / .NET's SetEnvironmentVariable("KEY", "v").
const CODE_PAIR = new RegExp(
  String.raw`(?:\[(["'])(${NAME})\1\]\s{0,3}=(?!=)|(?:setdefault|[Ss]etenv|putenv|SetEnvironmentVariable)\(\s{0,3}(["'])(${NAME})\3\s{0,3},)\s{0,3}(["'])([^"'\\\n]{1,1024})\5`,
  "g",
);
const MAY_BE_CODE_PAIR = /\[["']|setdefault\(|env\(|SetEnvironmentVariable\(/;
// --name=value, and a JVM system property or a compiler define: -Dname=value names `name`.
const TOKEN_PAIR = new RegExp(`^(?:-D|-{0,2})(${NAME})[=:](.{1,4096})$`);
const FLAG_OR_HEADER = new RegExp(`^(?:--?(${NAME})|(${NAME}):)$`);
// ?token=..., &password=..., jdbc:...;password=...
const QUERY_PARAMETER = new RegExp(String.raw`[?&;](${NAME})=([^&\s"'#;]{1,1024})`, "g");
// <password>...</password> and <add key="ApiKey" value="..."/>
const XML_ELEMENT = new RegExp(String.raw`<(${NAME})>([^<\n]{1,1024})</\1>`, "g");
const XML_SETTING = new RegExp(String.raw`<add\s+key="(${NAME})"\s+value="([^"\n]{0,1024})"`, "g");
// Authorization: Basic|Token <value>
const AUTHORIZATION = /authorization["']?\s{0,3}[:=]\s{0,3}["']?(basic|token)\s{1,8}([A-Za-z0-9._~+/=-]{4,4096})/gi;
// redis.conf's requirepass, .netrc's "machine host login user password secret"
const DIRECTIVE = /^\s{0,64}(requirepass|masterauth|rootpw)\s{1,8}("[^"\n]{1,1024}"|\S{1,1024})\s*$/;
const NETRC = /\bmachine\s+\S+\s+login\s+\S+\s+password\s+(\S{1,1024})/g;
// A comment that says the value is to be replaced: `api_key: 1234-... # replace with your key`.
const REPLACE_ME = /(?:^|\s)(?:#|\/\/|;).{0,120}(?:replace|your|example|change)/i;
// A flow mapping or list ({name: creds, key: password}), a block scalar or an anchor is structure, not a value.
const STRUCTURE = /^[{[|>&*!]|:$/;
const USER_FLAG_LIST = ["-u", "--user", "--basic-auth"];
const USER_FLAGS = new Set(USER_FLAG_LIST);
const CREDENTIAL_DIRECTIVES = ["requirepass", "masterauth", "rootpw"];
/** Credentials free text can carry under no credential-like name: curl -u user:pass, redis directives. */
export const FREE_TEXT_CREDENTIAL = new RegExp(
  `(?:^|\\s)(?:${USER_FLAG_LIST.join("|")})\\s|${CREDENTIAL_DIRECTIVES.join("|")}`,
);
/** What FREE_TEXT_CREDENTIAL needs, for a keyword screen: a flag and the whitespace after it, or a directive. */
export const FREE_TEXT_KEYWORDS = [...USER_FLAG_LIST.map((flag) => `${flag} `), ...CREDENTIAL_DIRECTIVES];
const USERINFO = /^[\w.@-]{1,256}:(\S{1,1024})$/;

export function assignmentsIn(raw: string): Assignment[] {
  const found: Assignment[] = [];
  const text = REPLACE_ME.test(raw) ? withoutPlaceholderLines(raw) : raw;
  // Every form below needs an operator or two tokens; most values have neither.
  if (!/[=:\s>]/.test(text)) return found;
  const add: Add = (name, raw, wholeLine = false, section) => {
    const value = raw === undefined ? "" : wholeLine ? restOfLine(raw) : leadingLiteral(raw);
    if (!name || !value || STRUCTURE.test(value) || !mayNameCredential(name.toLowerCase())) return;
    found.push(section ? { name, value, path: `${section}.${name}` } : { name, value });
  };
  if (/[:=]/.test(text) || FREE_TEXT_CREDENTIAL.test(text)) linePairs(text, add);
  if (text.includes("=") || text.includes(":")) {
    for (const m of matchesOf(QUOTED_PAIR, text)) add(m[1], m[3]);
    for (const m of matchesOf(QUERY_PARAMETER, text)) add(m[1], decodeURIComponentSafe(m[2] ?? ""));
  }
  if (MAY_BE_CODE_PAIR.test(text)) for (const m of matchesOf(CODE_PAIR, text)) add(m[2] ?? m[4], m[6]);
  if (text.includes("</")) for (const m of matchesOf(XML_ELEMENT, text)) add(m[1], m[2]);
  if (text.includes("<add")) for (const m of matchesOf(XML_SETTING, text)) add(m[1], m[2]);
  if (/authorization/i.test(text)) for (const m of matchesOf(AUTHORIZATION, text)) authorization(m[1], m[2], add);
  if (text.includes("machine")) for (const m of matchesOf(NETRC, text)) add("password", m[1]);
  if (/[=\s:]/.test(text)) tokenPairs(text, add);
  return found;
}

// Between words: the separator is captured when a line ends in it, so that split() puts it (or
// undefined) after each word.
const WORD_BREAK = /([\s;&|]*\n[\s;&|]*)|[\s;&|]+/;

/**
 * `--name=value`, `--name value`, `X-Api-Key: value` and `-u user:pass` among the words of the text.
 * A flag or a header takes its value from its own line: what a YAML name holds below it is linePairs'.
 */
function tokenPairs(text: string, add: Add): void {
  const parts = text.split(WORD_BREAK);
  for (let i = 0; i < parts.length; i += 2) {
    const t = unquoted(parts[i]);
    const pair = TOKEN_PAIR.exec(t);
    if (pair && !pair[2]?.startsWith("//")) add(pair[1], pair[2]);
    const flag = FLAG_OR_HEADER.exec(t);
    if (flag) add(flag[1] ?? flag[2], wordAfter(parts, i));
    const userinfo = USER_FLAGS.has(t) ? USERINFO.exec(wordAfter(parts, i)) : null;
    if (userinfo) add("password", userinfo[1]);
  }
}

/** The word after `parts[i]` on its line, or "" where the line ends. */
function wordAfter(parts: readonly (string | undefined)[], i: number): string {
  return parts[i + 1] === undefined ? unquoted(parts[i + 2]) : "";
}

function unquoted(word: string | undefined): string {
  return word?.replace(/^["']|["']$/g, "") ?? "";
}

type Add = (name: string | undefined, raw: string | undefined, wholeLine?: boolean, section?: string) => void;

/** Drops each line whose comment (or the comment line above it) calls its value a placeholder. */
function withoutPlaceholderLines(text: string): string {
  let previous = "";
  const kept: string[] = [];
  for (const line of text.split("\n")) {
    if (!REPLACE_ME.test(line) && !REPLACE_ME.test(previous)) kept.push(line);
    previous = line.trim().startsWith("#") ? line : "";
  }
  return kept.join("\n");
}

function linePairs(text: string, add: Add): void {
  const lines = text.split(/\r?\n/);
  // The YAML (or indented JSON) sections the line is in, innermost last: `openai:` above `  api-key: ...`.
  const sections: { indent: number; path: string }[] = [];
  for (const [i, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (m?.[1]) {
      const indent = indentOf(line);
      while ((sections.at(-1)?.indent ?? -1) >= indent) sections.pop();
      const section = sections.at(-1)?.path;
      const below = m[3] === ":" ? scalarBelow(m[5]) : undefined;
      if (below) {
        if (mayNameCredential(m[1].toLowerCase())) add(m[1], valueBelow(lines, i, below), true, section);
      } else {
        // `key = value` and `key: value` (INI, properties, YAML) run to the end of the line; a shell's
        // `KEY=value` ends at the first space.
        const spaced = m[3] === ":" || Boolean(m[2] || m[4]);
        pairsOnLine(m[1], m[5], spaced && !line.includes("export "), section, add);
      }
      if (below === "plain" || (m[3] === ":" && m[5] === "{"))
        sections.push({ indent, path: section ? `${section}.${m[1]}` : m[1] });
    }
    const directive = DIRECTIVE.exec(line);
    if (directive) add("password", directive[2]);
  }
}

/**
 * The pair a line starts with, and the pairs after it: `pass: 0, fail: 0, skip: 1` (a summary line) is
 * pairs, each plain value ending where the next pair starts. A flow mapping, a list or a quoted value is
 * left whole.
 */
function pairsOnLine(
  name: string,
  rest: string | undefined,
  wholeLine: boolean,
  section: string | undefined,
  add: Add,
) {
  const pairs = wholeLine && rest && /^[^{["'`]/.test(rest) ? rest.split(NEXT_PAIR) : [];
  add(name, pairs[0] ?? rest, wholeLine, section);
  for (const pair of pairs.slice(1)) {
    const next = INLINE_PAIR.exec(pair);
    if (next) add(next[1], next[2], true, section);
  }
}

type ScalarBelow = "block" | "plain";

/** Whether what follows a YAML `name:` puts its value below: a block scalar's header, or nothing but a comment. */
function scalarBelow(rest: string | undefined): ScalarBelow | undefined {
  if (rest === undefined || rest.startsWith("#")) return "plain";
  return BLOCK_SCALAR.test(rest) ? "block" : undefined;
}

/**
 * The value of the YAML `name:` at `lines[at]` when it is one word on one line below it, indented
 * deeper: a block scalar's (`|`, `>-`) or a plain scalar's. A key is one word; more lines or words
 * are prose or a script, and a mapping or a list below is structure, not a value.
 */
function valueBelow(lines: readonly string[], at: number, scalar: ScalarBelow): string | undefined {
  const indent = indentOf(lines[at] ?? "");
  let value: string | undefined;
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trim() === "") continue;
    if (indentOf(line) <= indent) break;
    if (value !== undefined) return undefined;
    value = line.trim();
  }
  if (value === undefined || !ONE_WORD.test(value)) return undefined;
  return scalar === "block" || !NOT_PLAIN_SCALAR.test(value) ? value : undefined;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** An unquoted value up to the end of its line, without a trailing comment; a quoted one as written. */
function restOfLine(raw: string): string {
  const text = raw.trim();
  if (/^["'`]/.test(text)) return leadingLiteral(text);
  return text
    .replace(/\s+(?:#|\/\/).*$/, "")
    .replace(/[,;]+$/, "")
    .trim();
}

function authorization(scheme: string | undefined, credential: string | undefined, add: Add): void {
  if (!credential) return;
  if (scheme?.toLowerCase() === "token") {
    add("token", credential);
    return;
  }
  const decoded = Buffer.from(credential, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon > 0 && /^[\x20-\x7e]+$/.test(decoded)) add("password", JSON.stringify(decoded.slice(colon + 1)));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
