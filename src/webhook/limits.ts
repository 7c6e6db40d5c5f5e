// What one request may cost the webhook. The API server is its only client: it sends a whole body at
// once over a loopback or cluster network, keeps idle connections for 90 s, and gives up on a review
// after the webhook's timeoutSeconds (at most 30 s). Anything slower or bigger is not the API server.

const MiB = 1024 * 1024;

/**
 * The largest AdmissionReview the API server can send. It accepts request bodies up to 3 MiB, and a
 * dry run never reaches etcd's 1.5 MiB, so a dry-run PATCH can yield a new object of a stored 1.5 MiB
 * plus a 3 MiB patch. When it writes the object into the review, every `<`, `>`, `&` and control
 * character becomes a 6-byte `\u003c` escape: up to 6 times the object. An UPDATE carries the new
 * object and the old one (stored: 1.5 MiB), and the rest of the review is well under 1 MiB.
 * controller-runtime's 7 MiB (pkg/webhook/admission/http.go) counts 3 MiB per object but not the
 * escapes: a 0.9 MiB HTML ConfigMap's UPDATE is over 3 MiB.
 */
export const BODY_LIMIT_BYTES = 6 * (1.5 * MiB + 3 * MiB) + 6 * (1.5 * MiB) + 1 * MiB;

export interface ServerLimits {
  /** Time to finish the TLS handshake. */
  handshakeTimeoutMs: number;
  /** Time to send the request headers. */
  headersTimeoutMs: number;
  /** Time to send the whole request (a body sent a byte a second is cut off here). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open: longer than the API server's 90 s, so it is never cut under it. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed. */
  idleTimeoutMs: number;
  /** Open TLS connections; past it the oldest without a request in progress is closed to make room. */
  maxConnections: number;
  /** Bytes of bodies being read or handled at once (up to 64 KiB as announced, larger as they arrive); past it, 503. */
  maxBodyBytesInFlight: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  handshakeTimeoutMs: 5_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 95_000,
  idleTimeoutMs: 100_000,
  maxConnections: 512,
  maxBodyBytesInFlight: bodyBytesInFlight(process.constrainedMemory()),
};

/**
 * The bodies in flight for a process that may use `memoryLimit` bytes (the container's limit, as the cgroup says;
 * 0 or near 2^64 when there is none): a quarter of it, the rest being the operator's own (its heap, the
 * controller's caches, the worker parsing one large review), and never less than one largest review nor more
 * than 256 MiB. Measured: with 256 MiB of bodies allowed, 100 connections posting 3 MiB reviews got the process
 * OOM-killed under the chart's 256 MiB limit within seconds.
 */
export function bodyBytesInFlight(memoryLimit: number): number {
  const quarter = memoryLimit > 0 ? Math.floor(memoryLimit / 4) : Number.POSITIVE_INFINITY;
  return Math.max(BODY_LIMIT_BYTES, Math.min(256 * MiB, quarter));
}

/** Node requires the headers timeout to be within the request timeout; it is clamped to it. */
export function serverLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  return { ...limits, headersTimeoutMs: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) };
}
