// The human report: findings grouped by file, then resource, each with its fix.
import { styleText } from "node:util";
import type { Severity } from "../../engine/index.ts";
import { type ScanReport, summarize } from "./report.ts";

type Style = Parameters<typeof styleText>[0];

const SEVERITY_STYLE: Record<Severity, Style> = { critical: "red", high: "red", medium: "yellow", low: "cyan" };

export function formatText(report: ScanReport, options: { color: boolean }): string {
  const paint = (style: Style, text: string) =>
    options.color ? styleText(style, text, { validateStream: false }) : text;
  const lines: string[] = [];
  for (const [file, findings] of groupBy(report.findings, (f) => f.file)) {
    lines.push(paint("bold", file));
    for (const [resource, items] of groupBy(findings, (f) => f.resource)) {
      lines.push(`  ${resource}`);
      for (const f of items) {
        const where = f.line === undefined ? f.path : `line ${f.line}, ${f.path}`;
        const tag = f.exempt ? paint("dim", "exempt") : paint(SEVERITY_STYLE[f.severity], f.severity);
        lines.push(`    ${tag} ${paint("bold", f.rule)}: ${f.message}`);
        lines.push(`      ${paint("dim", `at ${where}`)}`);
        lines.push(`      fix: ${f.fix}`);
      }
    }
    lines.push("");
  }
  lines.push(summaryLine(report, paint));
  return `${lines.join("\n")}\n`;
}

function summaryLine(report: ScanReport, paint: (style: Style, text: string) => string): string {
  const s = summarize(report);
  const scanned = `${s.objects} object${s.objects === 1 ? "" : "s"} in ${s.files} file${s.files === 1 ? "" : "s"}`;
  const exempt = s.exempt > 0 ? `, ${s.exempt} exempt` : "";
  const errors = s.errors.length > 0 ? `, ${s.errors.length} input error${s.errors.length === 1 ? "" : "s"}` : "";
  if (s.findings === 0) return paint("green", `no findings in ${scanned}${exempt}${errors}`);
  const rules = Object.entries(s.byRule)
    .map(([rule, n]) => `${n} ${rule}`)
    .join(", ");
  const noun = s.findings === 1 ? "finding" : "findings";
  return paint("red", `${s.findings} ${noun} (${rules}) in ${scanned}${exempt}${errors}`);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}
