// The rules engine's contract with its adapters (webhook, controller audit, CLI). The engine is pure:
// objects in, findings out; no I/O, no clock except where a rule needs "now" passed in.

import type { InventoryContext } from "./rules/unregistered-ai-api.ts";

export type RuleId =
  | "hardcoded-secret"
  | "credentials-in-url"
  | "plaintext-endpoint"
  | "long-lived-token"
  | "unregistered-ai-api";

/** How PRODUCT.md groups the rules for reports: every credential rule is a hardcoded-secret. */
export type Category = "hardcoded-secret" | "plaintext-endpoint" | "inventory";

export type Severity = "critical" | "high" | "medium" | "low";

export type PathSegment = string | number;

export interface Finding {
  rule: RuleId;
  category: Category;
  severity: Severity;
  /** "Kind/namespace/name", namespace empty when the object has none; both as shown (a key by its hint). */
  resource: string;
  kind: string;
  /** As written: the audit writes its Report there. Outputs show it as shownName does. */
  namespace: string;
  /** As shown: a name that holds a key (a DeepSeek key is a valid name) is its hint, here and in `resource`. */
  name: string;
  /** The container the value belongs to; absent for ConfigMap data. */
  container?: string;
  /** The volume the value belongs to (a CSI attribute, a flexVolume option, a gitRepo URL), as shownName shows it. */
  volume?: string;
  /** JSON path of the offending value, e.g. "spec.template.spec.containers[0].env[2].value". */
  path: string;
  /** The same path as segments, for mapping back to a line in a YAML source. */
  pathSegments: PathSegment[];
  /** e.g. "OpenAI API key"; absent for generic findings. */
  provider?: string;
  /** Redacted hint of the value: at most the provider and the last 4 characters. Never the value. */
  hint: string;
  /** One line that says what was found, where; redacted. */
  message: string;
  /** What to do instead, in one or two sentences. */
  fix: string;
  /** True when the object exempts itself from this rule (annotation aiapiguard.dev/exempt): reported, not enforced. */
  exempt: boolean;
}

export interface EvaluationContext {
  /** Hosts of every AiApiPolicy endpoint: a plaintext URL to one is always a finding, in-cluster or not. */
  policyEndpointHosts?: readonly string[];
  /**
   * Namespaces the cluster has (the webhook knows them): `http://<service>.<namespace>` is in-cluster
   * exactly when the second label is one of them. Without it, a second label that is not a public
   * suffix counts as a namespace.
   */
  clusterNamespaces?: ReadonlySet<string>;
  /** The kubelet's --cluster-domain; defaults to cluster.local. */
  clusterDomain?: string;
  /** "Now", for token lifetimes; defaults to the current time. */
  now?: Date;
  /**
   * The policies (and ConfigMaps) unregistered-ai-api reads: when given, its findings come with the others
   * from the same walk of the object. Without it the rule does not run (callers may run it on its own).
   */
  inventory?: InventoryContext;
  /**
   * On UPDATE, the old object's kubectl last-applied-configuration. When the object still holds the same text
   * it is not read again: it was judged when it was written (a finding in it would be an existing one), and
   * reading a copy costs as much as reading the object.
   */
  previousAppliedCopy?: string;
}

export interface Evaluation {
  findings: Finding[];
  /** Set when the object (or part of it) could not be read as the kind it claims: adapters fail closed on it. */
  unreadable?: string;
  /** Where the (first) unreadable part sits: the field of the wrong type, or the object it is in. */
  unreadablePath?: PathSegment[];
  /** What an exemption annotation over a finding names that is no rule id (`plaintext-endpoints`): it exempts nothing. */
  unknownExemptions?: string[];
}

export type Evaluate = (object: unknown, context?: EvaluationContext) => Evaluation;

export const EXEMPT_ANNOTATION = "aiapiguard.dev/exempt";
