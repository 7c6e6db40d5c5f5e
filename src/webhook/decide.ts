// The admission decision, pure: an assessment (what the engine found), the policies, the configuration
// and the answers of the two lookups the server makes first (see `lookupsNeeded`) in; what to answer,
// warn and record out. The server does the I/O (response, log line, metrics, Events).
import { shownName } from "../engine/index.ts";
import type { Finding } from "../engine/types.ts";
import type { AdmissionStatus, UserInfo } from "./admission-review.ts";
import type { Assessment } from "./assess.ts";
import type { Action, AdmissionConfig } from "./config.ts";
import {
  capWarnings,
  configMapsNotFollowedWarning,
  exemptionRefusedLine,
  exemptionReport,
  exemptionWarning,
  existingReport,
  existingWarning,
  findingsReport,
  findingWarning,
  type Subject,
  unknownExemptionLine,
  unknownExemptionWarning,
  unreadableReport,
  unreadableWarning,
} from "./messages.ts";
import { ownerVouches } from "./owner-exemptions.ts";
import {
  type Governance,
  governingPolicy,
  isLooser,
  type PolicyView,
  unregisteredGovernance,
  withFloor,
} from "./policies.ts";

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
  /** The action for its `unregistered-ai-api` findings, when it has some (its policies' own, or a setting). */
  unregisteredAction?: Action;
  /** What to record as Events (redacted, like everything here); the server skips them for dry runs. */
  events: { reason: EventReason; message: string }[];
  /** Why it was skipped or could not be read; metadata for the log line, never a value. */
  note?: string;
}

export interface DecisionContext {
  config: AdmissionConfig;
  policies: readonly PolicyView[];
  /** The requester: who may carry an exemption, and the messages about exemptions. */
  user: UserInfo;
  /** The namespace's own floor (its aiapiguard.dev/action-floor label), when asked and set. */
  namespaceFloor?: Action;
  /** Whether the requester may grant exemptions in the namespace (a SubjectAccessReview); no when not asked. */
  exemptionGranted?: boolean;
}

const NO_LOOKUPS = { exemption: false, floor: false } as const;

/** What the server must find out before deciding: both cost a call to the API server (cached). */
export function lookupsNeeded(a: Assessment, ctx: Pick<DecisionContext, "config" | "policies" | "user">) {
  if (a.skipped || a.policy || (a.findings.length === 0 && a.unreadable === undefined)) return NO_LOOKUPS;
  const governance = governingPolicy(ctx.policies, a.subject.namespace, a.labels, ctx.config.defaultAction);
  // The floor bounds policies' actions only: unregistered-ai-api findings have their own setting.
  const actionable = a.findings.some((f) => !isUnregistered(f)) || a.unreadable !== undefined;
  return {
    exemption: newFindings(a).some((f) => f.exempt) && !ownerVouches(ctx.user, a.owner, ctx.config.trustedControllers),
    floor: actionable && governance.policy !== undefined && isLooser(governance.action, ctx.config.actionFloor),
  };
}

export function decide(a: Assessment, ctx: DecisionContext): Decision {
  const { subject, configMapsNotFollowed } = a;
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
  // Not silent: what was not read at admission is said, whatever the findings.
  const notice = configMapsNotFollowed ? [configMapsNotFollowedWarning(subject, configMapsNotFollowed)] : [];
  // The common case, a clean object: nothing to compare, warn or record.
  if (a.findings.length === 0 && a.unreadable === undefined)
    return { ...none, outcome: "allow", allowed: true, action: governance.action, warnings: notice };
  const existingSet = new Set(a.existing);
  const vouched = ownerVouches(ctx.user, a.owner, ctx.config.trustedControllers);
  const granted = ctx.exemptionGranted === true || vouched;
  // An exemption the requester may not grant is not one: the finding is enforced like any other.
  const fresh = newFindings(a).map((f) => (f.exempt && !granted ? { ...f, exempt: false } : f));
  const old = a.findings.filter((_, index) => existingSet.has(index));
  const enforced = fresh.filter((f) => !f.exempt);
  const exempted = fresh.filter((f) => f.exempt);
  const refusedExemption = !granted && newFindings(a).some((f) => f.exempt);
  const unreadable = a.unreadableExisting ? undefined : a.unreadable;

  const events: Decision["events"] = [];
  const warnings = [
    ...notice,
    ...(a.unknownExemptions ? [unknownExemptionWarning(a.unknownExemptions)] : []),
    // The old object could not be read either: admitted like an old finding, never silently.
    ...(a.unreadableExisting && a.unreadable !== undefined ? [unreadableWarning(subject, a.unreadable)] : []),
    ...old.map((f) => existingWarning(subject, f)),
    ...exempted.map((f) => exemptionWarning(subject, f)),
  ];
  if (old.length > 0) events.push({ reason: "AdmissionExistingFindings", message: existingReport(subject, old) });
  if (exempted.length > 0)
    events.push({
      reason: "AdmissionExempted",
      message: exemptionReport(subject, grantee(ctx.user, vouched ? a.owner : undefined), exempted),
    });
  const findings = [...fresh, ...old];
  const unregistered = unregisteredGovernance(ctx.policies, subject.namespace, a.labels, ctx.config.unregisteredAction);
  const base = {
    subject,
    findings,
    existing: old.length,
    action: governance.action,
    ...(findings.some(isUnregistered) && { unregisteredAction: unregistered.action }),
    note: a.unreadable,
  };
  if (enforced.length === 0 && unreadable === undefined) {
    return { ...base, outcome: "allow", allowed: true, warnings: capWarnings(warnings), events };
  }
  const refusalLines = [
    ...(refusedExemption ? [exemptionRefusedLine(ctx.user.username, subject.namespace)] : []),
    ...(a.unknownExemptions ? [unknownExemptionLine(a.unknownExemptions)] : []),
  ];
  const refusal = refusalLines.length > 0 ? refusalLines.join("\n") : undefined;
  return act(verdicts(a, enforced, { governance, unregistered }, unreadable), refusal, { ...base, events }, warnings);
}

/** What one action makes of the findings it governs. */
interface Verdict {
  action: Action;
  report: string;
  /** Its warnings under Warn. */
  warnings: string[];
  /** Its warnings under Audit: an object that could not be read is never admitted silently. */
  always: string[];
}

/** The governing action takes every finding but `unregistered-ai-api`, which has its own action. */
function verdicts(
  a: Assessment,
  enforced: readonly Finding[],
  { governance, unregistered: source }: { governance: Governance; unregistered: Governance },
  unreadable: string | undefined,
): Verdict[] {
  const { subject } = a;
  const governed = enforced.filter((f) => !isUnregistered(f));
  const unregistered = enforced.filter(isUnregistered);
  const out: Verdict[] = [];
  if (governed.length > 0 || unreadable !== undefined) {
    const unreadableWarnings = unreadable === undefined ? [] : [unreadableWarning(subject, unreadable)];
    const report = [
      ...(unreadable === undefined ? [] : [unreadableReport(subject, governance, unreadable)]),
      ...(governed.length === 0 ? [] : [findingsReport(subject, governance, governed, a.uncounted)]),
    ].join("\n");
    const warnings = [...unreadableWarnings, ...governed.map((finding) => findingWarning(subject, finding))];
    out.push({ action: governance.action, report, warnings, always: unreadableWarnings });
  }
  if (unregistered.length > 0) {
    const { action } = source;
    const warnings = unregistered.map((finding) => findingWarning(subject, finding));
    out.push({ action, report: findingsReport(subject, source, unregistered), warnings, always: [] });
  }
  return out;
}

/** The strictest action decides; a refusal carries only what refused it. */
function act(
  all: readonly Verdict[],
  refusal: string | undefined,
  base: Omit<Decision, "outcome" | "allowed" | "warnings">,
  warnings: string[],
): Decision {
  const withRefusal = (report: string) => (refusal === undefined ? report : `${report}\n${refusal}`);
  const denied = all.filter((v) => v.action === "Deny");
  if (denied.length > 0) {
    const message = withRefusal(denied.map((v) => v.report).join("\n"));
    return {
      ...base,
      outcome: "deny",
      allowed: false,
      status: { code: 403, reason: "Forbidden", message },
      warnings: capWarnings(warnings),
      events: [...base.events, { reason: "AdmissionDenied", message }],
    };
  }
  const own = all.flatMap((v) => (v.action === "Warn" ? v.warnings : v.always));
  const audits = all
    .filter((v) => v.action === "Audit")
    .map((v) => ({ reason: "AdmissionAudit" as const, message: withRefusal(v.report) }));
  return {
    ...base,
    outcome: all.some((v) => v.action === "Warn") ? "warn" : "audit",
    allowed: true,
    warnings: capWarnings([...own, ...warnings]),
    events: [...base.events, ...audits],
  };
}

/** The action a finding was counted under: its own for exempt and unregistered ones. */
export function findingAction(decision: Decision, finding: Finding): Action | "Exempt" | "none" {
  if (finding.exempt) return "Exempt";
  return (isUnregistered(finding) ? decision.unregisteredAction : decision.action) ?? "none";
}

function isUnregistered(finding: Finding): boolean {
  return finding.rule === "unregistered-ai-api";
}

/** Who the exemption was granted to, as the AdmissionExempted Event says it (an owner named with a key by its hint). */
function grantee(user: UserInfo, owner: Assessment["owner"]): string {
  if (!owner) return user.username;
  return `${user.username} (carried from its controller ${owner.kind}/${shownName(owner.name)})`;
}

function newFindings(a: Assessment): Finding[] {
  if (a.existing.length === 0) return a.findings;
  const existing = new Set(a.existing);
  return a.findings.filter((_, index) => !existing.has(index));
}
