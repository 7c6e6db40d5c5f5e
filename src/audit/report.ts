// One report per namespace from the audit's findings, pure: OpenReports `Report` (openreports.io/v1alpha1)
// or, with reports.format wgpolicyk8s, the policy work group's `PolicyReport` (wgpolicyk8s.io/v1alpha2):
// the same shape. A result per finding, redacted like every finding (the rule's hint, never a value).
import { createHash } from "node:crypto";
import { shownName } from "../engine/shown.ts";
import type { Finding } from "../engine/types.ts";
import { byCodePoint, canonical } from "../kube/order.ts";
import { apiVersionOf, type Resource } from "../kube/resources.ts";

/** A finding of the audit: the engine's, with the workload's identity for the report and Events. */
export interface AuditFinding extends Omit<Finding, "pathSegments"> {
  apiVersion: string;
  uid?: string;
  /** The AiApiPolicies (names, in the same namespace) that select the workload. */
  policies: string[];
  /** The object's name holds a key: `name` is its hint, and no Event can be written about the object. */
  nameHoldsKey?: true;
}

export type ReportFormat = "openreports" | "wgpolicyk8s";

export const REPORT_TYPES: Record<ReportFormat, Resource> = {
  openreports: { group: "openreports.io", version: "v1alpha1", plural: "reports", kind: "Report" },
  wgpolicyk8s: { group: "wgpolicyk8s.io", version: "v1alpha2", plural: "policyreports", kind: "PolicyReport" },
};

/**
 * The cluster-scoped report of each format: the findings of cluster-scoped objects (a ClusterServingRuntime),
 * which have no namespace to be reported in.
 */
export const CLUSTER_REPORT_TYPES: Record<ReportFormat, Resource> = {
  openreports: { group: "openreports.io", version: "v1alpha1", plural: "clusterreports", kind: "ClusterReport" },
  wgpolicyk8s: {
    group: "wgpolicyk8s.io",
    version: "v1alpha2",
    plural: "clusterpolicyreports",
    kind: "ClusterPolicyReport",
  },
};

/** The report a namespace's findings go in: the cluster's for "" (cluster-scoped objects). */
export function reportType(format: ReportFormat, namespace: string): Resource {
  return (namespace === "" ? CLUSTER_REPORT_TYPES : REPORT_TYPES)[format];
}

export const REPORT_NAME = "ai-api-guard";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "ai-api-guard" };
export const SOURCE = "ai-api-guard";
/** Results kept per report, and their bytes (as JSON): the summary still counts all. */
export const MAX_RESULTS = 1000;
/**
 * A report stays below etcd's 1.5 MiB request limit whatever its results carry (names of 253 characters,
 * long env var names in messages, the selecting policies): the rest is metadata and managedFields.
 */
export const MAX_REPORT_BYTES = 1024 * 1024;
/** How many findings the report left out of its results (past MAX_RESULTS or MAX_REPORT_BYTES). */
export const RESULTS_LEFT_OUT = "aiapiguard.dev/results-left-out";
/**
 * The enforced findings left out, as digests: announced once, the next run must know them without a
 * result. 8 characters each, up to MAX_LEFT_OUT_DIGESTS (128 KiB, within the 256 KiB annotations may hold).
 */
export const LEFT_OUT_DIGESTS = "aiapiguard.dev/left-out-digests";
export const MAX_LEFT_OUT_DIGESTS = 16_384;

export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  category: string;
  severity: string;
  result: "fail" | "skip";
  scored: boolean;
  message: string;
  resources: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string }[];
  properties: Record<string, string>;
  timestamp: { seconds: number; nanos: number };
}

export interface PolicyReportObject {
  apiVersion: string;
  kind: string;
  /** No namespace for the cluster's report. */
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string> };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: ReportResult[];
}

/** What identifies a result across runs: the same finding keeps its first timestamp and is announced once. */
export function resultKey(r: Pick<ReportResult, "rule" | "resources" | "properties">): string {
  const resource = r.resources[0];
  return [r.rule, resource?.kind, resource?.name, r.properties.path].join("\u0000");
}

export function findingKey(f: AuditFinding): string {
  return [f.rule, f.kind, f.name, f.path].join("\u0000");
}

/** 48 bits of SHA-256, base64url: about one chance in 10^10 that a new finding passes for one of 16,384 announced. */
function digestOf(key: string): string {
  return createHash("sha256").update(key).digest().subarray(0, 6).toString("base64url");
}

/** Whether the report shows a finding as announced: a fail result, or the digest of an enforced finding left out. */
export function announcedIn(report: PolicyReportObject | undefined): (finding: AuditFinding) => boolean {
  const keys = new Set((report?.results ?? []).filter((r) => r.result === "fail").map(resultKey));
  const digests = new Set(report?.metadata.annotations?.[LEFT_OUT_DIGESTS]?.match(/.{8}/g));
  return (finding) => keys.has(findingKey(finding)) || digests.has(digestOf(findingKey(finding)));
}

export function buildReport(
  format: ReportFormat,
  namespace: string,
  findings: readonly AuditFinding[],
  now: Date,
  previous?: PolicyReportObject,
): PolicyReportObject {
  const since = new Map((previous?.results ?? []).map((r) => [resultKey(r), r.timestamp]));
  const seconds = Math.floor(now.getTime() / 1000);
  const sorted = [...findings].sort((a, b) => byCodePoint(findingKey(a), findingKey(b)));
  const toResult = (f: AuditFinding): ReportResult => {
    const properties: Record<string, string> = { path: f.path, hint: f.hint, fix: f.fix };
    if (f.container !== undefined) properties.container = f.container;
    if (f.volume !== undefined) properties.volume = f.volume;
    if (f.provider !== undefined) properties.provider = f.provider;
    if (f.policies.length > 0) properties.policies = f.policies.map(shownName).join(",");
    return {
      source: SOURCE,
      policy: f.category,
      rule: f.rule,
      category: f.category,
      severity: f.severity,
      result: f.exempt ? "skip" : "fail",
      scored: true,
      message: f.message,
      resources: [
        {
          apiVersion: f.apiVersion,
          kind: f.kind,
          // Shown (a key by its hint): the report lives in the namespace; its uid links the object.
          namespace: shownName(f.namespace),
          name: f.name,
          ...(f.uid ? { uid: f.uid } : {}),
        },
      ],
      properties,
      timestamp: since.get(findingKey(f)) ?? { seconds, nanos: 0 },
    };
  };
  // In order while they fit: a result too large for what is left is left out, the smaller ones after it kept.
  const results: ReportResult[] = [];
  const leftOut: AuditFinding[] = [];
  let bytes = 0;
  for (const finding of sorted) {
    const result = results.length < MAX_RESULTS ? toResult(finding) : undefined;
    const size = result ? Buffer.byteLength(JSON.stringify(result)) + 1 : 0;
    if (!result || bytes + size > MAX_REPORT_BYTES) {
      leftOut.push(finding);
      continue;
    }
    bytes += size;
    results.push(result);
  }
  const skip = findings.filter((f) => f.exempt).length;
  const type = reportType(format, namespace);
  return {
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    metadata: {
      name: REPORT_NAME,
      ...(namespace === "" ? {} : { namespace }),
      labels: { ...MANAGED_BY },
      ...leftOutAnnotations(leftOut),
    },
    summary: { pass: 0, fail: findings.length - skip, warn: 0, error: 0, skip },
    results,
  };
}

/** None when every finding has its result, so a report that fits carries no annotation. */
function leftOutAnnotations(leftOut: readonly AuditFinding[]): { annotations?: Record<string, string> } {
  if (leftOut.length === 0) return {};
  const digests = leftOut
    .filter((f) => !f.exempt)
    .slice(0, MAX_LEFT_OUT_DIGESTS)
    .map((f) => digestOf(findingKey(f)));
  return {
    annotations: {
      [RESULTS_LEFT_OUT]: String(leftOut.length),
      ...(digests.length > 0 ? { [LEFT_OUT_DIGESTS]: digests.join("") } : {}),
    },
  };
}

/** The findings a report holds, as the audit made them (results beyond MAX_RESULTS are not in it). */
export function findingsOf(report: PolicyReportObject): AuditFinding[] {
  return (report.results ?? []).map((r) => {
    const { path = "", hint = "", fix = "", container, volume, provider, policies } = r.properties ?? {};
    const resource = r.resources?.[0] ?? {
      apiVersion: "",
      kind: "",
      namespace: shownName(report.metadata.namespace ?? ""),
      name: "",
    };
    return {
      rule: r.rule as AuditFinding["rule"],
      category: r.category as AuditFinding["category"],
      severity: r.severity as AuditFinding["severity"],
      resource: `${resource.kind}/${resource.namespace}/${resource.name}`,
      kind: resource.kind,
      // As written, from the report's own (its results show it by its hint): the read API filters by it.
      namespace: report.metadata.namespace ?? "",
      name: resource.name,
      ...(container === undefined ? {} : { container }),
      ...(volume === undefined ? {} : { volume }),
      path,
      ...(provider === undefined ? {} : { provider }),
      hint,
      message: r.message,
      fix,
      exempt: r.result === "skip",
      apiVersion: resource.apiVersion,
      ...(resource.uid ? { uid: resource.uid } : {}),
      policies: policies ? policies.split(",") : [],
    };
  });
}

/** Whether writing `desired` would change what the cluster holds (results, summary and what was left out). */
export function reportChanged(desired: PolicyReportObject, current: PolicyReportObject | undefined): boolean {
  if (!current) return true;
  return canonical(comparable(desired)) !== canonical(comparable(current));
}

/** What the API server may hand back differently: zero counts left out, keys in another order. */
function comparable(report: PolicyReportObject) {
  const s: Partial<PolicyReportObject["summary"]> = report.summary ?? {};
  const summary = { pass: s.pass ?? 0, fail: s.fail ?? 0, warn: s.warn ?? 0, error: s.error ?? 0, skip: s.skip ?? 0 };
  const annotations = report.metadata?.annotations ?? {};
  const leftOut = [annotations[RESULTS_LEFT_OUT], annotations[LEFT_OUT_DIGESTS]];
  return { summary, results: report.results ?? [], leftOut };
}
