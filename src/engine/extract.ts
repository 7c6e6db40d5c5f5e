// Workload extraction: every literal an object carries where a value can hide, with its JSON path and
// what names it. It needs no list of kinds: any container list, wherever it sits (a Deployment's pod
// template, a RayCluster's worker groups, a KServe predictor, an Argo template's singular `container`
// or `script`), is read, and so are annotations and labels of the object and of every embedded
// template, probes, lifecycle hooks, volume fields and ConfigMap data and binaryData. Secrets are
// where secrets belong, so they are never read.
import { keywordScreen } from "./keyword-screen.ts";
import { classifyName } from "./names.ts";
import { isRecord, type Json, optionalList, optionalRecord, optionalString, Unreadable, valueAt } from "./objects.ts";
import { ANY_FORMAT_KEYWORD, FORMAT_KEYWORDS } from "./rules/secret-formats.ts";
import { mayHoldUrl } from "./rules/urls.ts";
import type { PathSegment } from "./types.ts";

export type Field =
  | "env"
  | "command"
  | "args"
  | "data"
  | "annotation"
  | "label"
  | "probe"
  | "volume"
  | "script"
  | "setting"
  | "name"
  /**
   * A field that names an object (metadata.name, generateName and namespace; a reference's name, secretName,
   * claimName, serviceAccountName...): words joined by "-", a key among them.
   */
  | "objectName";

export interface Candidate {
  value: string;
  /**
   * The JSON path of the value is `[...base, ...tail]`: the parent path is shared by every value of a
   * container (or ConfigMap), and the full path is only built for a value that has findings.
   */
  base: readonly PathSegment[];
  tail: readonly PathSegment[];
  field: Field;
  /** The env var name, ConfigMap key, annotation key, header name, or the flag an argument follows. */
  name?: string;
  container?: string;
  /** The volume's name, for a volume's field: what a refusal names, as it names a container. */
  volume?: string;
  /** Annotations that apply (the object's, plus those of each template it sits in). */
  annotations: Json[];
  /** The values of the same container (or ConfigMap): see nearAzureOpenAI. */
  group: CandidateGroup;
  /** Read in kubectl's last-applied-configuration, where the object itself does not hold it. */
  applied?: true;
}

/**
 * The values of one container (or ConfigMap) that were read to the end. Whether they mention Azure
 * OpenAI is only asked about a value that has a finding, so it is worked out then, once per group,
 * from the values themselves (those the filter left out included).
 */
export interface CandidateGroup {
  /** The container, or the ConfigMap's data. */
  source: Json;
  configMap: boolean;
  complete: boolean;
  nearAzureOpenAI?: boolean;
  /** Its literal env values by name, worked out once per group: see containerEnv. */
  env?: ReadonlyMap<string, string>;
}

/** Whether to keep a value (some rule may report it): the caller's prefilter. Every value when absent. */
export type Keep = (value: string, name: string | undefined) => boolean;

const CONTAINER_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);
/** Keys that hold one container (Argo's `container` and `script`) or a list of them (Argo's `sidecars`). */
const CONTAINER_LIKE = new Set(["container", "script", "sidecars"]);
const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const HOOKS = ["postStart", "preStop"] as const;
/** Never a value: a copy of the whole object, read where it stands. */
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const FLAG = /^--?[A-Za-z][\w.-]{0,80}$/;
const AZURE_OPENAI = /openai\.azure\.com|azure_openai/i;
/**
 * Strings outside containers and ConfigMap data (settings, annotations, labels, volume attributes): no
 * container around them to mention Azure. Shared: what it caches is the same for all of them.
 */
const NO_CONTAINER: CandidateGroup = { source: {}, configMap: false, complete: true };
/** A metadata block without annotations: nothing to apply, shared. */
const NO_ANNOTATIONS: Json = Object.freeze({});
/** An absent list, without a new array each time. */
const NO_ITEMS: readonly unknown[] = [];
/**
 * No key format is shorter: a name (of a ConfigMap key, an annotation, a label, an env var, a field) this
 * short is not read as text, which keeps reading names, most of them short, cheap.
 */
export const SHORTEST_KEY = 20;
/** Deeper than any real custom resource; bounds a hostile body. */
const MAX_DEPTH = 48;

/**
 * Objects that are never read: a Secret is where a secret belongs; a policy is checked by the webhook
 * itself; kustomize's own Kustomization never reaches the API server (`scan` reads its configMapGenerator
 * as the ConfigMaps it makes, and its secretGenerator makes Secrets).
 */
export function isReviewedKind(kind: string, apiVersion: unknown): boolean {
  if (
    kind === "Kustomization" &&
    (apiVersion === undefined || String(apiVersion).startsWith("kustomize.config.k8s.io/"))
  )
    return false;
  return kind !== "Secret" && kind !== "AiApiPolicy";
}

interface Walk {
  out: Candidate[];
  keep: Keep;
  /**
   * The path of the node being read, pushed and popped as the walk goes: copied only for what needs it (a
   * candidate kept, an error), since most nodes of an object hold nothing to report and a path object or
   * copy at each was most of the walk's cost and most of its garbage.
   */
  path: PathSegment[];
  /** Whether a container list that is no list is a wrong type: see typedContainerLists. */
  typedContainerLists: boolean;
  /** The prefilter for kubectl's last-applied copy (CopyOptions.keep). */
  copyKeep: Keep;
  /** The last-applied-configuration already judged (EvaluationContext.previousAppliedCopy): not read again. */
  previousCopy?: string;
}

/**
 * Appends the object's candidates to `out`. Throws Unreadable at the first field of the wrong type;
 * what `out` holds by then is still evaluated, so findings before an unreadable part survive it.
 */
export function extractCandidates(
  object: Json,
  kind: string,
  prefix: PathSegment[],
  out: Candidate[],
  keep: Keep = () => true,
  copy: CopyOptions = {},
): void {
  const walk: Walk = {
    out,
    keep,
    copyKeep: copy.keep ?? keep,
    path: [...prefix],
    typedContainerLists: typedContainerLists(object.apiVersion),
    ...(copy.previous !== undefined && { previousCopy: copy.previous }),
  };
  readObject(object, kind, prefix, walk, true);
}

/** How kubectl's last-applied copy is read: what it exposes, not what the workload calls (see appliedCopyCandidates). */
export interface CopyOptions {
  /** The prefilter for the copy's text and values; the object's when absent. */
  keep?: Keep;
  /** The copy already judged (EvaluationContext.previousAppliedCopy): not read again. */
  previous?: string;
}

/** `holdsCopy`: whether the object's last-applied-configuration is kubectl's copy of it, read as such. */
function readObject(object: Json, kind: string, prefix: PathSegment[], walk: Walk, holdsCopy: boolean): void {
  const annotations = metadataCandidates(object, prefix, [], walk, holdsCopy);
  if (holdsCopy) appliedCopyCandidates(object, kind, prefix, annotations, walk);
  // A custom resource that reuses the name ConfigMap is no ConfigMap: it is walked like any other.
  const configMap = kind === "ConfigMap" && (object.apiVersion === undefined || object.apiVersion === "v1");
  if (configMap) configMapCandidates(object, prefix, annotations, walk);
  for (const key in object) {
    if (key === "metadata" || key === "status" || (configMap && (key === "data" || key === "binaryData"))) continue;
    walk.path.push(key);
    visit(object[key], key, annotations, walk, 0);
    walk.path.pop();
  }
}

/**
 * Kubernetes' own workload groups (core, apps, batch) have no dot: there `containers` is always a list, and
 * anything else is a mistake worth reporting. Elsewhere `containers` may be an object (a CRD's schema: Ray's,
 * Argo's, ours), read as any other object; a scalar there is still a wrong type.
 */
function typedContainerLists(apiVersion: unknown): boolean {
  if (typeof apiVersion !== "string" || !apiVersion.includes("/")) return true;
  return !apiVersion.slice(0, apiVersion.indexOf("/")).includes(".");
}

/**
 * Reads a metadata block's annotations and labels; returns the annotations that apply below it, the block's
 * own last (empty when it has none, or no metadata). `path` is the owner's, and may be the walk's own: it is
 * copied, not kept.
 */
function metadataCandidates(
  owner: Json,
  path: readonly PathSegment[],
  applying: Json[],
  walk: Walk,
  holdsCopy = false,
): Json[] {
  const metadata = optionalRecord(owner.metadata, path, "metadata");
  if (!metadata) return [...applying, NO_ANNOTATIONS];
  const annotations = optionalRecord(metadata.annotations, path, "metadata", "annotations");
  const labels = optionalRecord(metadata.labels, path, "metadata", "labels");
  const scope = [...applying, annotations ?? NO_ANNOTATIONS];
  if (annotations) mapCandidates(annotations, "annotation", path, scope, walk, holdsCopy ? LAST_APPLIED : undefined);
  if (labels) mapCandidates(labels, "label", path, scope, walk);
  const at = { base: [...path, "metadata"], annotations: scope, group: NO_CONTAINER };
  leftoverCandidates(metadata, READ_IN_METADATA, at, walk, 0);
  const managed = Array.isArray(metadata.managedFields) ? metadata.managedFields : NO_ITEMS;
  for (let i = 0; i < managed.length; i++) {
    const entry = managed[i];
    const base = [...path, "metadata", "managedFields", i];
    if (isRecord(entry)) leftoverCandidates(entry, READ_IN_MANAGED_FIELDS, { ...at, base }, walk, 0);
  }
  return scope;
}

function mapCandidates(
  map: Json,
  field: "annotation" | "label",
  path: readonly PathSegment[],
  annotations: Json[],
  walk: Walk,
  readElsewhere?: string,
): void {
  let base: PathSegment[] | undefined;
  for (const key in map) {
    const value = map[key];
    if (readsName(key)) {
      base ??= [...path, "metadata", field === "annotation" ? "annotations" : "labels"];
      walk.out.push({ value: key, base, tail: [key], field: "name", annotations, group: NO_CONTAINER });
    }
    if (key === readElsewhere || typeof value !== "string" || !walk.keep(value, key)) continue;
    base ??= [...path, "metadata", field === "annotation" ? "annotations" : "labels"];
    walk.out.push({ value, base, tail: [key], field, name: key, annotations, group: NO_CONTAINER });
  }
}

/**
 * kubectl's last-applied-configuration is a copy of the object, whose values are read where they stand in
 * it; but the copy can hold what the object does not (a field the API server dropped as unknown under
 * `--validate=false`, a value removed since, anything written there by hand). Those values are read at
 * their place in the copy, under the object's own annotations. A copy that is no object is read as text.
 */
function appliedCopyCandidates(object: Json, kind: string, prefix: PathSegment[], annotations: Json[], walk: Walk) {
  const text = annotations.at(-1)?.[LAST_APPLIED];
  // What no rule can report in the whole text, none can in its parts (their names are in the text too).
  if (typeof text !== "string" || text === walk.previousCopy || !walk.copyKeep(text, undefined)) return;
  const copy = parsedCopy(text);
  // kubectl's own copy after a plain apply holds nothing the object does not: compared, not read (reading it
  // as an object doubled the cost of every applied object's review).
  if (copy && sameText(copy, object, 0)) return;
  const base = [...prefix, "metadata", "annotations"];
  const found: Candidate[] = [];
  if (!copy || !readCopy(copy, kind, { ...walk, keep: walk.copyKeep, out: found, path: [] })) {
    walk.out.push({
      value: text,
      base,
      tail: [LAST_APPLIED],
      field: "annotation",
      name: LAST_APPLIED,
      annotations,
      group: NO_CONTAINER,
      applied: true,
    });
    return;
  }
  for (const candidate of found) {
    const at = candidatePath(candidate);
    if (valueAt(object, at) !== valueAt(copy, at))
      walk.out.push({ ...candidate, base: [...base, LAST_APPLIED, ...candidate.base], annotations, applied: true });
  }
}

/** The copy as an object; undefined when it is no JSON object (it is read as text then). */
function parsedCopy(text: string): Json | undefined {
  try {
    const copy: unknown = JSON.parse(text);
    return isRecord(copy) ? copy : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Whether every string of the copy, and every name, stands at the same place in the object. Numbers and
 * booleans hold no key; a copy nested deeper than any object is read instead (and refused there).
 */
function sameText(copy: unknown, live: unknown, depth: number): boolean {
  if (typeof copy === "string") return copy === live;
  if (copy === null || typeof copy !== "object") return true;
  if (depth > MAX_DEPTH || live === null || typeof live !== "object") return false;
  if (Array.isArray(copy)) {
    if (!Array.isArray(live)) return false;
    for (let i = 0; i < copy.length; i++) if (!sameText(copy[i], live[i], depth + 1)) return false;
    return true;
  }
  for (const key in copy)
    if (!Object.hasOwn(live, key) || !sameText((copy as Json)[key], (live as Json)[key], depth + 1)) return false;
  return true;
}

/** Appends the copy's candidates to `walk.out`; false when it cannot be read as an object of its kind. */
function readCopy(copy: Json, kind: string, walk: Walk): boolean {
  try {
    // The copy's own copy (kubectl never writes one) is read as text, not parsed again.
    readObject(copy, kind, [], { ...walk, typedContainerLists: typedContainerLists(copy.apiVersion) }, false);
    return true;
  } catch (error) {
    if (error instanceof Unreadable) return false;
    throw error;
  }
}

function configMapCandidates(object: Json, prefix: PathSegment[], annotations: Json[], walk: Walk) {
  const group: CandidateGroup = { source: {}, configMap: true, complete: false };
  for (const field of ["data", "binaryData"] as const) {
    const base = [...prefix, field];
    const data = optionalRecord(object[field], base) ?? {};
    for (const key in data) {
      if (readsName(key)) walk.out.push({ value: key, base, tail: [key], field: "name", annotations, group });
      const raw = data[key];
      const stored = typeof raw === "string" ? raw : optionalString(raw, base, key);
      const value = field === "data" ? stored : decodedText(stored);
      if (value === undefined) continue;
      group.source[key] = value;
      if (walk.keep(value, key))
        walk.out.push({ value, base, tail: [key], field: "data", name: key, annotations, group });
    }
  }
  group.complete = true;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF16LE = new TextDecoder("utf-16le");
const UTF16BE = new TextDecoder("utf-16be");
const LATIN1 = new TextDecoder("latin1");

/**
 * binaryData that is text (a config file kept as bytes) is read as text; real binary is not. Text is
 * UTF-8, UTF-16 with its byte order mark (what Windows PowerShell writes), or else any other 8-bit
 * text without NUL bytes: a Java .properties file is ISO-8859-1, and one "é" takes it out of UTF-8.
 */
function decodedText(base64: string | undefined): string | undefined {
  if (base64 === undefined) return undefined;
  const bytes = Buffer.from(base64, "base64");
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return UTF16LE.decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return UTF16BE.decode(bytes);
  if (bytes.includes(0)) return bomlessUtf16(bytes)?.decode(bytes);
  try {
    return UTF8.decode(bytes);
  } catch {
    return LATIN1.decode(bytes);
  }
}

/**
 * UTF-16 without a byte order mark (.NET's Encoding.Unicode, iconv -t UTF-16LE): text in a Latin script
 * has a NUL as the high byte of most characters and none as the low byte. Other bytes with NULs are binary.
 */
function bomlessUtf16(bytes: Buffer): typeof UTF16LE | undefined {
  if (bytes.length % 2 !== 0) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    if (bytes[i] === 0) even++;
    if (bytes[i + 1] === 0) odd++;
  }
  const pairs = bytes.length / 2;
  if (even === 0 && odd >= pairs * 0.75) return UTF16LE;
  if (odd === 0 && even >= pairs * 0.75) return UTF16BE;
  return undefined;
}

/**
 * Looks for containers and templates anywhere below an object, without knowing its kind. `walk.path` is the
 * node's path, ending in `key`.
 */
function visit(node: unknown, key: PathSegment, annotations: Json[], walk: Walk, depth: number) {
  if (depth > MAX_DEPTH) throw new Unreadable(`nested more than ${MAX_DEPTH} deep`);
  const path = walk.path;
  if (Array.isArray(node)) {
    // Only where an object is expected is a list a wrong type (Argo's `template` is a string).
    if (key === "spec" || key === "template" || key === "jobTemplate") optionalRecord(node, path.slice(0, -1), key);
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      visit(node[i], i, annotations, walk, depth + 1);
      path.pop();
    }
    return;
  }
  if (typeof node === "string") {
    // Any other string of the object (a RayJob's runtimeEnvYAML, an Argo parameter) is read as text:
    // provider formats and the pairs inside it count; the key it sits under does not name it.
    if (walk.keep(node, undefined))
      walk.out.push({ value: node, base: [], tail: [...path], field: "setting", annotations, group: NO_CONTAINER });
    return;
  }
  if (!isRecord(node)) return;
  // A template (pod, job, worker) carries its own metadata; its annotations apply to what it makes. One
  // without metadata still starts a new innermost block: its pods get no annotations of the objects around it.
  const scope =
    key !== "metadata" && ("metadata" in node || key === "template")
      ? metadataCandidates(node, path, annotations, walk)
      : annotations;
  for (const child in node) {
    if (child === "metadata") continue;
    const value = node[child];
    if (readsName(child))
      walk.out.push({ value: child, base: [...path], tail: [child], field: "name", annotations, group: NO_CONTAINER });
    path.push(child);
    if (CONTAINER_LISTS.has(child) && (walk.typedContainerLists || !isRecord(value))) {
      const items = optionalList(value, path);
      for (let i = 0; i < items.length; i++) {
        const container = optionalRecord(items[i], path, i) ?? {};
        containerCandidates(container, [...path, i], scope, walk, depth);
      }
    } else if (CONTAINER_LIKE.has(child) && isContainerLike(value)) {
      containerCandidates(value, [...path], scope, walk, depth);
    } else if (child === "volumes" && Array.isArray(value)) {
      volumeCandidates(value, path, scope, walk, depth);
    } else if (isContainerLike(value) && !Array.isArray(value)) {
      // A container spec under a name of its own (KServe's predictor `model`, `sklearn`, ...).
      containerCandidates(value, [...path], scope, walk, depth);
    } else {
      visit(value, child, scope, walk, depth + 1);
    }
    path.pop();
  }
}

/** An object with a container's shape: an image with something to run, or env, or an Argo script. */
function isContainerLike(value: unknown): value is Json {
  if (!isRecord(value)) return false;
  const runs = Array.isArray(value.command) || Array.isArray(value.args) || typeof value.source === "string";
  return Array.isArray(value.env) || (typeof value.image === "string" && runs);
}

// The loops below run for every env var of every container on the admission path: they check types
// inline and build a path only to report a wrong type.
function containerCandidates(container: Json, path: PathSegment[], annotations: Json[], walk: Walk, depth: number) {
  const written = optionalString(container.name, path, "name");
  const group: CandidateGroup = { source: container, configMap: false, complete: false };
  const base = { base: path, container: written ?? String(path.at(-1)), annotations, group };
  // A container's name is an object's name (a DNS label: a DeepSeek key is one), read as such.
  if (written !== undefined && mayHoldKey(written) && walk.keep(written, undefined))
    walk.out.push({ ...base, value: written, tail: ["name"], field: "objectName" });
  const env = optionalList(container.env, path, "env");
  for (let index = 0; index < env.length; index++) {
    const item = env[index];
    if (item === undefined || item === null) continue;
    const raw = isRecord(item) ? item : (optionalRecord(item, path, "env", index) as Json);
    const envName = raw.name;
    if (envName !== undefined && envName !== null && typeof envName !== "string")
      optionalString(envName, path, "env", index, "name");
    // A name may be any printable text, a key included.
    if (typeof envName === "string" && readsName(envName))
      walk.out.push({ ...base, value: envName, tail: ["env", index, "name"], field: "name" });
    // valueFrom is a reference; only a literal `value` can hold a hardcoded secret, or an annotation that
    // the downward API hands over (judged by the env var's name, which its own key may not be).
    const value = raw.value;
    if (value === undefined || value === null) {
      if (raw.valueFrom !== undefined) {
        annotationCandidate(raw, index, base, walk);
        // The names it refers by (a Secret's, a ConfigMap's, their keys) are names, and can be written with a key.
        leftoverCandidates(raw, READ_IN_ENV, base, walk, depth, ["env", index]);
      }
      continue;
    }
    if (typeof value !== "string") optionalString(value, path, "env", index, "value");
    // Most values no rule can report: they are left out before a candidate is made for them.
    const name = (envName ?? undefined) as string | undefined;
    if (walk.keep(value as string, name))
      walk.out.push({ ...base, value: value as string, tail: ["env", index, "value"], field: "env", name });
  }
  // Absent fields are skipped before their path is built: most containers have few of them.
  if (isPresent(container.command)) argumentCandidates(container.command, ["command"], "command", base, walk);
  if (isPresent(container.args)) argumentCandidates(container.args, ["args"], "args", base, walk);
  if (typeof container.source === "string" && walk.keep(container.source, undefined))
    walk.out.push({ ...base, value: container.source, tail: ["source"], field: "script" });
  for (const probe of PROBES)
    if (isPresent(container[probe])) handlerCandidates(container[probe], [probe], base, walk, depth);
  const lifecycle = optionalRecord(container.lifecycle, path, "lifecycle");
  if (lifecycle) {
    for (const hook of HOOKS)
      if (isPresent(lifecycle[hook])) handlerCandidates(lifecycle[hook], ["lifecycle", hook], base, walk, depth);
    leftoverCandidates(lifecycle, READ_IN_LIFECYCLE, base, walk, depth, ["lifecycle"]);
  }
  leftoverCandidates(container, READ_IN_CONTAINER, base, walk, depth);
  group.complete = true;
}

/** A container's fields read above, as what it runs with; the others are read as text (leftoverCandidates). */
const READ_IN_CONTAINER = new Set(["name", "env", "command", "args", "source", ...PROBES, "lifecycle"]);
/** An env var's fields read as its name and value; the others (valueFrom's references) as text. */
const READ_IN_ENV = new Set(["name", "value"]);
/** A probe's or hook's fields read as what it runs or calls; the others (gRPC service, TCP host) as text. */
const READ_IN_HANDLER = new Set(["exec", "httpGet"]);
/**
 * An httpGet's fields read as the request it makes; the others (scheme, a named port) as text. A CRD's copy of a
 * container is not validated as a Pod's: its enums and port names are free strings that the API server stores.
 */
const READ_IN_HTTP_GET = new Set(["httpHeaders", "path", "host"]);
/** A lifecycle's hooks, read as handlers; the others (stopSignal, free in a CRD's copy) as text. */
const READ_IN_LIFECYCLE = new Set(HOOKS);
/**
 * A volume's sources with fields that take literals, read by volumeCandidates; their other fields (a driver,
 * a secret's name, a revision) and the volume's other sources (paths, servers) are read as text.
 */
const VOLUME_LITERALS: Record<string, ReadonlySet<string>> = {
  csi: new Set(["volumeAttributes"]),
  flexVolume: new Set(["options"]),
  gitRepo: new Set(["repository"]),
};
const VOLUME_SOURCES = Object.entries(VOLUME_LITERALS);
const READ_IN_VOLUME = new Set(Object.keys(VOLUME_LITERALS));
/** Metadata read as annotations and labels, managedFields each on its own; the rest (finalizers, owners) as text. */
const READ_IN_METADATA = new Set(["annotations", "labels", "managedFields"]);
/** A field that names an object, read as a name (see Field "objectName"). */
const NAMES_AN_OBJECT = /^(?:name|namespace|generateName|[a-z][A-Za-z]*Name)$/;
/**
 * fieldsV1 names the object's own fields, read where they stand: a Deployment's is hundreds of names, and
 * reading them again cost every review of an object from the API server. The manager's name is read.
 */
const READ_IN_MANAGED_FIELDS = new Set(["fieldsV1"]);

/**
 * The fields of `node` but `read`, for what can be written anywhere: an image tag, a workingDir, a
 * finalizer or a field manager's name can hold a key as well as an env value. These fields are many and
 * most are short: only strings and names that may hold a key (mayHoldKey, readsName) are read, as text.
 */
function leftoverCandidates(
  node: Json,
  read: ReadonlySet<string>,
  at: ContainerBase,
  walk: Walk,
  depth: number,
  /** Where `node` stands below `at.base`, when the findings are to name more than its fields. */
  below: readonly PathSegment[] = [],
) {
  if (tooShortForKeys(node, read)) return;
  const path: PathSegment[] = below.length === 0 ? [] : below.slice();
  const leftover = (value: unknown, level: number): void => {
    if (level > MAX_DEPTH) throw new Unreadable(`nested more than ${MAX_DEPTH} deep`, [...at.base, ...path]);
    if (typeof value === "string") {
      if (mayHoldKey(value) && walk.keep(value, undefined)) {
        const key = path.at(-1);
        const named = typeof key === "string" && NAMES_AN_OBJECT.test(key);
        walk.out.push({ ...at, value, tail: [...path], field: named ? "objectName" : "setting" });
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        leftover(value[i], level + 1);
        path.pop();
      }
    } else if (isRecord(value)) {
      for (const key in value) {
        if (level === depth && read.has(key)) continue;
        path.push(key);
        if (readsName(key)) walk.out.push({ ...at, value: key, tail: [...path], field: "name" });
        leftover(value[key], level + 1);
        path.pop();
      }
    }
  };
  leftover(node, depth);
}

/**
 * Whether every field of `node` but `read` is too short to hold a key, its name too: most probes, hooks and
 * their requests (a port, a scheme, a period) are, and are not read further.
 */
function tooShortForKeys(node: Json, read: ReadonlySet<string>): boolean {
  for (const key in node) {
    if (read.has(key)) continue;
    const value = node[key];
    if (key.length >= SHORTEST_KEY || (typeof value === "object" && value !== null)) return false;
    if (typeof value === "string" && value.length >= SHORTEST_KEY) return false;
  }
  return true;
}

const isPresent = (value: unknown) => value !== undefined && value !== null;

/**
 * A ConfigMap key's, an annotation's or a field's own name can be written with a key too. Names are many
 * and stand under no name of their own: only provider formats can be told in one, so only those are looked for.
 */
const readsName = (name: string) => name.length >= SHORTEST_KEY && holdsFormatKeyword(name);
const FORMAT_KEYWORD = new RegExp(ANY_FORMAT_KEYWORD.source, "i");
const FORMAT_SCREEN = keywordScreen(FORMAT_KEYWORDS);
const holdsFormatKeyword = (text: string) => FORMAT_SCREEN(text) && FORMAT_KEYWORD.test(text);
/** A leftover string is read for what a string under no name can hold: a provider's key, a URL's password. */
const mayHoldKey = (value: string) =>
  value.length >= SHORTEST_KEY && (holdsFormatKeyword(value) || (value.includes("@") && mayHoldUrl(value)));

const ANNOTATION_FIELD = /^metadata\.annotations\['([^']{1,317})'\]$/;

/** env[].valueFrom.fieldRef to an annotation of the Pod (its template's, the innermost that applies). */
function annotationCandidate(env: Json, index: number, base: ContainerBase, walk: Walk) {
  const fieldRef = isRecord(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
  const fieldPath = isRecord(fieldRef) && typeof fieldRef.fieldPath === "string" ? fieldRef.fieldPath : "";
  const key = ANNOTATION_FIELD.exec(fieldPath)?.[1];
  const value = key === undefined ? undefined : base.annotations.at(-1)?.[key];
  const name = typeof env.name === "string" ? env.name : undefined;
  // An annotation whose own key names a credential is reported where it is written.
  if (typeof value !== "string" || classifyName(key) !== "other" || !walk.keep(value, name)) return;
  const tail = ["env", index, "valueFrom", "fieldRef", "fieldPath"];
  walk.out.push({ ...base, value, tail, field: "env", name });
}

type ContainerBase = Pick<Candidate, "base" | "container" | "volume" | "annotations" | "group">;

/** command/args (of a container or an exec handler): each item, named by the flag before it. */
function argumentCandidates(list: unknown, tail: PathSegment[], field: Field, base: ContainerBase, walk: Walk) {
  const items = optionalList(list, base.base, ...tail);
  let previous: string | undefined;
  for (let index = 0; index < items.length; index++) {
    const raw = items[index];
    if (raw !== undefined && raw !== null && typeof raw !== "string") optionalString(raw, base.base, ...tail, index);
    const value = (raw ?? "") as string;
    const flag = previous !== undefined && FLAG.test(previous) ? previous.replace(/^-+/, "") : undefined;
    previous = value;
    if (walk.keep(value, flag)) walk.out.push({ ...base, value, tail: [...tail, index], field, name: flag });
  }
}

/**
 * A probe or lifecycle hook: its exec command and its HTTP headers (an Authorization header is a key).
 * Types are checked inline; the readers that build a path are called only to report a wrong one.
 */
function handlerCandidates(handler: unknown, tail: PathSegment[], base: ContainerBase, walk: Walk, depth: number) {
  if (!isRecord(handler)) {
    optionalRecord(handler, base.base, ...tail);
    return;
  }
  // Below the container, so that a finding names the probe or hook as well as its field.
  leftoverCandidates(handler, READ_IN_HANDLER, base, walk, depth, tail);
  const { exec, httpGet } = handler;
  if (isRecord(exec)) argumentCandidates(exec.command, [...tail, "exec", "command"], "probe", base, walk);
  else if (isPresent(exec)) optionalRecord(exec, base.base, ...tail, "exec");
  if (!isPresent(httpGet)) return;
  if (!isRecord(httpGet)) {
    optionalRecord(httpGet, base.base, ...tail, "httpGet");
    return;
  }
  leftoverCandidates(httpGet, READ_IN_HTTP_GET, base, walk, depth, [...tail, "httpGet"]);
  const headers = isPresent(httpGet.httpHeaders)
    ? optionalList(httpGet.httpHeaders, base.base, ...tail, "httpGet", "httpHeaders")
    : NO_ITEMS;
  for (let index = 0; index < headers.length; index++) {
    const header = headers[index];
    if (!isRecord(header)) continue;
    const name = typeof header.name === "string" ? header.name : undefined;
    if (name !== undefined && readsName(name))
      walk.out.push({ ...base, value: name, tail: [...tail, "httpGet", "httpHeaders", index, "name"], field: "name" });
    if (typeof header.value !== "string") continue;
    if (!walk.keep(header.value, name)) continue;
    const at = [...tail, "httpGet", "httpHeaders", index, "value"];
    walk.out.push({ ...base, value: header.value, tail: at, field: "probe", name });
  }
  // The path goes out as written (/healthz?token=..., /v1/<key>/ready): a credential in it is in the spec.
  const { path } = httpGet;
  if (typeof path === "string" && walk.keep(path, undefined))
    walk.out.push({ ...base, value: path, tail: [...tail, "httpGet", "path"], field: "probe" });
  // An httpGet to another host is a request to that host: read it as the URL the kubelet calls.
  if (typeof httpGet.host === "string" && httpGet.host !== "") {
    // An IPv6 address is written bare here; in the URL it is bracketed, as the kubelet does.
    const host = httpGet.host.includes(":") && !httpGet.host.startsWith("[") ? `[${httpGet.host}]` : httpGet.host;
    const value = `${httpGet.scheme === "HTTPS" ? "https" : "http"}://${host}`;
    if (walk.keep(value, "host"))
      walk.out.push({ ...base, value, tail: [...tail, "httpGet", "host"], field: "probe", name: "host" });
  }
}

/** Volume fields that take literals: CSI volumeAttributes, flexVolume options, a gitRepo URL. */
function volumeCandidates(
  volumes: unknown[],
  path: readonly PathSegment[],
  annotations: Json[],
  walk: Walk,
  depth: number,
) {
  for (let index = 0; index < volumes.length; index++) {
    const volume = volumes[index];
    if (!isRecord(volume)) continue;
    const at: ContainerBase = { base: [...path, index], annotations, group: NO_CONTAINER };
    if (typeof volume.name === "string") at.volume = volume.name;
    leftoverCandidates(volume, READ_IN_VOLUME, at, walk, depth);
    for (const [source, literals] of VOLUME_SOURCES) {
      const fields = volume[source];
      if (isRecord(fields)) leftoverCandidates(fields, literals, at, walk, depth, [source]);
    }
    if (isRecord(volume.csi)) literalMap(volume.csi.volumeAttributes, ["csi", "volumeAttributes"], at, walk);
    if (isRecord(volume.flexVolume)) literalMap(volume.flexVolume.options, ["flexVolume", "options"], at, walk);
    if (isRecord(volume.gitRepo))
      volumeCandidate(volume.gitRepo.repository, ["gitRepo", "repository"], "repository", at, walk);
  }
}

/** CSI volumeAttributes, flexVolume options: each key is a name (written with a key, as any name can be), each value a literal. */
function literalMap(map: unknown, tail: readonly PathSegment[], at: ContainerBase, walk: Walk) {
  if (!isRecord(map)) return;
  for (const key in map) {
    const where = [...tail, key];
    if (readsName(key)) walk.out.push({ ...at, value: key, tail: where, field: "name" });
    volumeCandidate(map[key], where, key, at, walk);
  }
}

function volumeCandidate(value: unknown, tail: PathSegment[], name: string, at: ContainerBase, walk: Walk) {
  if (typeof value !== "string" || !walk.keep(value, name)) return;
  walk.out.push({ ...at, value, tail, field: "volume", name });
}

/**
 * A bare 32-hex key is an Azure OpenAI key when its container (or ConfigMap) talks to Azure OpenAI:
 * some literal value or its name (env name, data key) mentions it. A flag's name is part of the
 * argument before it, so arguments are read as values only. A group cut short by an unreadable field
 * counts as not.
 */
export function nearAzureOpenAI(candidate: Candidate): boolean {
  const group = candidate.group;
  if (!group.complete) return false;
  group.nearAzureOpenAI ??= mentionsAzureOpenAI(group);
  return group.nearAzureOpenAI;
}

function mentionsAzureOpenAI({ source, configMap }: CandidateGroup): boolean {
  const mentions = (text: unknown) => typeof text === "string" && AZURE_OPENAI.test(text);
  if (configMap)
    return Object.entries(source).some(
      ([key, value]) => typeof value === "string" && (mentions(value) || mentions(key)),
    );
  const env = (source.env ?? []) as unknown[];
  const literal = (item: unknown) =>
    isRecord(item) && typeof item.value === "string" && (mentions(item.value) || mentions(item.name));
  const args = [...((source.command ?? []) as unknown[]), ...((source.args ?? []) as unknown[])];
  return env.some(literal) || args.some(mentions);
}

/** The literal env values of the candidate's container, by name: what `$(NAME)` expands to. */
export function containerEnv(candidate: Candidate): ReadonlyMap<string, string> {
  candidate.group.env ??= literalEnv(candidate.group);
  return candidate.group.env;
}

function literalEnv({ source, configMap }: CandidateGroup): Map<string, string> {
  const vars = new Map<string, string>();
  if (configMap) return vars;
  for (const item of (source.env ?? []) as unknown[]) {
    if (isRecord(item) && typeof item.name === "string" && typeof item.value === "string")
      vars.set(item.name, item.value);
  }
  return vars;
}

/** The value's JSON path as segments. */
export function candidatePath(c: Candidate): PathSegment[] {
  return [...c.base, ...c.tail];
}
