// The rules engine: any JSON value in, findings out. Pure and synchronous; it never throws: an
// object that claims a reviewed kind but cannot be read as one comes back as `unreadable`.

import { FREE_TEXT_CREDENTIAL } from "./assignments.ts";
import {
  type Candidate,
  type CopyOptions,
  candidatePath,
  containerEnv,
  extractCandidates,
  isReviewedKind,
} from "./extract.ts";
import { keywordScreen } from "./keyword-screen.ts";
import { describeField, located } from "./location.ts";
import { CREDENTIAL_SUBSTRING, classifyName } from "./names.ts";
import { formatPath, isRecord, type Json, Unreadable } from "./objects.ts";
import { RULES } from "./rules/catalog.ts";
import { credentialsInUrls } from "./rules/credentials-in-url.ts";
import { hardcodedSecrets, SECRET_KEYWORDS } from "./rules/hardcoded-secret.ts";
import { type Hit, MAX_HITS_PER_VALUE } from "./rules/hit.ts";
import { longLivedTokens } from "./rules/long-lived-token.ts";
import { type Cluster, plaintextEndpoints } from "./rules/plaintext-endpoint.ts";
import { ANY_FORMAT_KEYWORD } from "./rules/secret-formats.ts";
import { type InventoryContext, namesHost, unregisteredAiApis } from "./rules/unregistered-ai-api.ts";
import { type FoundUrl, mayHoldUrl, URL_MARKERS, urlsIn } from "./rules/urls.ts";
import { shownName, shownPath, shownResource } from "./shown.ts";
import { type Evaluate, EXEMPT_ANNOTATION, type Finding, type PathSegment, type RuleId } from "./types.ts";

export { LAST_APPLIED } from "./extract.ts";
export { describeOwner, ownerOf } from "./location.ts";
export { valueAt } from "./objects.ts";
export { RULES } from "./rules/catalog.ts";
export { MAX_HITS_PER_VALUE } from "./rules/hit.ts";
export { shownName, shownResource, shownRow } from "./shown.ts";
export * from "./types.ts";

/** A List of Lists is legal but never deep; the bound keeps a hostile body from recursing forever. */
const MAX_LIST_DEPTH = 4;

export const evaluate: Evaluate = (object, context = {}) => {
  const findings: Finding[] = [];
  const settings: Settings = {
    policyHosts: hostSet(context.policyEndpointHosts ?? []),
    cluster: {
      namespaces: context.clusterNamespaces,
      domain: (context.clusterDomain ?? "cluster.local").toLowerCase(),
    },
    now: () => context.now ?? new Date(),
    ...(context.inventory && { inventory: context.inventory }),
    // kubectl's copy is read for what it exposes: a host or URL only there is not one the workload calls.
    copy: { keep: mayHit, previous: context.previousAppliedCopy },
  };
  const problem = visit(object, [], 0, settings, findings);
  const unknown = settings.unknownExemptions ? { unknownExemptions: [...settings.unknownExemptions] } : {};
  return problem
    ? { findings, unreadable: problem.message, unreadablePath: problem.path, ...unknown }
    : { findings, ...unknown };
};

/** Why (part of) an object cannot be read, and where. */
type Problem = { message: string; path: PathSegment[] };

const NO_HOSTS: ReadonlySet<string> = new Set();

/** Hosts are compared in lower case; the webhook hands the same list until its policies change, so this is small. */
function hostSet(list: readonly string[]): ReadonlySet<string> {
  return list.length === 0 ? NO_HOSTS : new Set(list.map((host) => host.toLowerCase()));
}

type Settings = {
  policyHosts: ReadonlySet<string>;
  cluster: Cluster;
  now: () => Date;
  inventory?: InventoryContext;
  copy: CopyOptions;
  /** Entries of an exemption annotation over a finding that name no rule (a typo exempts nothing): made at the first. */
  unknownExemptions?: Set<string>;
};

function visit(
  object: unknown,
  prefix: PathSegment[],
  depth: number,
  settings: Settings,
  out: Finding[],
): Problem | undefined {
  if (!isRecord(object) || typeof object.kind !== "string") return undefined;
  const kind = object.kind;
  if (kind === "List" || (kind.endsWith("List") && "items" in object)) {
    const items = [...prefix, "items"];
    if (!Array.isArray(object.items)) return { message: `${kind}: ${formatPath(items)} is not a list`, path: items };
    if (depth >= MAX_LIST_DEPTH)
      return { message: `${kind}: Lists nested more than ${MAX_LIST_DEPTH} deep`, path: prefix };
    const problems = object.items
      .map((item, i) => visit(item, [...items, i], depth + 1, settings, out))
      .filter((problem) => problem !== undefined);
    const [first] = problems;
    return first && { message: problems.map((p) => p.message).join("; "), path: first.path };
  }
  // No list of kinds: whatever holds a container is read, wherever it holds it.
  if (!isReviewedKind(kind, object.apiVersion)) return undefined;
  const resource = describeResource(object, kind);
  const candidates: Candidate[] = [];
  let problem: Problem | undefined;
  const { inventory } = settings;
  // Fail closed with a reason rather than throw on the admission path.
  try {
    // One walk for every rule: unregistered-ai-api reads the values that name a host.
    extractCandidates(object, kind, prefix, candidates, inventory ? mayHitOrNamesHost : mayHit, settings.copy);
  } catch (error) {
    problem = describeError(error, prefix);
  }
  try {
    for (const candidate of candidates) {
      if (!inventory || mayHit(candidate.value, candidate.name)) findingsFor(candidate, resource, settings, out);
    }
    if (inventory) {
      // A host only kubectl's copy names is not called; most objects have nothing from it, and keep the list.
      const called = candidates.some((c) => c.applied) ? candidates.filter((c) => !c.applied) : candidates;
      out.push(...unregisteredAiApis(object, inventory, prefix, called));
    }
  } catch (error) {
    problem ??= describeError(error, prefix);
  }
  return problem && { message: `${resource.resource}: ${problem.message}`, path: problem.path };
}

function describeError(error: unknown, objectPath: PathSegment[]): Problem {
  if (error instanceof Unreadable)
    return { message: error.message, path: error.path.length > 0 ? [...error.path] : objectPath };
  // Only the class of an unexpected error: its message could quote the value it failed on.
  return { message: `cannot be evaluated (${error instanceof Error ? error.name : "error"})`, path: objectPath };
}

type Resource = Pick<Finding, "resource" | "kind" | "namespace" | "name">;

/** The object as its findings name it: a name can be a key (a DeepSeek key is a valid name), shown by its hint. */
function describeResource(object: Json, kind: string): Resource {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "";
  const name = shownName(typeof metadata.name === "string" ? metadata.name : "");
  return { resource: shownResource(kind, namespace, name), kind, namespace, name };
}

// Every rule needs one of these in the lowercased value, or a credential-like name: a format keyword
// (JWTs' "eyj" included), a word an assignment's credential name contains ("bearer" included), a
// free-text form that carries no such word (curl -u user:pass, rootpw), a URL, or a $(VAR) reference.
const ANY_RULE_KEYWORD = new RegExp(
  `${ANY_FORMAT_KEYWORD.source}|${CREDENTIAL_SUBSTRING.source}|${FREE_TEXT_CREDENTIAL.source}`,
);
const REFERENCE = "$(";
const ANY_RULE_SCREEN = keywordScreen([...SECRET_KEYWORDS, ...URL_MARKERS, REFERENCE]);

/**
 * False only for a value no rule can report: most values of a workload, left out at extraction
 * without running the rules.
 */
function mayHit(value: string, name: string | undefined): boolean {
  if (classifyName(name) !== "other") return true;
  if (!ANY_RULE_SCREEN(value)) return false;
  return mayHoldUrl(value) || value.includes(REFERENCE) || ANY_RULE_KEYWORD.test(value.toLowerCase());
}

function mayHitOrNamesHost(value: string, name: string | undefined): boolean {
  return namesHost(value) || mayHit(value, name);
}

function findingsFor(candidate: Candidate, resource: Resource, settings: Settings, out: Finding[]): void {
  if (candidate.value.trim() === "") return;
  const lower = candidate.value.toLowerCase();
  const urls = urlsIn(candidate.value);
  // The value as the container gets it, worked out once for the rules that read it so.
  const expansion = candidate.value.includes("$(") ? expanded(candidate) : undefined;
  const hits: Hit[] = [
    ...hardcodedSecrets(candidate, lower),
    ...composedSecrets(candidate, expansion),
    ...credentialsInUrls(urls, candidate.field),
    ...(candidate.applied
      ? []
      : plaintextEndpoints(
          candidate,
          endpointUrls(candidate, urls, expansion),
          settings.policyHosts,
          settings.cluster,
        )),
    ...longLivedTokens(candidate, lower, settings.now),
  ].slice(0, MAX_HITS_PER_VALUE);
  if (hits.length === 0) return;
  const exempt = exemptRules(candidate, settings);
  // A container's name can be a key (a DeepSeek key is a DNS label): shown by its hint, once for every hit.
  const container = candidate.container === undefined ? undefined : shownName(candidate.container);
  // A volume's name can be a key too.
  const volume = candidate.volume === undefined ? undefined : shownName(candidate.volume);
  const where = located({ container, volume }, describeField(candidate));
  const segments = candidatePath(candidate);
  const path = shownPath(segments);
  for (const hit of hits)
    out.push({
      rule: hit.rule,
      category: RULES[hit.rule].category,
      severity: hit.severity,
      ...resource,
      ...(container === undefined ? {} : { container }),
      ...(volume === undefined ? {} : { volume }),
      path,
      pathSegments: segments,
      ...(hit.provider === undefined ? {} : { provider: hit.provider }),
      hint: hit.hint,
      message: `${where}: ${hit.what}`,
      fix: candidate.applied ? `${APPLIED_FIX} ${hit.fix ?? RULES[hit.rule].fix}` : (hit.fix ?? RULES[hit.rule].fix),
      exempt: exempt.has(hit.rule),
    });
}

/** What a finding in kubectl's copy of the object takes besides its own fix. */
const APPLIED_FIX =
  "It is in kubectl's last-applied-configuration, which keeps what was applied (fields the API server dropped included): take it out of the manifest and kubectl apply it again, or remove the annotation.";

// `http://$(HOST):8080` is as plaintext as the literal host it expands to, from the same container's env.
function endpointUrls(candidate: Candidate, urls: FoundUrl[], expansion: Expansion | undefined): FoundUrl[] {
  return expansion && candidate.value.includes("://$(") ? urlsIn(expansion.value) : urls;
}

// What the kubelet does to `$(VAR)` in env values, command and args: `$$` is a literal `$`, and a
// reference to no literal var (valueFrom, or none at all) stays as written.
const EXPANSION = /\$\$|\$\(([A-Za-z_][\w.-]{0,253})\)/g;

// A key or a host is short: a hostile value that references a 1 MB var a thousand times is expanded
// only this far (the rest stays as written), so one value can neither exhaust memory nor time.
const MAX_EXPANSIONS = 16;
const MAX_EXPANDED_CHARACTERS = 16 * 1024;

interface Expansion {
  value: string;
  /** The literal env vars it takes in. */
  parts: { name: string; value: string }[];
}

/** The value as the container gets it, with the literal env vars it takes in. */
function expanded(candidate: Candidate): Expansion {
  const env = containerEnv(candidate);
  const parts: { name: string; value: string }[] = [];
  let added = 0;
  const value = candidate.value.replace(EXPANSION, (reference, name: string | undefined) => {
    if (name === undefined) return "$";
    const literal = env.get(name);
    if (literal === undefined || parts.length >= MAX_EXPANSIONS || added + literal.length > MAX_EXPANDED_CHARACTERS)
      return reference;
    added += literal.length;
    parts.push({ name, value: literal });
    return literal;
  });
  return { value, parts };
}

/**
 * A key the kubelet assembles from literal env vars (`$(PART_A)$(PART_B)`), reported where it is
 * assembled. A key that one var holds whole is reported where that var is written, not again here.
 */
function composedSecrets(candidate: Candidate, expansion: Expansion | undefined): Hit[] {
  if (!expansion || expansion.parts.length === 0) return [];
  const { value, parts } = expansion;
  const secrets: string[] = [];
  const hits = hardcodedSecrets({ ...candidate, value }, value.toLowerCase(), secrets);
  if (hits.length === 0) return hits;
  // The secrets each var reports under its own name, and this value as written: compared by the
  // secret, as `--password=$(DB_PASSWORD)` reports DB_PASSWORD's under the name "password".
  const seen = new Set(
    [{ name: candidate.name, value: candidate.value }, ...parts].flatMap(({ name, value }) => {
      const reported: string[] = [];
      hardcodedSecrets({ ...candidate, name, value }, value.toLowerCase(), reported);
      return reported;
    }),
  );
  return hits
    .filter((_, i) => !seen.has(secrets[i] ?? ""))
    .map((hit) => ({ ...hit, what: `${hit.what}, assembled from $(VAR) references` }));
}

/** Bounds what a hostile annotation can add to a refusal. */
const MAX_UNKNOWN_EXEMPTIONS = 8;

/** The set is made at the first unknown entry: most evaluations never meet one. */
function unknownExemption(settings: Settings, entry: string): void {
  settings.unknownExemptions ??= new Set();
  if (settings.unknownExemptions.size < MAX_UNKNOWN_EXEMPTIONS) settings.unknownExemptions.add(entry);
}

function exemptRules(candidate: Candidate, settings: Settings): Set<RuleId> {
  const ids = new Set<RuleId>();
  for (const annotations of candidate.annotations) {
    const value = annotations[EXEMPT_ANNOTATION];
    if (typeof value !== "string") continue;
    for (const id of value.split(",")) {
      const trimmed = id.trim();
      if (Object.hasOwn(RULES, trimmed)) ids.add(trimmed as RuleId);
      else if (trimmed !== "") unknownExemption(settings, trimmed);
    }
  }
  return ids;
}
