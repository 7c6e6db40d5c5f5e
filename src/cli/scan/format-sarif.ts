// SARIF 2.1.0 for code-scanning upload: rule metadata (help = the fix), file/line locations,
// exempt findings as in-source suppressions so they show up dismissed rather than vanish, and input
// errors as the invocation's notifications, so a broken file is no green scan where only SARIF is read.
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { RULES, type RuleId, type Severity } from "../../engine/index.ts";
import { STDIN_NAME } from "./inputs.ts";
import type { InputError, ScanFinding, ScanReport } from "./report.ts";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};
// GitHub code scanning ranks security results by this property (0–10).
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };
const RULE_IDS = Object.keys(RULES) as RuleId[];

export function formatSarif(report: ScanReport): string {
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "ai-api-guard",
            rules: RULE_IDS.map((id) => {
              const rule = RULES[id];
              return {
                id,
                name: rule.title.replace(/\s+(\w)/g, (_, c: string) => c.toUpperCase()),
                shortDescription: { text: rule.title },
                fullDescription: { text: rule.description },
                help: { text: rule.fix },
                defaultConfiguration: { level: LEVEL[rule.defaultSeverity] },
                properties: {
                  category: rule.category,
                  tags: ["security", rule.category],
                  "security-severity": SECURITY_SEVERITY[rule.defaultSeverity],
                },
              };
            }),
          },
        },
        // GitHub's code scanning does not process a run whose execution was not successful ("unsuccessful
        // execution"): the upload fails, and the alerts of the last complete scan stay as they were.
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map(notification),
          },
        ],
        results: report.findings.map(result),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** Relative paths stay relative (code scanning resolves them against the repository); absolute ones become file: URIs. */
function artifactUri(file: string): string {
  if (file === STDIN_NAME) return "stdin";
  if (isAbsolute(file)) return pathToFileURL(file).href;
  // Segment by segment: encodeURI leaves # and ?, which would end the path.
  return file.replaceAll("\\", "/").split("/").map(encodeURIComponent).join("/");
}

function notification(error: InputError) {
  const region = error.line === undefined ? {} : { region: { startLine: error.line } };
  return {
    level: "error",
    message: { text: error.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(error.file) }, ...region } }],
  };
}

function result(f: ScanFinding) {
  return {
    ruleId: f.rule,
    ruleIndex: RULE_IDS.indexOf(f.rule),
    level: LEVEL[f.severity],
    message: { text: `${f.resource} ${f.message}. Fix: ${f.fix}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(f.file) },
          region: { startLine: f.line ?? 1, ...(f.column === undefined ? {} : { startColumn: f.column }) },
        },
        logicalLocations: [{ name: f.path, fullyQualifiedName: `${f.resource}:${f.path}`, kind: "member" }],
      },
    ],
    properties: { resource: f.resource, container: f.container ?? "", severity: f.severity, category: f.category },
    ...(f.exempt ? { suppressions: [{ kind: "inSource", justification: "aiapiguard.dev/exempt annotation" }] } : {}),
  };
}
