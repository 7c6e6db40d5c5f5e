// The admission decision, pure: an assessment (what the engine found), the policies, the configuration
// and the answers of the two lookups the server makes first (see `lookupsNeeded`) in; what to answer,
// warn and record out. The server does the I/O (response, log line, metrics, Events).
import type { Finding } from "../engine/types.ts";
import type { AdmissionStatus } from "./admission-review.ts";
import type { Assessment } from "./assess.ts";
import type { Action, AdmissionConfig } from "./config.ts";
import {
  capWarnings,
  exemptionRefusedLine,
  exemptionReport,
  exemptionWarning,
  existingReport,
  existingWarning,
  findingsReport,
  findingWarning,
  type Subject,
  unreadableReport,
  unreadableWarning,
} from "./messages.ts";
import { type Governance, governingPolicy, isLooser, type PolicyView, withFloor } from "./policies.ts";

/** The metric label and log field: what happened to the request. */
export type Outcome = "allow" | "deny" | "warn" | "audit" | "skip";

export type EventReason = "AdmissionDenied" | "AdmissionAudit" | "AdmissionExempted" | "AdmissionExistingFindings";

export interface Decision {
  outcome: Outcome;
  subject: Subject;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings: string[];
  /** Every finding; `exempt` only where the exemption was honoured. Empty when not reviewed. */
  findings: readonly Finding[];
  /** How many findings the old object already had (admitted on UPDATE). */
  existing: number;
  /** The action that applied; absent when the object was not reviewed. */
  action?: Action;
  /** What to record as Events (redacted, like everything here); the server skips them for dry runs. */
  events: { reason: EventReason; message: string }[];
  /** Why it was skipped or could not be read; metadata for the log line, never a value. */
  note?: string;
}

export interface DecisionContext {
  config: AdmissionConfig;
  policies: readonly PolicyView[];
  /** The requester, for the messages about exemptions. */
  user: string;
  /** The namespace's own floor (its aiapiguard.dev/action-floor label), when asked and set. */
  namespaceFloor?: Action;
  /** Whether the requester may grant exemptions in the namespace (a SubjectAccessReview); no when not asked. */
  exemptionGranted?: boolean;
}

const NO_LOOKUPS = { exemption: false, floor: false } as const;

/** What the server must find out before deciding: both cost a call to the API server (cached). */
export function lookupsNeeded(a: Assessment, ctx: Pick<DecisionContext, "config" | "policies">) {
  if (a.skipped || a.policy || (a.findings.length === 0 && a.unreadable === undefined)) return NO_LOOKUPS;
  const governance = governingPolicy(ctx.policies, a.subject.namespace, a.labels, ctx.config.defaultAction);
  const actionable = a.findings.length > 0 || a.unreadable !== undefined;
  return {
    exemption: newFindings(a).some((f) => f.exempt),
    floor: actionable && governance.policy !== undefined && isLooser(governance.action, ctx.config.actionFloor),
  };
}

export function decide(a: Assessment, ctx: DecisionContext): Decision {
  const { subject } = a;
  const none = { subject, warnings: [], findings: [], existing: 0, events: [] };
  if (a.skipped) return { ...none, outcome: "skip", allowed: true, note: a.skipped };
  if (a.policy) {
    if (a.policyProblem === undefined) return { ...none, outcome: "allow", allowed: true };
    const status = { code: 422, reason: "Invalid", message: a.policyProblem };
    return { ...none, outcome: "deny", allowed: false, status, note: "invalid policy" };
  }

  const floor = ctx.namespaceFloor ?? ctx.config.actionFloor;
  const governance = withFloor(
    governingPolicy(ctx.policies, subject.namespace, a.labels, ctx.config.defaultAction),
    floor,
  );
  // The common case, a clean object: nothing to compare, warn or record.
  if (a.findings.length === 0 && a.unreadable === undefined)
    return { ...none, outcome: "allow", allowed: true, action: governance.action };
  const existingSet = new Set(a.existing);
  const granted = ctx.exemptionGranted === true;
  // An exemption the requester may not grant is not one: the finding is enforced like any other.
  const fresh = newFindings(a).map((f) => (f.exempt && !granted ? { ...f, exempt: false } : f));
  const old = a.findings.filter((_, index) => existingSet.has(index));
  const enforced = fresh.filter((f) => !f.exempt);
  const exempted = fresh.filter((f) => f.exempt);
  const refusedExemption = !granted && newFindings(a).some((f) => f.exempt);
  const unreadable = a.unreadableExisting ? undefined : a.unreadable;

  const events: Decision["events"] = [];
  const warnings = [
    // The old object could not be read either: admitted like an old finding, never silently.
    ...(a.unreadableExisting && a.unreadable !== undefined ? [unreadableWarning(subject, a.unreadable)] : []),
    ...old.map((f) => existingWarning(subject, f)),
    ...exempted.map((f) => exemptionWarning(subject, f)),
  ];
  if (old.length > 0) events.push({ reason: "AdmissionExistingFindings", message: existingReport(subject, old) });
  if (exempted.length > 0)
    events.push({ reason: "AdmissionExempted", message: exemptionReport(subject, ctx.user, exempted) });
  const base = {
    subject,
    findings: [...fresh, ...old],
    existing: old.length,
    action: governance.action,
    note: a.unreadable,
  };
  if (enforced.length === 0 && unreadable === undefined) {
    return { ...base, outcome: "allow", allowed: true, warnings: capWarnings(warnings), events };
  }

  const report = [
    ...(unreadable === undefined ? [] : [unreadableReport(subject, governance, unreadable)]),
    ...(enforced.length === 0 ? [] : [findingsReport(subject, governance, enforced, a.uncounted)]),
    ...(refusedExemption ? [exemptionRefusedLine(ctx.user, subject.namespace)] : []),
  ].join("\n");
  return act(governance, report, { ...base, events }, warnings, enforced, unreadable);
}

function act(
  governance: Governance,
  report: string,
  base: Omit<Decision, "outcome" | "allowed" | "warnings">,
  warnings: string[],
  enforced: Finding[],
  unreadable: string | undefined,
): Decision {
  const { subject } = base;
  // An object that could not be read is never admitted silently: under Audit it still warns.
  const unreadableWarnings = unreadable === undefined ? [] : [unreadableWarning(subject, unreadable)];
  switch (governance.action) {
    case "Deny":
      return {
        ...base,
        outcome: "deny",
        allowed: false,
        status: { code: 403, reason: "Forbidden", message: report },
        warnings: capWarnings(warnings),
        events: [...base.events, { reason: "AdmissionDenied", message: report }],
      };
    case "Warn": {
      const own = [...unreadableWarnings, ...enforced.map((finding) => findingWarning(subject, finding))];
      return { ...base, outcome: "warn", allowed: true, warnings: capWarnings([...own, ...warnings]) };
    }
    case "Audit":
      return {
        ...base,
        outcome: "audit",
        allowed: true,
        warnings: capWarnings([...unreadableWarnings, ...warnings]),
        events: [...base.events, { reason: "AdmissionAudit", message: report }],
      };
  }
}

function newFindings(a: Assessment): Finding[] {
  if (a.existing.length === 0) return a.findings;
  const existing = new Set(a.existing);
  return a.findings.filter((_, index) => !existing.has(index));
}
