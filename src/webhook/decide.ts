// The admission decision, pure: an AdmissionRequest, the policies and the configuration in; what to
// answer, warn and record out. The server does the I/O (response, log line, metrics, Event).
import { API_GROUP, KIND } from "../api/index.ts";
import { workloadKind } from "../api/workload-kinds.ts";
import type { Evaluate, Evaluation, Finding } from "../engine/types.ts";
import { pathValue } from "../kube/objects.ts";
import type { AdmissionRequest, AdmissionStatus } from "./admission-review.ts";
import type { Action, AdmissionConfig } from "./config.ts";
import {
  exemptionWarning,
  findingsReport,
  findingWarning,
  type Subject,
  unreadableReport,
  unreadableWarning,
} from "./messages.ts";
import { endpointHosts, governingPolicy, type PolicyView, podTemplateLabels } from "./policies.ts";
import { policyProblem } from "./policy-review.ts";

/** The metric label and log field: what happened to the request. */
export type Outcome = "allow" | "deny" | "warn" | "audit" | "skip";

export interface Decision {
  outcome: Outcome;
  subject: Subject;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings: string[];
  /** Every finding, exempt ones included; empty when the object was not reviewed. */
  findings: readonly Finding[];
  /** The action that applied; absent when the object was not reviewed. */
  action?: Action;
  /** For denied and audited objects: the Event to record (redacted, like everything here). */
  event?: { reason: "AdmissionDenied" | "AdmissionAudit"; message: string };
  /** Why it was skipped or could not be read; metadata for the log line, never a value. */
  note?: string;
}

export interface DecisionInput {
  request: AdmissionRequest;
  config: AdmissionConfig;
  policies: readonly PolicyView[];
  evaluate: Evaluate;
  /** For the checks that need a clock (an AiApiPolicy's review date); the current time by default. */
  now?: Date;
}

/** A kind of the workload table, by API group: a custom resource that reuses a name is not one of them. */
export function isReviewedKind(kind: AdmissionRequest["kind"]): boolean {
  return workloadKind(kind.group, kind.kind) !== undefined;
}

export function isPolicyKind(kind: AdmissionRequest["kind"]): boolean {
  return kind.group === API_GROUP && kind.kind === KIND;
}

export function decide({ request, config, policies, evaluate, now }: DecisionInput): Decision {
  const subject = subjectOf(request);
  const skipped = whySkipped(request, config);
  if (skipped) return { outcome: "skip", subject, allowed: true, warnings: [], findings: [], note: skipped };
  if (isPolicyKind(request.kind)) return decidePolicy(subject, request.object, now ?? new Date());

  const labels = podTemplateLabels(request.kind, request.object);
  const governance = governingPolicy(policies, subject.namespace, labels, config.defaultAction);
  const evaluation = safeEvaluate(evaluate, request.object, endpointHosts(policies));
  const { unreadable } = evaluation;
  const enforced = evaluation.findings.filter((finding) => !finding.exempt);
  const exemptions = evaluation.findings.filter((finding) => finding.exempt).map((f) => exemptionWarning(subject, f));
  const base = { subject, findings: evaluation.findings, action: governance.action, note: unreadable };
  if (enforced.length === 0 && unreadable === undefined) {
    return { ...base, outcome: "allow", allowed: true, warnings: exemptions };
  }

  const report = [
    ...(unreadable === undefined ? [] : [unreadableReport(subject, governance, unreadable)]),
    ...(enforced.length === 0 ? [] : [findingsReport(subject, governance, enforced)]),
  ].join("\n");
  // An object that could not be read is never admitted silently: under Audit it still warns.
  const unreadableWarnings = unreadable === undefined ? [] : [unreadableWarning(subject, unreadable)];
  switch (governance.action) {
    case "Deny":
      return {
        ...base,
        outcome: "deny",
        allowed: false,
        status: { code: 403, reason: "Forbidden", message: report },
        warnings: exemptions,
        event: { reason: "AdmissionDenied", message: report },
      };
    case "Warn": {
      const warnings = [...unreadableWarnings, ...enforced.map((finding) => findingWarning(subject, finding))];
      return { ...base, outcome: "warn", allowed: true, warnings: [...warnings, ...exemptions] };
    }
    case "Audit":
      return {
        ...base,
        outcome: "audit",
        allowed: true,
        warnings: [...unreadableWarnings, ...exemptions],
        event: { reason: "AdmissionAudit", message: report },
      };
  }
}

/** An AiApiPolicy is not scanned for secrets: it is checked for what its CRD schema cannot check. */
function decidePolicy(subject: Subject, object: unknown, now: Date): Decision {
  const problem = policyProblem(object, now);
  if (problem === undefined) return { outcome: "allow", subject, allowed: true, warnings: [], findings: [] };
  const status = { code: 422, reason: "Invalid", message: problem };
  return { outcome: "deny", subject, allowed: false, status, warnings: [], findings: [], note: "invalid policy" };
}

function whySkipped(request: AdmissionRequest, config: AdmissionConfig): string | undefined {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return `operation ${request.operation}`;
  if (request.subResource) return `subresource ${request.subResource}`;
  if (!isReviewedKind(request.kind) && !isPolicyKind(request.kind)) return "kind not reviewed";
  if (config.exemptNamespaces.includes(request.namespace ?? "")) return "exempt namespace";
  // Refusing the update that removes a finalizer would keep a doomed object alive forever.
  if (pathValue(request.object, ["metadata", "deletionTimestamp"])) return "object being deleted";
  return undefined;
}

/** The engine promises not to throw; if it does, the object counts as unreadable (fail closed under Deny). */
function safeEvaluate(evaluate: Evaluate, object: unknown, hosts: readonly string[]): Evaluation {
  try {
    return evaluate(object, { policyEndpointHosts: hosts });
  } catch (error) {
    // Only the error's class: an engine's message could quote the value it choked on.
    const name = error instanceof Error ? error.name : "error";
    return { findings: [], unreadable: `the rules engine failed on it (${name})` };
  }
}

/** The name the messages use: the request's, else the object's, else its generateName prefix. */
function subjectOf(request: AdmissionRequest): Subject {
  const metadataName = pathValue(request.object, ["metadata", "name"]);
  const generateName = pathValue(request.object, ["metadata", "generateName"]);
  const name =
    request.name ||
    (typeof metadataName === "string" && metadataName) ||
    (typeof generateName === "string" && `${generateName}*`) ||
    "(unnamed)";
  // The object's own fields are not bounded by the envelope's schema: Kubernetes names stop at 253.
  return { kind: request.kind.kind, namespace: request.namespace ?? "", name: name.slice(0, 253) };
}
