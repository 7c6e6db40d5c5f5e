// Workload extraction: every literal a reviewed object carries, with its JSON path and what names it.
// Pod specs and containers are found where the table of workload kinds says; ConfigMap data is read for
// secrets only; Secrets are where secrets belong, so they are never read.

import type { PathPattern, WorkloadKind } from "../api/workload-kinds.ts";
import { isRecord, type Json, optionalList, optionalRecord, optionalString } from "./objects.ts";
import type { PathSegment } from "./types.ts";

export type Field = "env" | "command" | "args" | "data";

export interface Candidate {
  value: string;
  /**
   * The JSON path of the value is `[...base, ...tail]`: the parent path is shared by every value of a
   * container (or ConfigMap), and the full path is only built for a value that has findings.
   */
  base: readonly PathSegment[];
  tail: readonly PathSegment[];
  field: Field;
  /** The env var name, ConfigMap key, or the flag an argument follows (--api-key VALUE). */
  name?: string;
  container?: string;
  /** Annotations that apply (the object's, plus its pod template's). */
  annotations: Json[];
  /** The values of the same container (or ConfigMap): see nearAzureOpenAI. */
  group: CandidateGroup;
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
}

/** Whether to keep a value (some rule may report it): the caller's prefilter. Every value when absent. */
export type Keep = (value: string, name: string | undefined) => boolean;

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;
const FLAG = /^--?[A-Za-z][\w.-]{0,80}$/;
const AZURE_OPENAI = /openai\.azure\.com|azure_openai/i;

/**
 * Appends the object's candidates to `out`. Throws Unreadable at the first field of the wrong type;
 * what `out` holds by then is still evaluated, so findings before an unreadable part survive it.
 */
export function extractCandidates(
  object: Json,
  kind: WorkloadKind,
  prefix: PathSegment[],
  out: Candidate[],
  keep: Keep = () => true,
): void {
  const metadata = optionalRecord(object.metadata, prefix, "metadata");
  const annotations = [optionalRecord(metadata?.annotations, prefix, "metadata", "annotations") ?? {}];
  if (kind.kind === "ConfigMap" && kind.group === "") configMapCandidates(object, prefix, annotations, out, keep);
  for (const pattern of kind.podSpecs)
    walk(object, prefix, pattern, annotations, (spec, path, own) => podCandidates(spec, path, own, out, keep));
  for (const pattern of kind.containers)
    walk(object, prefix, pattern, annotations, (container, path, own) =>
      containerCandidates(container, path, own, out, keep),
    );
}

function configMapCandidates(object: Json, prefix: PathSegment[], annotations: Json[], out: Candidate[], keep: Keep) {
  const dataPath = [...prefix, "data"];
  const data = optionalRecord(object.data, dataPath) ?? {};
  const group: CandidateGroup = { source: data, configMap: true, complete: false };
  for (const [key, raw] of Object.entries(data)) {
    const value = optionalString(raw, dataPath, key);
    if (value !== undefined && keep(value, key)) {
      out.push({ value, base: dataPath, tail: [key], field: "data", name: key, annotations, group });
    }
  }
  group.complete = true;
}

/**
 * Calls `visit` with every object `pattern` reaches from `node` ("*": every key or index); a wrong type on
 * the way is Unreadable. A pod spec's template metadata sits beside it: its annotations apply too (Pods
 * created from the template carry only those).
 */
function walk(
  value: unknown,
  path: PathSegment[],
  pattern: PathPattern,
  annotations: Json[],
  visit: (node: Json, path: PathSegment[], annotations: Json[]) => void,
): void {
  if (pattern.length === 0) {
    const node = optionalRecord(value, path);
    if (node) visit(node, path, annotations);
    return;
  }
  const [key, ...rest] = pattern as [string, ...string[]];
  if (key === "*") {
    const children = Array.isArray(value) ? [...value.entries()] : Object.entries(optionalRecord(value, path) ?? {});
    for (const [k, child] of children) walk(child, [...path, k], rest, annotations, visit);
    return;
  }
  const child = optionalRecord(value, path)?.[key];
  if (rest.length === 1 && rest[0] === "spec") {
    const meta = optionalRecord(optionalRecord(child, path, key)?.metadata, path, key, "metadata");
    const own = optionalRecord(meta?.annotations, path, key, "metadata", "annotations");
    if (own) annotations = [...annotations, own];
  }
  walk(child, [...path, key], rest, annotations, visit);
}

function podCandidates(node: Json, path: PathSegment[], annotations: Json[], out: Candidate[], keep: Keep) {
  for (const list of CONTAINER_LISTS) {
    const value = node[list];
    if (value === undefined || value === null) continue;
    const listPath = [...path, list];
    const items = optionalList(value, listPath);
    for (let index = 0; index < items.length; index++) {
      const containerPath = [...listPath, index];
      const container = optionalRecord(items[index], containerPath) ?? {};
      containerCandidates(container, containerPath, annotations, out, keep);
    }
  }
}

// The loops below run for every env var of every container on the admission path: they check types
// inline and build a path only to report a wrong type.
function containerCandidates(container: Json, path: PathSegment[], annotations: Json[], out: Candidate[], keep: Keep) {
  const name = optionalString(container.name, path, "name") ?? String(path.at(-1));
  const group: CandidateGroup = { source: container, configMap: false, complete: false };
  const env = optionalList(container.env, path, "env");
  for (let index = 0; index < env.length; index++) {
    const item = env[index];
    if (item === undefined || item === null) continue;
    const raw = isRecord(item) ? item : (optionalRecord(item, path, "env", index) as Json);
    const envName = raw.name;
    if (envName !== undefined && envName !== null && typeof envName !== "string")
      optionalString(envName, path, "env", index, "name");
    // valueFrom is a reference; only a literal `value` can hold a hardcoded secret.
    const value = raw.value;
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") optionalString(value, path, "env", index, "value");
    if (!keep(value as string, (envName ?? undefined) as string | undefined)) continue;
    out.push({
      value: value as string,
      base: path,
      tail: ["env", index, "value"],
      field: "env",
      name: (envName ?? undefined) as string | undefined,
      container: name,
      annotations,
      group,
    });
  }
  for (const field of ["command", "args"] as const) {
    const items = optionalList(container[field], path, field);
    let previous: string | undefined;
    for (let index = 0; index < items.length; index++) {
      const raw = items[index];
      if (raw !== undefined && raw !== null && typeof raw !== "string") optionalString(raw, path, field, index);
      const value = (raw ?? "") as string;
      const flag = previous !== undefined && FLAG.test(previous) ? previous.replace(/^-+/, "") : undefined;
      previous = value;
      if (!keep(value, flag)) continue;
      out.push({
        value,
        base: path,
        tail: [field, index],
        field,
        name: flag,
        container: name,
        annotations,
        group,
      });
    }
  }
  group.complete = true;
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

/** The value's JSON path as segments. */
export function candidatePath(c: Candidate): PathSegment[] {
  return [...c.base, ...c.tail];
}
