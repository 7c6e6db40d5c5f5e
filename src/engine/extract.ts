// Workload extraction: every literal a reviewed object carries, with its JSON path and what names it.
// Pod templates are found by kind; ConfigMap data is read for secrets only; Secrets are where secrets
// belong, so they are never read.
import { type Json, optionalList, optionalRecord, optionalString } from "./objects.ts";
import type { PathSegment } from "./types.ts";

export type Field = "env" | "command" | "args" | "data";

export interface Candidate {
  value: string;
  path: PathSegment[];
  field: Field;
  /** The env var name, ConfigMap key, or the flag an argument follows (--api-key VALUE). */
  name?: string;
  container?: string;
  /** Annotations that apply (the object's, plus its pod template's). */
  annotations: Json[];
  /** Some value of the same container (or ConfigMap) mentions Azure OpenAI: a bare 32-hex key there is one. */
  nearAzureOpenAI: boolean;
}

const POD_SPEC: Record<string, readonly string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;
const FLAG = /^--?[A-Za-z][\w.-]{0,80}$/;
const AZURE_OPENAI = /openai\.azure\.com|azure_openai/i;

export function isReviewedKind(kind: string): boolean {
  return kind in POD_SPEC || kind === "ConfigMap";
}

/**
 * Appends the object's candidates to `out`. Throws Unreadable at the first field of the wrong type;
 * what `out` holds by then is still evaluated, so findings before an unreadable part survive it.
 */
export function extractCandidates(object: Json, kind: string, prefix: PathSegment[], out: Candidate[]): void {
  const metadata = optionalRecord(object.metadata, prefix, "metadata");
  const annotations = [optionalRecord(metadata?.annotations, prefix, "metadata", "annotations") ?? {}];
  if (kind === "ConfigMap") configMapCandidates(object, prefix, annotations, out);
  const specPath = POD_SPEC[kind];
  if (specPath) podCandidates(object, prefix, specPath, annotations, out);
}

function configMapCandidates(object: Json, prefix: PathSegment[], annotations: Json[], out: Candidate[]) {
  const dataPath = [...prefix, "data"];
  const data = optionalRecord(object.data, dataPath) ?? {};
  const first = out.length;
  for (const [key, raw] of Object.entries(data)) {
    const value = optionalString(raw, dataPath, key);
    if (value !== undefined) {
      out.push({ value, path: [...dataPath, key], field: "data", name: key, annotations, nearAzureOpenAI: false });
    }
  }
  markAzureOpenAI(out, first);
}

function podCandidates(
  object: Json,
  prefix: PathSegment[],
  specPath: readonly string[],
  annotations: Json[],
  out: Candidate[],
) {
  let node: Json | undefined = object;
  const path = [...prefix];
  for (const [i, key] of specPath.entries()) {
    path.push(key);
    node = optionalRecord(node[key], path);
    if (!node) return;
    // The pod template's own annotations apply too: Pods created from it carry only those.
    if (key === "template" && specPath[i + 1] === "spec") {
      const meta = optionalRecord(node.metadata, path, "metadata");
      const own = optionalRecord(meta?.annotations, path, "metadata", "annotations");
      if (own) annotations = [...annotations, own];
    }
  }
  for (const list of CONTAINER_LISTS) {
    const listPath = [...path, list];
    for (const [index, raw] of optionalList(node[list], listPath).entries()) {
      const containerPath = [...listPath, index];
      const container = optionalRecord(raw, containerPath) ?? {};
      containerCandidates(container, containerPath, annotations, out);
    }
  }
}

function containerCandidates(container: Json, path: PathSegment[], annotations: Json[], out: Candidate[]) {
  const name = optionalString(container.name, path, "name") ?? String(path.at(-1));
  const first = out.length;
  for (const [index, raw] of optionalList(container.env, path, "env").entries()) {
    const envPath = [...path, "env", index];
    const env = optionalRecord(raw, envPath) ?? {};
    const envName = optionalString(env.name, envPath, "name");
    // valueFrom is a reference; only a literal `value` can hold a hardcoded secret.
    const value = optionalString(env.value, envPath, "value");
    if (value !== undefined) {
      const valuePath = [...envPath, "value"];
      out.push({
        value,
        path: valuePath,
        field: "env",
        name: envName,
        container: name,
        annotations,
        nearAzureOpenAI: false,
      });
    }
  }
  for (const field of ["command", "args"] as const) {
    const items = optionalList(container[field], path, field);
    let previous: string | undefined;
    for (const [index, raw] of items.entries()) {
      const value = optionalString(raw, path, field, index) ?? "";
      const flag = previous !== undefined && FLAG.test(previous) ? previous.replace(/^-+/, "") : undefined;
      out.push({
        value,
        path: [...path, field, index],
        field,
        name: flag,
        container: name,
        annotations,
        nearAzureOpenAI: false,
      });
      previous = value;
    }
  }
  markAzureOpenAI(out, first);
}

/** A bare 32-hex key is an Azure OpenAI key when its container (or ConfigMap) talks to Azure OpenAI. */
function markAzureOpenAI(candidates: Candidate[], first: number) {
  const group = candidates.slice(first);
  const nearAzureOpenAI = group.some((c) => AZURE_OPENAI.test(c.value) || AZURE_OPENAI.test(c.name ?? ""));
  for (const c of group) c.nearAzureOpenAI = nearAzureOpenAI;
}
