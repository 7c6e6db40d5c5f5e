// What a scan produced, independent of how it is printed.
import type { Finding, RuleId, Severity } from "../../engine/index.ts";

export interface ScanFinding extends Finding {
  /** The input it came from, as the user named it ("-" for stdin, shown as "<stdin>"). */
  file: string;
  /** 1-based line of the offending value (in a block scalar, of its line that holds it), when the source gives one. */
  line?: number;
  /** 1-based column where that line's value starts, when the source gives it exactly. */
  column?: number;
}

/** An input that could not be scanned in full: unreadable file, invalid YAML, malformed object. */
export interface InputError {
  file: string;
  line?: number;
  message: string;
}

export interface ScanReport {
  findings: ScanFinding[];
  errors: InputError[];
  /** What was left out and how to scan it (Helm charts' templates): stderr only, the exit code unchanged. */
  notes: string[];
  files: number;
  objects: number;
}

export interface Summary {
  files: number;
  objects: number;
  findings: number;
  exempt: number;
  byRule: Partial<Record<RuleId, number>>;
  bySeverity: Partial<Record<Severity, number>>;
  errors: InputError[];
}

/** Counts what is enforced; exempt findings are listed but counted apart. */
export function summarize(report: ScanReport): Summary {
  const enforced = report.findings.filter((f) => !f.exempt);
  const byRule: Summary["byRule"] = {};
  const bySeverity: Summary["bySeverity"] = {};
  for (const f of enforced) {
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  }
  return {
    files: report.files,
    objects: report.objects,
    findings: enforced.length,
    exempt: report.findings.length - enforced.length,
    byRule,
    bySeverity,
    errors: report.errors,
  };
}

export function formatError(error: InputError): string {
  return `${error.file}${error.line === undefined ? "" : `:${error.line}`}: ${error.message}`;
}
