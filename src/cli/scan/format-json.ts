// The machine report of PRODUCT.md: {"findings":[...],"summary":{...}}.
import { type ScanReport, summarize } from "./report.ts";

export function formatJson(report: ScanReport): string {
  const findings = report.findings.map((f) => ({
    file: f.file,
    resource: f.resource,
    container: f.container ?? "",
    path: f.path,
    rule: f.rule,
    category: f.category,
    severity: f.severity,
    message: f.message,
    fix: f.fix,
    exempt: f.exempt,
    ...(f.line === undefined ? {} : { line: f.line }),
  }));
  return `${JSON.stringify({ findings, summary: summarize(report) }, null, 2)}\n`;
}
