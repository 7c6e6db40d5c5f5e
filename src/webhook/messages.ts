// What a developer reads: the refusal kubectl prints after `admission webhook "..." denied the
// request: `, the `Warning:` lines, and the Event message. Built only from the engine's redacted
// fields (rule, container, path, hint, fix), never from the object's values.
import { describeOwner, ownerOf, RULES, shownName } from "../engine/index.ts";
import { EXEMPT_ANNOTATION, type Finding } from "../engine/types.ts";
import type { Governance } from "./policies.ts";

/** The object under review, as the messages name it. */
export interface Subject {
  kind: string;
  /** As written: policies are looked up by it. Messages show it as shownName does. */
  namespace: string;
  /** As messages show it: a name that holds a key is shown by its hint (see assess). */
  name: string;
  /** The object's own name holds a key: no Event names it (an Event keeps the name it is about). */
  nameHoldsKey?: true;
}

/** kubectl shows longer warnings, but the API server may cut them; PRODUCT.md asks for under 120. */
export const MAX_WARNING_LENGTH = 119;

/** A refusal lists this many findings; the rest are counted (15,000 findings made a 3.5 MB refusal). */
export const MAX_REPORTED_FINDINGS = 20;
/** At most this many warnings per response; the last says how many more there were. */
export const MAX_WARNINGS = 10;
/** Ends a capped list: the developer fixes the manifest in one try only if they can see every finding. */
const LIST_THEM_ALL = ": `ai-api-guard scan FILE` lists them all";

/** First line: the object, the count and where the action came from; then one line per finding, up to a cap. */
export function findingsReport(
  subject: Subject,
  governance: Governance,
  findings: readonly Finding[],
  uncounted = 0,
): string {
  const total = findings.length + uncounted;
  const count = total === 1 ? "1 finding" : `${total} findings`;
  const header = `${describe(subject)} has ${count} (${actionSource(governance)}):`;
  const shown = findings.slice(0, MAX_REPORTED_FINDINGS).map(findingLine);
  const more = total - shown.length;
  const rest = more > 0 ? [`- and ${more} more finding${more === 1 ? "" : "s"} not listed here${LIST_THEM_ALL}`] : [];
  return [header, ...shown, ...rest].join("\n");
}

/** Exemption annotations on new findings that the requester may not grant are not honoured: say why and how. */
export function exemptionRefusedLine(user: string, namespace: string): string {
  // A cluster-scoped object's exemption is asked for in every namespace: a ClusterRoleBinding grants that.
  const [where, there] =
    namespace === ""
      ? ["cluster-wide", "in a ClusterRole bound by a ClusterRoleBinding"]
      : [`in namespace ${shownName(namespace)}`, "there"];
  return (
    `- the ${EXEMPT_ANNOTATION} annotation was not honoured: ${shownUser(user)} may not grant exemptions ${where} ` +
    `(it needs the RBAC verb "exempt" on aiapipolicies.aiapiguard.dev ${there}).`
  );
}

/** Only what looks like a misspelt rule id is quoted back: the annotation is free text. */
const LIKE_A_RULE_ID = /^[a-z][a-z0-9-]{0,62}$/;

/** An exemption that names no rule exempts nothing: say so, or the developer believes it took. */
export function unknownExemptionLine(entries: readonly string[]): string {
  return (
    `- the ${EXEMPT_ANNOTATION} annotation names no rule in ${unknownEntries(entries)}: it exempts nothing there ` +
    `(rule ids: ${Object.keys(RULES).join(", ")}).`
  );
}

export function unknownExemptionWarning(entries: readonly string[]): string {
  return clip(`${EXEMPT_ANNOTATION} names no rule in ${unknownEntries(entries)}`, ": it exempts nothing there");
}

function unknownEntries(entries: readonly string[]): string {
  const quoted = entries.filter((entry) => LIKE_A_RULE_ID.test(entry)).map((entry) => `"${entry}"`);
  const others = entries.length - quoted.length;
  return [...quoted, ...(others > 0 ? [`${others} other entr${others === 1 ? "y" : "ies"}`] : [])].join(", ");
}

/** Findings the old object already had, admitted on UPDATE: recorded, refused only once they are new. */
export function existingReport(subject: Subject, findings: readonly Finding[]): string {
  const count = findings.length === 1 ? "1 finding" : `${findings.length} findings`;
  const header = `${describe(subject)} was updated with ${count} it already had (admitted; fix them):`;
  const shown = findings.slice(0, MAX_REPORTED_FINDINGS).map(findingLine);
  const more = findings.length - shown.length;
  return [header, ...shown, ...(more > 0 ? [`- and ${more} more not listed here${LIST_THEM_ALL}`] : [])].join("\n");
}

/** Exemptions honoured: who granted them is in the log line; the Event names the findings. */
export function exemptionReport(subject: Subject, user: string, findings: readonly Finding[]): string {
  const header = `${describe(subject)}: ${findings.length} finding(s) exempted by annotation ${EXEMPT_ANNOTATION}, granted to ${shownUser(user)}:`;
  return [header, ...findings.slice(0, MAX_REPORTED_FINDINGS).map(findingLine)].join("\n");
}

export function existingWarning(subject: Subject, finding: Finding): string {
  return warningLine(subject, finding, " (already there: admitted, fix it)");
}

/** Caps a list of warnings, the last saying how many were left out. */
export function capWarnings(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  const kept = warnings.slice(0, MAX_WARNINGS - 1);
  return [...kept, `ai-api-guard: ${warnings.length - kept.length} more warnings not shown${LIST_THEM_ALL}`];
}

/** An object that could not be read: why, and what to do (under Deny it is refused: fail closed). */
export function unreadableReport(subject: Subject, governance: Governance, reason: string): string {
  return (
    `${describe(subject)} could not be read (${reason}), so it could not be checked for secrets ` +
    `(${actionSource(governance)}). Fix: make it a valid ${subject.kind} and apply it again.`
  );
}

export function findingWarning(subject: Subject, finding: Finding): string {
  return warningLine(subject, finding, ` (${finding.hint})`);
}

export function exemptionWarning(subject: Subject, finding: Finding): string {
  return warningLine(subject, finding, ` exempted by annotation ${EXEMPT_ANNOTATION}`);
}

export function configMapsNotFollowedWarning(subject: Subject, count: number): string {
  const them = count === 1 ? "1 more ConfigMap" : `${count} more ConfigMaps`;
  return clip(
    `ai-api-guard did not read ${them} ${subject.kind}/${subject.name} reads at admission`,
    ": the audit reads them",
  );
}

export function unreadableWarning(subject: Subject, reason: string): string {
  return clip(`ai-api-guard could not read ${subject.kind}/${subject.name}: ${reason}`, "");
}

function findingLine(finding: Finding): string {
  const fix = finding.fix.replace(/\.\s*$/, "");
  return `- ${finding.rule} ${where(finding)}: ${finding.hint}. Fix: ${fix}.`;
}

/**
 * "hardcoded-secret: Deployment/summarizer container app env[0].value" + tail, within MAX_WARNING_LENGTH.
 * Long names give way first, the object's then the container's (or volume's): the field and the verdict are
 * what the developer acts on (cutting the end hid them behind a 65-character Pod name).
 */
function warningLine(subject: Subject, finding: Finding, tail: string): string {
  const owner = ownerOf(finding);
  const field = owner === undefined ? shortPath(finding.path) : finding.path.replace(OWNER_PREFIX[owner.role], "");
  const head = (name: string, ownerName: string | undefined) =>
    `${finding.rule}: ${subject.kind}/${name} ${owner === undefined ? "" : `${owner.role} ${ownerName} `}${field}`;
  const over = (name: string, ownerName: string | undefined) =>
    head(name, ownerName).length + tail.length - MAX_WARNING_LENGTH;
  const name = shorten(subject.name, subject.name.length - over(subject.name, owner?.name));
  const ownerName = owner && shorten(owner.name, owner.name.length - over(name, owner.name));
  return clip(head(name, ownerName), tail);
}

/** The path up to the container or volume a warning names already: "spec.template.spec.volumes[1]." */
const OWNER_PREFIX = { container: /^.*?[cC]ontainers\[\d+\]\.?/, volume: /^.*?\bvolumes\[\d+\]\.?/ };

/** Names shorter than this say too little to find the object or container: the field gives way after them. */
const MIN_NAME = 12;

/** "quarterly-financial-re..." when text is over length, but never shorter than MIN_NAME. */
function shorten(text: string, length: number): string {
  const fit = Math.max(length, MIN_NAME);
  return text.length <= fit ? text : `${text.slice(0, fit - 3)}...`;
}

function where(finding: Finding): string {
  const owner = describeOwner(finding);
  return owner === undefined ? `at ${finding.path}` : `in ${owner} at ${finding.path}`;
}

function actionSource({ action, policy, raisedFrom, setting }: Governance): string {
  if (setting) return `action ${action} from ${setting}`;
  if (!policy) return `default action ${action}`;
  const from = `AiApiPolicy ${shownName(policy.namespace)}/${shownName(policy.name)}`;
  if (!raisedFrom) return `action ${action} from ${from}`;
  return `action ${action}: ${from} asks for ${raisedFrom}, below the action floor ${action} (a cluster admin may lower it with the namespace label aiapiguard.dev/action-floor)`;
}

/** A service account's user name holds its namespace's (system:serviceaccount:<namespace>:<name>). */
function shownUser(user: string): string {
  return shownName(user.slice(0, 253));
}

/** "Deployment shop/summarizer"; a cluster-scoped object has no namespace: "ClusterServingRuntime hosted-llm". */
function describe(subject: Subject): string {
  const namespace = subject.namespace === "" ? "" : `${shownName(subject.namespace)}/`;
  return `${subject.kind} ${namespace}${subject.name}`;
}

/** "spec.jobTemplate.spec.template.spec.volumes[0]" → "volumes[0]": the template prefix is noise in a warning. */
function shortPath(path: string): string {
  return path.replace(/^spec\.(?:jobTemplate\.spec\.)?(?:template\.spec\.)?/, "");
}

/** Fits head + tail within MAX_WARNING_LENGTH, shortening the head: the tail carries the verdict. */
function clip(head: string, tail: string): string {
  const room = MAX_WARNING_LENGTH - tail.length;
  if (head.length <= room) return head + tail;
  return `${head.slice(0, Math.max(0, room - 3))}...${tail}`.slice(0, MAX_WARNING_LENGTH);
}
