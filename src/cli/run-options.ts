// Options of `ai-api-guard run`, from flags and AI_API_GUARD_* environment variables (flags win),
// validated with zod so a wrong value is refused at start with the flag's name and what it takes.
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_EXTRA_RESOURCES } from "../api/workload-kinds.ts";

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
    "action-floor": action.default("Deny"),
    "exempt-namespaces": list.default(["kube-system", "ai-api-guard"]),
    "failure-policy": z.enum(["Fail", "Ignore"]).default("Fail"),
    "timeout-seconds": z.coerce.number().int().min(1).max(30).default(10),
    "webhook-config-name": z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .default("ai-api-guard"),
    "namespace-selector": labels.optional(),
    "extra-resources": list
      .pipe(
        z.array(
          z.string().refine((name) => DEFAULT_EXTRA_RESOURCES.includes(name), {
            error: `each must be one of ${DEFAULT_EXTRA_RESOURCES.join(", ")}`,
          }),
        ),
      )
      .default([...DEFAULT_EXTRA_RESOURCES]),
    "review-budget-ms": z.coerce.number().int().min(100).max(30_000).default(2_000),
    "max-connections": z.coerce.number().int().min(16).max(65_536).default(512),
    "log-level": z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    audit: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    "audit-interval": z.coerce.number().int().min(5).max(86_400).default(600),
    "reports-format": z.enum(["openreports", "wgpolicyk8s"]).default("openreports"),
    "read-api-issuer": z.url({ protocol: /^https$/, error: "must be the OIDC issuer's https:// URL" }).optional(),
    "read-api-jwks-url": z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    "read-api-audience": z.string().min(1).default("ai-api-guard"),
    controller: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    namespaces: list.optional(),
    "resync-seconds": z.coerce.number().int().min(10).max(86_400).default(600),
    "leader-elect": z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    "lease-namespace": z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .default("default"),
    "lease-name": z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .default("ai-api-guard"),
    "lease-duration-seconds": z.coerce.number().int().min(2).max(300).default(15),
    "renew-deadline-seconds": z.coerce.number().int().min(1).max(300).default(10),
    "retry-period-seconds": z.coerce.number().int().min(1).max(60).default(2),
    "shutdown-delay-seconds": z.coerce.number().min(0).max(60).default(2),
  })
  .refine((o) => o["renew-deadline-seconds"] < o["lease-duration-seconds"], {
    message: "--renew-deadline-seconds must be shorter than --lease-duration-seconds",
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
    "       [--port 9443] [--default-action Deny|Warn|Audit] [--action-floor Deny|Warn|Audit]",
    "       [--exempt-namespaces kube-system,ai-api-guard]",
    "       [--failure-policy Fail|Ignore] [--timeout-seconds 10] [--webhook-config-name ai-api-guard]",
    "       [--namespace-selector key=value,...] [--extra-resources rollouts.argoproj.io,...]",
    "       [--review-budget-ms 2000] [--max-connections 512] [--log-level info]",
    "       [--controller true|false] [--namespaces a,b (default: all)] [--resync-seconds 600]",
    "       [--leader-elect true|false] [--lease-namespace default] [--lease-name ai-api-guard]",
    "       [--lease-duration-seconds 15] [--renew-deadline-seconds 10] [--retry-period-seconds 2]",
    "       [--shutdown-delay-seconds 2]",
    "       [--audit true|false (with the controller)] [--audit-interval 600 (seconds)] [--reports-format openreports|wgpolicyk8s]",
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
