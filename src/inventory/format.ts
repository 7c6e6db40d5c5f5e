// The inventory as CSV (for spreadsheets and audits), JSON (everything) and markdown (for a wiki page or
// a pull request): the CSV's columns and markdown's are the same, markdown adds Ready from a cluster.
import type { Inventory, InventoryEntry, UnregisteredEntry } from "./inventory.ts";

/**
 * PRODUCT.md's columns, then who to ask: the namespace and policy (the same API can be declared, or called
 * unregistered, in several namespaces) and the workloads, as JSON and the read API give them.
 */
export const CSV_COLUMNS = [
  "API Name",
  "Endpoint",
  "Auth Type",
  "Data Sensitivity",
  "Owner",
  "Last Reviewed",
  "Review Status",
  "Namespace",
  "Policy",
  "Workloads",
] as const;

/** An AI API called with no policy: its host stands for the endpoint, its review status says so. */
export const UNREGISTERED = "unregistered";

function csvFields(entry: InventoryEntry): string[] {
  return [
    entry.apiName,
    entry.endpoint,
    entry.authType,
    entry.sensitivity,
    entry.owner,
    entry.lastReviewed,
    entry.reviewStatus,
    entry.namespace,
    entry.policy,
    entry.workloads.join(", "),
  ];
}

function unregisteredFields(use: UnregisteredEntry): string[] {
  return [
    use.provider ?? use.host,
    use.host,
    "",
    "",
    "",
    "",
    UNREGISTERED,
    use.namespace,
    "",
    use.workloads.join(", "),
  ];
}

export function formatCsv(inventory: Inventory): string {
  const rows = [[...CSV_COLUMNS], ...inventory.apis.map(csvFields), ...inventory.unregistered.map(unregisteredFields)];
  return rows
    .map((row) => row.map(csvField).join(","))
    .join("\r\n")
    .concat("\r\n");
}

/**
 * RFC 4180 quoting; a field a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe, as OWASP advises for CSV exports. So does what follows a semicolon, tab or line
 * break in it: a spreadsheet in a locale whose separator is ";" (or reading tabs) starts a cell there.
 */
function csvField(value: string): string {
  const safe = value.replace(/(^|[;\t\r\n])(?=[=+\-@\t\r])/g, "$1'");
  return /[",;\t\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function formatJson(inventory: Inventory): string {
  return `${JSON.stringify(inventory, null, 2)}\n`;
}

export function formatMarkdown(inventory: Inventory): string {
  const withReady = inventory.apis.some((e) => e.ready !== undefined);
  const header = [...CSV_COLUMNS, ...(withReady ? ["Ready"] : [])];
  const rows = [
    ...inventory.apis.map((e) => [
      ...csvFields(e),
      ...(withReady ? [e.ready ? `${e.ready.status}${e.ready.reason ? ` (${e.ready.reason})` : ""}` : ""] : []),
    ]),
    ...inventory.unregistered.map((u) => [...unregisteredFields(u), ...(withReady ? [""] : [])]),
  ];
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n").concat("\n");
}

function markdownCell(value: string): string {
  return value
    .replaceAll("\\", "\\\\")
    .replaceAll("|", "\\|")
    .replace(/[\r\n]+/g, " ");
}
