// What the informers keep of each kind: the fields the webhook and the controller read, nothing
// more (no managedFields, no status of the user's objects, no env values, no Secret data), so
// memory grows with the number of objects, not with their size.
import { type AiApiPolicy, parseAiApiPolicy } from "../api/index.ts";
import type { WorkloadKind } from "../api/workload-kinds.ts";
import { isRecord, pathValue } from "./objects.ts";
import { FIELD_MANAGER, type RawObject } from "./rest.ts";

/** Our own names start with this: volumes, NetworkPolicies, Middlewares. */
export const OWNED_PREFIX = "aiapiguard-";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "ai-api-guard" };
export const ROTATED_AT_ANNOTATION = "aiapiguard.dev/rotated-at";

export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
}

function meta(raw: RawObject): Meta {
  const m = (raw.metadata ?? {}) as Record<string, unknown>;
  const out: Meta = { name: String(m.name ?? "") };
  for (const key of ["namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"] as const) {
    if (typeof m[key] === "string") out[key] = m[key] as string;
  }
  if (typeof m.generation === "number") out.generation = m.generation;
  if (Array.isArray(m.finalizers)) out.finalizers = m.finalizers.map(String);
  return out;
}

function stringMap(value: unknown, keep: (key: string) => boolean = () => true): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => typeof v === "string" && keep(k))) as Record<
    string,
    string
  >;
}

export interface CachedPolicy {
  metadata: Meta;
  /** The parsed policy (spec defaults applied), or why it could not be parsed. */
  policy?: AiApiPolicy;
  error?: string;
}

export function cachedPolicy(raw: RawObject): CachedPolicy {
  const metadata = meta(raw);
  const parsed = parseAiApiPolicy({
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata,
    spec: raw.spec,
    status: raw.status,
  });
  return parsed.ok ? { metadata, policy: parsed.policy } : { metadata, error: parsed.error };
}

export interface CachedVolume {
  name: string;
  secretName?: string;
  defaultMode?: number;
  /**
   * A mount ai-api-guard did not add names the volume: the volume cannot come off until it goes, and its
   * going (a change of the cached shape) is what wakes the policy's deletion up.
   */
  mountedByOthers?: true;
}

export interface CachedMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface CachedWorkload {
  kind: string;
  metadata: Meta;
  templateLabels: Record<string, string>;
  /** Every container of the pod template, with only the mounts ai-api-guard applied (managedFields). */
  containers: { name: string; mounts: CachedMount[] }[];
  /** Only the volumes ai-api-guard applied. */
  volumes: CachedVolume[];
}

/** What the controller reads of a kind with one pod template (the kinds table's `podTemplate` and `labels`). */
export function cachedWorkload(row: WorkloadKind) {
  const templatePath = row.podTemplate;
  if (!templatePath) throw new Error(`${row.kind} has no single pod template to mount into`);
  return (raw: RawObject): CachedWorkload => {
    const template = pathValue(raw, templatePath);
    const podSpec = pathValue(template, ["spec"]);
    const containers = (pathValue(podSpec, ["containers"]) as unknown[] | undefined) ?? [];
    const volumes = (pathValue(podSpec, ["volumes"]) as unknown[] | undefined) ?? [];
    // Ours is what ai-api-guard applied, not any mount of its volume: one the user added or moved
    // (kubectl edit) is theirs, and counting it would make every reconcile apply again.
    const ownedSpec = ownedFields(raw).map((fields) =>
      pathValue(
        fields,
        [...templatePath, "spec"].map((k) => `f:${k}`),
      ),
    );
    const ownsVolume = (name: string) => ownedSpec.some((spec) => ownsMember(spec, "f:volumes", { name }));
    const ownsMount = (container: string, mountPath: string) =>
      ownedSpec.some((spec) =>
        ownsMember(pathValue(spec, ["f:containers", memberKey({ name: container })]), "f:volumeMounts", { mountPath }),
      );
    const mountsOf = (c: Record<string, unknown>) =>
      ((c.volumeMounts as unknown[] | undefined) ?? [])
        .filter(isRecord)
        .filter((m) => String(m.name).startsWith(OWNED_PREFIX))
        .map((m) => ({ m, owned: ownsMount(String(c.name), String(m.mountPath)) }));
    // Each container's mounts of our volumes, read (and checked against managedFields) once.
    const read = containers.filter(isRecord).map((c) => ({ c, mounts: mountsOf(c) }));
    const mountedByOthers = new Set(
      read.flatMap(({ mounts }) => mounts.flatMap(({ m, owned }) => (owned ? [] : [String(m.name)]))),
    );
    return {
      kind: row.kind,
      metadata: meta(raw),
      templateLabels: stringMap(pathValue(raw, row.labels)),
      containers: read.map(({ c, mounts }) => ({
        name: String(c.name),
        mounts: mounts
          .flatMap(({ m, owned }) => (owned ? [m] : []))
          .map((m) => ({
            name: String(m.name),
            mountPath: String(m.mountPath),
            ...(m.readOnly === true && { readOnly: true }),
            ...(typeof m.subPath === "string" && { subPath: m.subPath }),
          })),
      })),
      volumes: volumes
        .filter(isRecord)
        .filter((v) => String(v.name).startsWith(OWNED_PREFIX) && ownsVolume(String(v.name)))
        .map((v) => ({
          name: String(v.name),
          ...(typeof pathValue(v, ["secret", "secretName"]) === "string" && {
            secretName: pathValue(v, ["secret", "secretName"]) as string,
          }),
          ...(typeof pathValue(v, ["secret", "defaultMode"]) === "number" && {
            defaultMode: pathValue(v, ["secret", "defaultMode"]) as number,
          }),
          ...(mountedByOthers.has(String(v.name)) && { mountedByOthers: true }),
        })),
    };
  };
}

/** Annotation keys ai-api-guard writes on Ingresses: the only ones the cache keeps. */
export function isRateLimitAnnotation(key: string): boolean {
  return key.startsWith("nginx.ingress.kubernetes.io/") || key === "traefik.ingress.kubernetes.io/router.middlewares";
}

export interface CachedIngress {
  metadata: Meta & {
    annotations: Record<string, string>;
    /** The rate-limit annotation keys ai-api-guard's field manager owns (from managedFields): what it wrote. */
    owned: string[];
  };
}

export function cachedIngress(raw: RawObject): CachedIngress {
  return {
    metadata: {
      ...meta(raw),
      annotations: stringMap(raw.metadata?.annotations, isRateLimitAnnotation),
      owned: ownedAnnotations(raw).filter(isRateLimitAnnotation),
    },
  };
}

/** The fields ai-api-guard's server-side applies own (fieldsV1 of its managedFields entries). */
function ownedFields(raw: RawObject): Record<string, unknown>[] {
  const entries = Array.isArray(raw.metadata?.managedFields) ? raw.metadata.managedFields : [];
  return entries
    .filter(isRecord)
    .filter((entry) => entry.manager === FIELD_MANAGER && entry.operation === "Apply" && !entry.subresource)
    .map((entry) => entry.fieldsV1)
    .filter(isRecord);
}

/** A keyed list member as fieldsV1 names it: `k:{"name":"app"}` (one key here, so no key order to get wrong). */
function memberKey(key: Record<string, string>): string {
  return `k:${JSON.stringify(key)}`;
}

function ownsMember(fields: unknown, list: string, key: Record<string, string>): boolean {
  return isRecord(pathValue(fields, [list, memberKey(key)]));
}

/** The annotation keys that ai-api-guard's server-side applies own, as managedFields records them. */
function ownedAnnotations(raw: RawObject): string[] {
  return ownedFields(raw)
    .flatMap((fields) => {
      const annotations = pathValue(fields, ["f:metadata", "f:annotations"]);
      return isRecord(annotations) ? Object.keys(annotations) : [];
    })
    .filter((field) => field.startsWith("f:"))
    .map((field) => field.slice(2));
}

export interface CachedSecret {
  metadata: Meta & { rotatedAt?: string };
}

/** Secrets are listed as metadata only: the cache never holds a credential. */
export function cachedSecret(raw: RawObject): CachedSecret {
  const rotatedAt = stringMap(raw.metadata?.annotations)[ROTATED_AT_ANNOTATION];
  return { metadata: { ...meta(raw), ...(rotatedAt && { rotatedAt }) } };
}

export interface CachedOwned {
  metadata: Meta & { labels: Record<string, string> };
  spec: unknown;
}

/** NetworkPolicies ai-api-guard made (listed by its managed-by label): spec kept to compare with the intent. */
export function cachedOwned(raw: RawObject): CachedOwned {
  return { metadata: { ...meta(raw), labels: stringMap(raw.metadata?.labels) }, spec: raw.spec };
}
