// Options of `ai-api-guard run`, from flags and AI_API_GUARD_* environment variables (flags win),
// validated with zod so a wrong value is refused at start with the flag's name and what it takes.
import { parseArgs } from "node:util";
import { z } from "zod";

const action = z.enum(["Deny", "Warn", "Audit"]);
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean),
);
const labels = list.pipe(
  z
    .array(z.string().regex(/^[^=]+=[^=]*$/, "each label must be key=value"))
    .transform((pairs) => Object.fromEntries(pairs.map((pair) => pair.split("=") as [string, string]))),
);

const schema = z
  .object({
    kubeconfig: z.string().optional(),
    "webhook-url": z
      .url({ protocol: /^https$/, error: "must be an https:// URL with an explicit port, e.g. https://127.0.0.1:9443" })
      .refine((u) => new URL(u).port !== "", "must name a port, e.g. https://127.0.0.1:9443")
      .optional(),
    port: z.coerce.number().int().min(1).max(65535).default(9443),
    "tls-cert-file": z.string().optional(),
    "tls-key-file": z.string().optional(),
    "default-action": action.default("Deny"),
    "exempt-namespaces": list.default(["kube-system", "ai-api-guard"]),
    "failure-policy": z.enum(["Fail", "Ignore"]).default("Fail"),
    "timeout-seconds": z.coerce.number().int().min(1).max(30).default(10),
    "webhook-config-name": z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .default("ai-api-guard"),
    "namespace-selector": labels.optional(),
    "log-level": z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    "audit-interval": z.coerce.number().int().min(10).max(86_400).default(600),
    "reports-format": z.enum(["openreports", "wgpolicyk8s"]).default("openreports"),
    "read-api-issuer": z.url({ protocol: /^https$/, error: "must be the OIDC issuer's https:// URL" }).optional(),
    "read-api-jwks-url": z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    "read-api-audience": z.string().min(1).default("ai-api-guard"),
  })
  .refine((o) => o["webhook-url"] || (o["tls-cert-file"] && o["tls-key-file"]), {
    message:
      "give --webhook-url https://127.0.0.1:PORT (outside a cluster: self-signed certificate, webhook registered for you) " +
      "or --tls-cert-file and --tls-key-file (in a cluster: the mounted webhook certificate)",
  });

export type RunOptions = z.output<typeof schema>;

const flags = Object.keys(schema.shape ?? {}) as string[];

export function usage(): string {
  return [
    "usage: ai-api-guard run [--kubeconfig PATH] (--webhook-url https://127.0.0.1:PORT | --tls-cert-file F --tls-key-file F)",
    "       [--port 9443] [--default-action Deny|Warn|Audit] [--exempt-namespaces kube-system,ai-api-guard]",
    "       [--failure-policy Fail|Ignore] [--timeout-seconds 10] [--webhook-config-name ai-api-guard]",
    "       [--namespace-selector key=value,...] [--log-level info]",
    "       [--audit-interval 600 (seconds)] [--reports-format openreports|wgpolicyk8s]",
    "       [--read-api-issuer https://... --read-api-jwks-url https://...] [--read-api-audience ai-api-guard]",
    "Every flag can also be set as AI_API_GUARD_<FLAG>, e.g. AI_API_GUARD_DEFAULT_ACTION=Warn.",
  ].join("\n");
}

export type ParsedRunOptions = { ok: true; options: RunOptions } | { ok: false; error: string };

export function parseRunOptions(argv: string[], env: NodeJS.ProcessEnv): ParsedRunOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(flags.map((f) => [f, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const merged: Record<string, string> = {};
  for (const flag of flags) {
    const value = values[flag] ?? env[`AI_API_GUARD_${flag.toUpperCase().replaceAll("-", "_")}`];
    if (value !== undefined) merged[flag] = value;
  }
  const result = schema.safeParse(merged);
  if (result.success) return { ok: true, options: result.data };
  const problems = result.error.issues.map((issue) =>
    issue.path.length > 0 ? `--${issue.path.join(".")}: ${issue.message}` : issue.message,
  );
  return { ok: false, error: problems.join("\n") };
}
