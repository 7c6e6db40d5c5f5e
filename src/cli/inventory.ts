// ai-api-guard inventory: the AI API inventory (the AiApiPolicies, the workloads each selects, and the
// AI APIs workloads call with no policy) from manifests or from a cluster.
import { parseArgs } from "node:util";
import { shownName, shownRow } from "../engine/shown.ts";
import { formatCsv, formatJson, formatMarkdown } from "../inventory/format.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryFromCluster, inventoryFromFiles, type Sourced } from "../inventory/sources.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { formatError } from "./scan/report.ts";

const USAGE = `usage: ai-api-guard inventory [--format csv|json|markdown] (-f PATH ... | [--kubeconfig PATH] [--context NAME] [-n NAMESPACE])

The AI API inventory: every AiApiPolicy (API name, endpoint, auth type, data sensitivity, owner, last
review and review status: ok, due in N days, overdue by N days, never reviewed, review date in the
future; then its namespace and name) with the workloads it selects, and the AI APIs that workloads call
with no policy (review status: unregistered).

  -f, --file PATH      read manifests (files, folders, - for stdin), as scan does; repeatable
  --kubeconfig PATH    read a cluster (default: KUBECONFIG, ~/.kube/config or in-cluster)
  --context NAME       the kubeconfig's context to read (default: its current context)
  -n, --namespace NS   only this namespace of the cluster (default: all namespaces)
  --format FORMAT      csv (default), json or markdown

exit codes: 0 inventory printed, 2 usage error, unreadable input or cluster error`;

const FORMATS = ["csv", "json", "markdown"] as const;
type Format = (typeof FORMATS)[number];
const PAGE_SIZE = 500;

const ARGS = {
  options: {
    file: { type: "string", short: "f", multiple: true },
    kubeconfig: { type: "string" },
    context: { type: "string" },
    namespace: { type: "string", short: "n" },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: false,
} as const;

interface Options {
  files: string[];
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  format: Format;
  help: boolean;
}

export async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === "string") {
    console.error(`ai-api-guard inventory: ${options}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  let sourced: Sourced;
  try {
    sourced = await read(options, new Date());
  } catch (error) {
    // The API server's refusal quotes the namespace (and the user, a service account's holding its namespace).
    console.error(`ai-api-guard inventory: ${shownName((error as Error).message)}`);
    return 2;
  }
  for (const error of sourced.errors) console.error(formatError(error));
  process.stdout.write(render(sourced.inventory, options.format));
  return sourced.errors.length > 0 ? 2 : 0;
}

function parseOptions(argv: string[]): Options | string {
  let parsed: ReturnType<typeof parseArgs<typeof ARGS>>;
  try {
    parsed = parseArgs({ ...ARGS, args: argv });
  } catch (error) {
    return (error as Error).message;
  }
  const { file = [], kubeconfig, context, namespace, format = "csv", help = false } = parsed.values;
  if (!FORMATS.includes(format as Format)) return `unknown format "${format}": use csv, json or markdown`;
  if (file.length > 0 && (kubeconfig !== undefined || context !== undefined || namespace !== undefined))
    return "-f reads manifests, --kubeconfig, --context and -n read a cluster: use one or the other";
  return { files: file, kubeconfig, context, namespace, format: format as Format, help };
}

function read(options: Options, now: Date): Promise<Sourced> {
  if (options.files.length > 0) return inventoryFromFiles(options.files, now);
  const kc = loadKubeConfig(options.kubeconfig, options.context);
  const namespaces = options.namespace === undefined ? undefined : [options.namespace];
  return inventoryFromCluster(kc, { namespaces, pageSize: PAGE_SIZE }, now);
}

function render(written: Inventory, format: Format): string {
  const inventory = { apis: written.apis.map(shownRow), unregistered: written.unregistered.map(shownRow) };
  if (format === "json") return formatJson(inventory);
  if (format === "markdown") return formatMarkdown(inventory);
  return formatCsv(inventory);
}
