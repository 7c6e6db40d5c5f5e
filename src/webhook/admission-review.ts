// The AdmissionReview envelope (admission.k8s.io/v1): what the API server sends and what it expects
// back. Only the envelope is validated here; the object inside is the engine's to read.
import { z } from "zod";
import { isRecord } from "../kube/objects.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

// Bounds from Kubernetes' own validation (names up to 253 characters, namespaces 63): what we echo
// or log cannot be made megabytes long by a hostile body.
const Name = z.string().max(253);

const GroupVersionKind = z.object({ group: Name, version: Name, kind: Name.min(1) });

const AdmissionRequestSchema = z.looseObject({
  // A UUID from the API server.
  uid: z.string().min(1).max(256),
  kind: GroupVersionKind,
  subResource: Name.optional(),
  name: Name.optional(),
  namespace: z.string().max(63).optional(),
  operation: z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});

const AdmissionReviewSchema = z.looseObject({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal("AdmissionReview"),
  request: AdmissionRequestSchema,
});

export type AdmissionRequest = z.infer<typeof AdmissionRequestSchema>;
export type Operation = AdmissionRequest["operation"];

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; reason: string };

export function parseAdmissionReview(body: unknown): ParsedReview {
  const request = wellFormedRequest(body);
  return request ? { ok: true, request } : parseWithSchema(body);
}

const OPERATIONS: ReadonlySet<unknown> = new Set(AdmissionRequestSchema.shape.operation.options);
const isName = (value: unknown, max = 253): value is string => typeof value === "string" && value.length <= max;
const isOptionalName = (value: unknown, max = 253) => value === undefined || isName(value, max);

/**
 * The schema's checks, written out for the admission path: the request when the body passes them
 * all, else undefined and the schema decides (and says why). It accepts nothing the schema refuses.
 */
function wellFormedRequest(body: unknown): AdmissionRequest | undefined {
  if (!isRecord(body) || body.apiVersion !== ADMISSION_API_VERSION || body.kind !== "AdmissionReview") return undefined;
  const request = body.request;
  if (!isRecord(request)) return undefined;
  const { uid, kind } = request;
  if (typeof uid !== "string" || uid.length < 1 || uid.length > 256) return undefined;
  if (!isRecord(kind) || !isName(kind.group) || !isName(kind.version) || !isName(kind.kind)) return undefined;
  if (kind.kind.length < 1 || !OPERATIONS.has(request.operation)) return undefined;
  if (!isOptionalName(request.subResource) || !isOptionalName(request.name)) return undefined;
  if (!isOptionalName(request.namespace, 63)) return undefined;
  if (request.dryRun !== undefined && typeof request.dryRun !== "boolean") return undefined;
  return request as AdmissionRequest;
}

/** The schema's verdict, with the first problems it names. */
export function parseWithSchema(body: unknown): ParsedReview {
  const parsed = AdmissionReviewSchema.safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data.request };
  const problems = parsed.error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join(".") : "body";
    return `${where}: ${issue.message}`;
  });
  return { ok: false, reason: `not an AdmissionReview ${ADMISSION_API_VERSION}: ${problems.join("; ")}` };
}

/** Who made the request, as the API server authenticated them: what a SubjectAccessReview asks about. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The request's userInfo, read defensively (the envelope check leaves it alone); no name: "(unknown)". */
export function userOf(request: AdmissionRequest): UserInfo {
  const info = isRecord(request.userInfo) ? request.userInfo : {};
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : undefined;
  const extra = isRecord(info.extra)
    ? Object.fromEntries(Object.entries(info.extra).map(([key, value]) => [key, strings(value) ?? []]))
    : undefined;
  return {
    username: typeof info.username === "string" && info.username !== "" ? info.username.slice(0, 253) : "(unknown)",
    ...(typeof info.uid === "string" && { uid: info.uid }),
    ...(strings(info.groups) && { groups: strings(info.groups) }),
    ...(extra && { extra }),
  };
}

export interface AdmissionStatus {
  code: number;
  reason: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}
