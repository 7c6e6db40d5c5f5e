// Options of `ai-api-guard run`, from flags and environment variables (flags win), read as text and
// validated by the one settings schema (src/config/settings.ts), so a wrong value is refused at start
// with the flag's name and what it takes.
import { parseArgs } from "node:util";
import {
  defaultText,
  envName,
  runSettings,
  SETTING_KEYS,
  type Settings,
  settingsSchema,
  valueType,
} from "../config/settings.ts";
import { wrap } from "../config/wrap.ts";

export type RunOptions = Settings;

export function usage(): string {
  return [
    "usage: ai-api-guard run [--kubeconfig PATH] [--context NAME] (--webhook-url https://127.0.0.1:PORT",
    "       | --certificate-secret NAME --service-name NAME | --tls-cert-file F --tls-key-file F)",
    "       [--default-action Deny|Warn|Audit] [--exempt-namespaces kube-system,...] [--failure-policy Fail|Ignore]",
    "       [--timeout-seconds 10] [...]",
    "Every flag can also be set as AI_API_GUARD_<FLAG>, e.g. AI_API_GUARD_DEFAULT_ACTION=Warn; the operator's",
    "namespace comes from POD_NAMESPACE. Lists and labels are comma-separated (a,b and key=value,key2=value2).",
    "All settings: ai-api-guard run --help, or the README's configuration table.",
  ].join("\n");
}

/** `run --help`: the usage, then every setting with its environment variable, default and description. */
export function help(): string {
  const settings = SETTING_KEYS.flatMap((key) => {
    const fallback = defaultText(key);
    const shown = fallback === undefined || fallback === "" ? "" : `, default ${fallback}`;
    const description = settingsSchema.shape[key].description ?? "";
    return [`  --${key} (${envName(key)})${shown}`, ...wrap(description, 100).map((line) => `      ${line}`)];
  });
  return [usage(), "", "settings (flag, environment variable, default):", ...settings].join("\n");
}

/** `--help` or `-h` anywhere: every setting takes a value, and none is ever `-h`. */
export function asksForHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

export type ParsedRunOptions = { ok: true; options: RunOptions } | { ok: false; error: string };

export function parseRunOptions(argv: string[], env: NodeJS.ProcessEnv): ParsedRunOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(SETTING_KEYS.map((key) => [key, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const typed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const text = values[key] ?? env[envName(key)];
    if (text === undefined) continue;
    const type = valueType(key);
    const value = fromText(type, text);
    if (type === "number" && typeof value === "string") {
      problems.push(`--${key}: must be a number: ${settingsSchema.shape[key].description ?? ""}`);
      continue;
    }
    if (value instanceof Error) problems.push(`--${key}: ${value.message}`);
    else if (value !== undefined) typed[key] = value;
  }
  if (problems.length > 0) return { ok: false, error: problems.join("\n") };
  const result = runSettings.safeParse(typed);
  if (result.success) return { ok: true, options: result.data };
  return {
    ok: false,
    error: result.error.issues
      .map((issue) => (issue.path.length > 0 ? `--${issue.path.join(".")}: ${issue.message}` : issue.message))
      .join("\n"),
  };
}

/**
 * A flag's or variable's text as the value its schema takes: lists and labels comma-separated, numbers
 * as numbers. An empty text means "not set", except for lists and labels, where it is the empty one.
 */
function fromText(type: string, text: string): unknown {
  const parts = () =>
    text
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
  if (type === "array") return parts();
  if (type === "record") {
    const pairs = parts().map((pair) => pair.split("="));
    if (pairs.some((pair) => pair.length !== 2 || !pair[0])) return new Error("each label must be key=value");
    return Object.fromEntries(pairs);
  }
  if (text === "") return undefined;
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  if (type === "number" && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
  return text;
}
