// The first, pure half of an admission decision: what the request is and what the engine found in it,
// without the policies or anything that needs I/O. It holds no object, only findings and metadata, so
// it can be computed in a worker thread for a heavy review and handed back to the main thread.

import { API_GROUP, KIND } from "../api/index.ts";
import { workloadKind } from "../api/workload-kinds.ts";
import { LAST_APPLIED, MAX_HITS_PER_VALUE, shownName, valueAt } from "../engine/index.ts";
import type { InventoryContext, RegisteredApi } from "../engine/rules/unregistered-ai-api.ts";
import type { Evaluate, Evaluation, EvaluationContext, Finding } from "../engine/types.ts";
import type { Labels } from "../kube/label-selector.ts";
import { isRecord, pathValue } from "../kube/objects.ts";
import type { AdmissionRequest } from "./admission-review.ts";
import type { AdmissionConfig } from "./config.ts";
import type { Subject } from "./messages.ts";
import { type ControllerOwner, controllerOwner } from "./owner-exemptions.ts";
import { podTemplateLabels } from "./policies.ts";
import { policyProblem } from "./policy-review.ts";

/**
 * Findings kept per review: enough for any refusal (it lists 20) and the metrics; an object with 15,000
 * findings costs the rest of the decision (and a worker's answer) no more than one with 1,000.
 */
export const MAX_FINDINGS_PER_REVIEW = 1_000;

/** Subresources whose body is the whole object and can add containers: reviewed like the object itself. */
const REVIEWED_SUBRESOURCES: ReadonlySet<string> = new Set(["ephemeralcontainers"]);

export interface Assessment {
  subject: Subject;
  /** Why it is admitted without review; nothing else is set then. */
  skipped?: string;
  /** For an AiApiPolicy: why its CRD schema could not refuse it, if it must be refused. */
  policyProblem?: string;
  /** Whether the object is an AiApiPolicy (checked, not scanned). */
  policy?: boolean;
  labels: Labels;
  /** The object's controller owner: an exemption it carries may come from that owner (owner-exemptions.ts). */
  owner?: ControllerOwner;
  /** The findings of the object the request would store, the first MAX_FINDINGS_PER_REVIEW of them. */
  findings: Finding[];
  /** How many findings there were before the cap, when there were more. */
  uncounted?: number;
  /**
   * On UPDATE, which findings (by index into `findings`) the old object had already: they are admitted
   * with a warning (Kyverno's "allow existing violations"), not refused.
   */
  existing: number[];
  /** Why (part of) the object could not be read; a missing or mistyped object is one. */
  unreadable?: string;
  /** The old object could not be read for the same reason. */
  unreadableExisting?: boolean;
  /** ConfigMaps the workload reads that were not followed at admission (past the lookups' bound). */
  configMapsNotFollowed?: number;
  /** Entries of an exemption annotation over a finding that name no rule: said, since they exempt nothing. */
  unknownExemptions?: string[];
}

/** What a review is judged against besides the object itself. */
export interface ReviewScope {
  /** The policies: an AI API that none with its endpoint selects is an `unregistered-ai-api` finding. */
  policies: readonly RegisteredApi[];
  /** Every policy's endpoint host: a plaintext URL to one is a finding. */
  hosts: readonly string[];
  /** The cluster's namespaces, once listed: `http://<service>.<namespace>` is in-cluster exactly when it names one. */
  namespaces?: ReadonlySet<string>;
  /** The ConfigMaps the reviewed workload reads, fetched before the review (see lookups.ts). */
  configMaps?: InventoryContext["configMap"];
  /** How many more it reads, past the lookups' bound a review: not followed at admission. */
  configMapsNotFollowed?: number;
}

export interface AssessInput {
  request: AdmissionRequest;
  config: AdmissionConfig;
  evaluate: Evaluate;
  scope: ReviewScope;
  now?: Date;
}

export function isReviewedKind(kind: AdmissionRequest["kind"]): boolean {
  return workloadKind(kind.group, kind.kind) !== undefined;
}

export function isPolicyKind(kind: AdmissionRequest["kind"]): boolean {
  return kind.group === API_GROUP && kind.kind === KIND;
}

export function assess({ request, config, evaluate, scope, now }: AssessInput): Assessment {
  const subject = subjectOf(request);
  const none = { subject, labels: {}, findings: [], existing: [] };
  const skipped = whySkipped(request, config);
  if (skipped) return { ...none, skipped };
  const shape = shapeProblem(request.object, request.kind);
  if (shape) return { ...none, unreadable: shape };
  if (isPolicyKind(request.kind)) {
    const problem = policyProblem(request.object, now ?? new Date());
    return { ...none, policy: true, ...(problem && { policyProblem: problem }) };
  }
  const labels = podTemplateLabels(request.kind, request.object);
  const context: EvaluationContext = {
    policyEndpointHosts: scope.hosts,
    ...(scope.namespaces && { clusterNamespaces: scope.namespaces }),
    inventory: { policies: scope.policies, ...(scope.configMaps && { configMap: scope.configMaps }) },
  };
  const previousAppliedCopy = request.operation === "UPDATE" ? appliedCopy(request.oldObject) : undefined;
  const evaluation = safeEvaluate(evaluate, request.object, {
    ...context,
    ...(previousAppliedCopy !== undefined && { previousAppliedCopy }),
  });
  // The old object is read only when the new one has something to refuse: a clean UPDATE costs one evaluation.
  const clean = evaluation.unreadable === undefined && evaluation.findings.length === 0;
  const update =
    request.operation === "UPDATE" && !clean && isRecord(request.oldObject)
      ? newFirst(evaluation, request.object, request.oldObject, evaluate, context)
      : undefined;
  const findings = (update?.findings ?? evaluation.findings).slice(0, MAX_FINDINGS_PER_REVIEW);
  const existing = update
    ? Array.from({ length: Math.max(0, findings.length - update.added) }, (_, i) => update.added + i)
    : [];
  const assessment: Assessment = { subject, labels, findings, existing };
  if (scope.configMapsNotFollowed) assessment.configMapsNotFollowed = scope.configMapsNotFollowed;
  const owner = controllerOwner(request.object);
  if (owner) assessment.owner = owner;
  if (evaluation.findings.length > findings.length) assessment.uncounted = evaluation.findings.length - findings.length;
  if (evaluation.unreadable !== undefined) assessment.unreadable = evaluation.unreadable;
  if (evaluation.unknownExemptions) assessment.unknownExemptions = evaluation.unknownExemptions;
  if (update?.unreadableExisting) assessment.unreadableExisting = true;
  return assessment;
}

/**
 * An UPDATE's findings, those the old object did not have first: past the cap, a key added to a legacy object
 * with a thousand would be neither refused nor seen. `added`: how many are new.
 */
function newFirst(
  evaluation: Evaluation,
  object: unknown,
  oldObject: Record<string, unknown>,
  evaluate: Evaluate,
  context: EvaluationContext,
): { findings: Finding[]; added: number; unreadableExisting: boolean } {
  const old = safeEvaluate(evaluate, oldObject, context);
  const had = new Set(old.findings.map(identity));
  const grown = cappedAndChanged(evaluation.findings, object, oldObject);
  const added: Finding[] = [];
  const kept: Finding[] = [];
  for (const finding of evaluation.findings)
    (had.has(identity(finding)) && !grown.has(finding.path) ? kept : added).push(finding);
  const unreadableExisting = evaluation.unreadable !== undefined && old.unreadable === evaluation.unreadable;
  return { findings: [...added, ...kept], added: added.length, unreadableExisting };
}

/**
 * The paths of values that changed and are reported by as many findings as one value shows: what was
 * added to such a value may lie past them, so its findings are not taken for the old object's (a key
 * appended to a legacy file of passwords would otherwise pass as one of them).
 */
function cappedAndChanged(findings: readonly Finding[], object: unknown, oldObject: unknown): Set<string> {
  const perValue = new Map<string, number>();
  for (const f of findings) perValue.set(f.path, (perValue.get(f.path) ?? 0) + 1);
  const grown = new Set<string>();
  for (const f of findings) {
    if ((perValue.get(f.path) ?? 0) < MAX_HITS_PER_VALUE || grown.has(f.path)) continue;
    if (valueAt(object, f.pathSegments) !== valueAt(oldObject, f.pathSegments)) grown.add(f.path);
  }
  return grown;
}

/** kubectl's last-applied-configuration of an object, if it has one. */
function appliedCopy(object: unknown): string | undefined {
  const copy = valueAt(object, ["metadata", "annotations", LAST_APPLIED]);
  return typeof copy === "string" ? copy : undefined;
}

/**
 * What makes two findings the same one across an UPDATE: the rule, the container and where in it (the
 * message names the env var, key or argument), and the redacted hint. Not the JSON path: inserting an
 * env var above would shift every index and turn old findings into new ones.
 */
function identity(f: Finding): string {
  return `${f.rule}\u0000${f.container ?? ""}\u0000${f.message}\u0000${f.hint}`;
}

/** Why the webhook admits a request without reading it (an operation, kind or namespace it does not review). */
export function whySkipped(request: AdmissionRequest, config: AdmissionConfig): string | undefined {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return `operation ${request.operation}`;
  if (request.subResource && !REVIEWED_SUBRESOURCES.has(request.subResource))
    return `subresource ${request.subResource}`;
  if (!isReviewedKind(request.kind) && !isPolicyKind(request.kind)) return "kind not reviewed";
  if (config.exemptNamespaces.includes(request.namespace ?? "")) return "exempt namespace";
  return undefined;
}

/** The object must be what request.kind says: a review that carries something else is not one to admit. */
function shapeProblem(object: unknown, kind: AdmissionRequest["kind"]): string | undefined {
  if (object === undefined || object === null) return "the review carries no object";
  if (!isRecord(object)) return "the review's object is not an object";
  if (typeof object.kind !== "string" || object.kind === "") return "the review's object has no kind";
  if (object.kind !== kind.kind) return `the review's object is a ${object.kind.slice(0, 63)}, not a ${kind.kind}`;
  return undefined;
}

/**
 * The engine's findings, the AI APIs no policy registers among them. The engine promises not to throw;
 * if it does, the object counts as unreadable (fail closed under Deny).
 */
function safeEvaluate(evaluate: Evaluate, object: unknown, context: EvaluationContext): Evaluation {
  try {
    return evaluate(object, context);
  } catch (error) {
    // Only the error's class: an engine's message could quote the value it choked on.
    const name = error instanceof Error ? error.name : "error";
    return { findings: [], unreadable: `the rules engine failed on it (${name})` };
  }
}

/** The name the messages use: the request's, else the object's, else its generateName prefix. */
export function subjectOf(request: AdmissionRequest): Subject {
  const metadataName = pathValue(request.object, ["metadata", "name"]);
  const generateName = pathValue(request.object, ["metadata", "generateName"]);
  const name =
    request.name ||
    (typeof metadataName === "string" && metadataName) ||
    (typeof generateName === "string" && `${generateName}*`) ||
    "(unnamed)";
  // The object's own fields are not bounded by the envelope's schema: Kubernetes names stop at 253.
  const written = name.slice(0, 253);
  // An object named with a key (a DeepSeek key is a valid name, and its ReplicaSets' and Pods' names start
  // with it, though they have no finding of their own): messages, log lines and Events show its hint.
  const shown = shownName(written);
  const subject = { kind: request.kind.kind, namespace: request.namespace ?? "", name: shown };
  return shown === written ? subject : { ...subject, nameHoldsKey: true };
}
