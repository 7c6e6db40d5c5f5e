// ai-api-guard scan [PATH|-]...: the admission rules, offline, for CI. Reads every input first so
// that AiApiPolicy endpoints anywhere in the input apply to workloads everywhere in it.
import { parseArgs } from "node:util";
import { evaluate } from "../engine/index.ts";
import { configMapLookup, policyEndpointHosts, registeredApis } from "./scan/documents.ts";
import { formatJson } from "./scan/format-json.ts";
import { formatSarif } from "./scan/format-sarif.ts";
import { formatText } from "./scan/format-text.ts";
import { readSources } from "./scan/inputs.ts";
import { findingPosition } from "./scan/locate.ts";
import { parseInputs } from "./scan/parse-inputs.ts";
import { formatError, type ScanReport } from "./scan/report.ts";

const USAGE = `usage: ai-api-guard scan [--format text|json|sarif] [--cluster-domain DOMAIN] PATH|- ...

Scans Kubernetes manifests (files, folders recursively: .yaml .yml .json; - for stdin;
multi-document YAML, JSON, List objects, helm template output) with the admission rules.
In folders, a Helm chart's templates/ are left out (stderr says so): scan helm template output instead.
--cluster-domain: the kubelet's --cluster-domain, when not cluster.local (names under it are in-cluster).

exit codes: 0 no findings, 1 findings, 2 usage error, unreadable file or invalid input`;

const FORMATS = ["text", "json", "sarif"] as const;
type Format = (typeof FORMATS)[number];

export async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === "string") {
    console.error(`ai-api-guard scan: ${options}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const report = await scan(options.paths, options.clusterDomain);
  for (const note of report.notes) console.error(note);
  for (const error of report.errors) console.error(formatError(error));
  process.stdout.write(render(report, options.format));
  if (report.errors.length > 0) return 2;
  return report.findings.some((f) => !f.exempt) ? 1 : 0;
}

const ARGS = {
  options: {
    format: { type: "string", short: "f" },
    "cluster-domain": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
} as const;

type Options = { format: Format; paths: string[]; help: boolean; clusterDomain?: string };

function parseOptions(argv: string[]): Options | string {
  let parsed: ReturnType<typeof parseArgs<typeof ARGS>>;
  try {
    parsed = parseArgs({ ...ARGS, args: argv });
  } catch (error) {
    return (error as Error).message;
  }
  const format = parsed.values.format ?? "text";
  if (!FORMATS.includes(format as Format)) return `unknown format "${format}": use text, json or sarif`;
  const help = parsed.values.help ?? false;
  if (!help && parsed.positionals.length === 0) return "name at least one file or folder to scan, or - for stdin";
  const clusterDomain = parsed.values["cluster-domain"]?.replace(/^\.|\.$/g, "");
  if (clusterDomain !== undefined && !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(clusterDomain))
    return `--cluster-domain "${clusterDomain}" is not a DNS name`;
  return { format: format as Format, paths: parsed.positionals, help, ...(clusterDomain ? { clusterDomain } : {}) };
}

async function scan(paths: string[], clusterDomain: string | undefined): Promise<ScanReport> {
  const { sources, errors, notes } = await readSources(paths);
  const { objects: parsed, errors: parseErrors, notes: parseNotes } = await parseInputs(sources);
  errors.push(...parseErrors);
  notes.push(...parseNotes);
  const objects = parsed.map((p) => p.item.object);
  const context = {
    policyEndpointHosts: policyEndpointHosts(objects),
    ...(clusterDomain ? { clusterDomain } : {}),
    // unregistered-ai-api: the policies and ConfigMaps among all the inputs.
    inventory: { policies: registeredApis(objects), configMap: configMapLookup(objects) },
  };
  // The env files and files of kustomizations were scanned too.
  const files = new Set([...sources.map((source) => source.file), ...parsed.map((p) => p.file)]).size;
  const report: ScanReport = { findings: [], errors, notes, files, objects: parsed.length };
  for (const { file, item } of parsed) {
    const evaluation = evaluate(item.object, context);
    if (evaluation.unreadable)
      errors.push({
        file,
        line: item.positionOf(evaluation.unreadablePath ?? [])?.line,
        message: evaluation.unreadable,
      });
    for (const finding of evaluation.findings) {
      const at = findingPosition(item, finding, context);
      report.findings.push({ ...finding, file, ...at });
    }
  }
  return report;
}

function render(report: ScanReport, format: Format): string {
  if (format === "json") return formatJson(report);
  if (format === "sarif") return formatSarif(report);
  return formatText(report, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR });
}
