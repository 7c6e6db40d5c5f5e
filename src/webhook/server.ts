// The webhook's HTTPS server: bytes in, AdmissionReview out. Everything between is here or in the
// pure modules it calls; the caller (`ai-api-guard run`) supplies certificates, policies, the engine
// and what to do with Events.
import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from "node:http";
import type { ServerOptions } from "node:https";
import type { Socket } from "node:net";
import { pipeline, Transform } from "node:stream";
import type { Server as TlsServer } from "node:tls";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from "fastify";
import type { Evaluate, Finding, RuleId } from "../engine/types.ts";
import type { Logger } from "../observability/logger.ts";
import {
  type AdmissionRequest,
  parseAdmissionReview,
  reviewResponse,
  type UserInfo,
  userOf,
} from "./admission-review.ts";
import { type Assessment, assess, isPolicyKind, isReviewedKind } from "./assess.ts";
import type { AdmissionConfig } from "./config.ts";
import { type Decision, decide, type EventReason, findingAction, lookupsNeeded } from "./decide.ts";
import { bodyBudget, guardConnections } from "./guard.ts";
import { HeavyBody, type HeavyReviews } from "./heavy-reviews.ts";
import { BODY_LIMIT_BYTES, type ServerLimits, serverLimits } from "./limits.ts";
import { configMapsOf, followedConfigMaps, type Lookups } from "./lookups.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { endpointHosts, type PolicyView } from "./policies.ts";

export { BODY_LIMIT_BYTES } from "./limits.ts";

/** A decision to record as a Kubernetes Event (never for dry runs). */
export interface AdmissionEvent {
  type: "Warning";
  reason: EventReason;
  object: { apiVersion: string; kind: string; namespace: string; name: string };
  /** Redacted, like the refusal. */
  message: string;
}

export interface WebhookServerOptions {
  /** PEM. The server speaks TLS 1.3 only. */
  tls: { cert: string; key: string };
  evaluate: Evaluate;
  /**
   * The current policies (an informer cache), read once per review. Return the same array until the
   * cache changes: what the webhook derives from it (endpoint hosts) is computed once per array.
   */
  policies: () => readonly PolicyView[];
  /**
   * The cluster's namespaces (an informer cache), once listed: what an in-cluster name can be. Until then,
   * or when absent, a name whose second label is no public suffix counts as in-cluster.
   */
  namespaces?: () => ReadonlySet<string> | undefined;
  config: AdmissionConfig;
  logger: Logger;
  metrics: WebhookMetrics;
  /** Fire-and-forget; never called for dry runs (the webhook registers sideEffects: NoneOnDryRun). */
  events?: (event: AdmissionEvent) => void;
  /** /readyz: certificates loaded and policies synced. Ready when absent. */
  isReady?: () => boolean;
  /**
   * Whether a user may grant exemptions, and a namespace's action floor (the API server, cached). When
   * absent no exemption is honoured and the cluster's floor applies everywhere.
   */
  lookups?: Lookups;
  limits?: Partial<ServerLimits>;
  /** Large reviews, read and assessed in a worker within a budget; on the main thread when absent. */
  heavy?: HeavyReviews;
}

/** The TLS settings of every secure context the server uses: at start and on each certificate reload. */
const TLS_OPTIONS = { minVersion: "TLSv1.3" } as const;

/** Per server: how many times its certificate was replaced, and which count each connection began under. */
const certificateGenerations = new WeakMap<FastifyInstance, { current: number; bySocket: WeakMap<object, number> }>();

/**
 * Serves a new certificate without a restart (after a rotation): new connections get it, and each open
 * connection is closed after its next answer (`Connection: close`), so clients such as the API server
 * reconnect and verify the new certificate now. Closing idle connections instead would race a request
 * the client is sending. Still TLS 1.3 only: the context is rebuilt with the same options.
 */
export function setServingCertificate(app: FastifyInstance, tls: { cert: string; key: string }): void {
  (app.server as unknown as Pick<TlsServer, "setSecureContext">).setSecureContext({ ...tls, ...TLS_OPTIONS });
  const generations = certificateGenerations.get(app);
  if (generations) generations.current++;
}

/** Tracks which certificate each connection began under; true for a request whose connection must close. */
function closeConnectionsOfOldCertificates(app: FastifyInstance): (socket: object) => boolean {
  const generations = { current: 0, bySocket: new WeakMap<object, number>() };
  certificateGenerations.set(app, generations);
  app.server.on("secureConnection", (socket: object) => generations.bySocket.set(socket, generations.current));
  return (socket) => {
    const began = generations.bySocket.get(socket);
    return began !== undefined && began < generations.current;
  };
}

/** Fixed reasons for the framework's refusals: its own messages may quote the body (JSON.parse does). */
const FRAMEWORK_REASONS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: `the body is larger than ${BODY_LIMIT_BYTES} bytes (${BODY_LIMIT_BYTES / 2 ** 20} MiB), more than the API server can send`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "the content type is not supported: send the AdmissionReview as application/json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "the body is empty: send an AdmissionReview admission.k8s.io/v1 as JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "the body is not valid JSON",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "the Content-Length header does not match the body",
  FST_ERR_BAD_URL: "the URL is not valid",
};

/**
 * Bodies up to this size are charged to the budget in full when their headers arrive (the API server's
 * ordinary reviews: the connection cap bounds them to 32 MiB in all); larger ones as their bytes arrive,
 * so a client that announces megabytes and sends nothing holds nothing.
 */
const CHARGED_AT_ONCE_BYTES = 64 * 1024;
const BUSY_REASON = "the webhook is reading too many large bodies; retry";

/**
 * The body's announced length. client-go sends the encoded review as bytes, with a Content-Length; a chunked
 * body has none (NaN: counted as large); a request with neither header has no body (HTTP/1.1).
 */
function bodyLength(headers: IncomingHttpHeaders): number {
  if (headers["content-length"] !== undefined) return Number(headers["content-length"]);
  return headers["transfer-encoding"] === undefined ? 0 : Number.NaN;
}

/** The bytes of the bodies being read have reached the budget: answered 503, the body not read further. */
class BodyBudgetSpent extends Error {
  readonly statusCode = 503;
}

const ROUTES_HINT = "this server answers POST /validate, GET /healthz, GET /readyz and GET /metrics";

export function buildWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const { logger, metrics } = options;
  const limits = serverLimits(options.limits);
  /** A request refused before any decision: counted, logged (metadata only) and answered in JSON. */
  const refuse = (reply: FastifyReply, code: number, reason: string): FastifyReply => {
    metrics.rejected.inc({ code: String(code) });
    logger.warn({ statusCode: code, reason }, "refused a request before reviewing it");
    return reply.code(code).send({ error: STATUS_CODES[code] ?? "Error", reason });
  };
  const onError = (reply: FastifyReply, error: FastifyError): FastifyReply => {
    if (error instanceof BodyBudgetSpent) return refuse(reply, 503, BUSY_REASON);
    const code = error.statusCode ?? 500;
    if (code >= 400 && code < 500)
      return refuse(reply, code, FRAMEWORK_REASONS[error.code] ?? STATUS_CODES[code] ?? "refused");
    logger.error({ err: error }, "webhook request failed");
    return reply.code(500).send({ error: "Internal Server Error", reason: "internal error: see the webhook's log" });
  };
  const https: ServerOptions = {
    cert: options.tls.cert,
    key: options.tls.key,
    ...TLS_OPTIONS,
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    // Node checks the header and request timeouts on this interval (30 s by default): a slow client would outlive them.
    connectionsCheckingInterval: 1_000,
  };
  const app = Fastify({
    https,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    loggerInstance: logger as FastifyBaseLogger,
    // One line per decision is written by the handler; fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, _request, reply) => onError(reply, error),
  });
  guardConnections(app.server, limits.maxConnections);
  const oldCertificate = closeConnectionsOfOldCertificates(app);
  const budget = bodyBudget(limits.maxBodyBytesInFlight);
  const reservations = new WeakMap<object, number>();
  // Callback hooks, not async ones: every review passes them, and a promise each costs on the admission path.
  app.addHook("onRequest", (request, reply, done) => {
    if (oldCertificate(request.raw.socket)) reply.header("connection", "close");
    const length = bodyLength(request.headers);
    const small = length <= CHARGED_AT_ONCE_BYTES;
    if (small && !budget.reserve(length)) return refuse(reply, 503, BUSY_REASON);
    reservations.set(request, small ? length : 0);
    done();
  });
  app.addHook("preParsing", (request, _reply, payload, done) => {
    // Whatever the method: fastify reads the body of a PUT or a PATCH too, if only to answer 404.
    if (reservations.get(request) !== 0 || bodyLength(request.headers) === 0) return done(null, payload);
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        const held = reservations.get(request);
        // Answered already (refused, too large): what still arrives is not kept, so it is not charged.
        if (held === undefined) return next(null, chunk);
        if (!budget.reserve(chunk.length)) return next(new BodyBudgetSpent());
        reservations.set(request, held + chunk.length);
        next(null, chunk);
      },
    });
    done(
      null,
      pipeline(payload, counted, () => undefined),
    );
  });
  const release = (request: object) => {
    budget.release(reservations.get(request) ?? 0);
    reservations.delete(request);
  };
  app.addHook("onResponse", (request, _reply, done) => {
    release(request);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    release(request);
    done();
  });
  // Only JSON: a text/plain body is a 415, not a string to validate. A large body stays bytes, for the worker.
  app.removeContentTypeParser("text/plain");
  // __proto__ and constructor keys are kept as the plain own keys JSON.parse makes of them, and reviewed: the API
  // server stores them (a ConfigMap may have a key "__proto__"), and a 400 would be a call failure, which
  // failurePolicy Ignore admits unreviewed. Nothing here merges the object into another.
  const parseJson = app.getDefaultJsonParser("ignore", "ignore");
  const heavyFrom = options.heavy?.options.thresholdBytes ?? Number.POSITIVE_INFINITY;
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length >= heavyFrom) return done(null, new HeavyBody(bytes));
    parseJson(request, bytes.toString("utf8"), done);
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => onError(reply, error));
  // On close Node ends idle keep-alive connections, but not one that never carried a request: the API
  // server's client dials spares and keeps them idle for 90 s, which would hold close() as long.
  const unused = new Set<Socket>();
  let closing = false;
  app.server.on("secureConnection", (socket: Socket) => {
    if (closing) return socket.destroy();
    unused.add(socket);
    socket.once("close", () => unused.delete(socket));
  });
  app.server.on("request", (request: IncomingMessage) => unused.delete(request.socket));
  app.addHook("preClose", async () => {
    closing = true;
    for (const socket of unused) socket.destroy();
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "Not Found", reason: ROUTES_HINT }));

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    if (options.isReady?.() ?? true) return { status: "ready" };
    return reply.code(503).send({ status: "not ready", reason: "certificates or policies are not loaded yet" });
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.post("/validate", async (request, reply) => {
    const policies = options.policies();
    const namespaces = options.namespaces?.();
    const scope = { policies, hosts: endpointHosts(policies), ...(namespaces && { namespaces }) };
    let review: AdmissionRequest;
    let assessment: Assessment;
    if (request.body instanceof HeavyBody && options.heavy) {
      // The worker says which ConfigMaps the object reads once it has parsed it; they are fetched here.
      const follow = (envelope: AdmissionRequest, names: readonly string[]) =>
        configMapsOf(envelope, options.config, options.lookups, names);
      const result = await options.heavy.review(request.body.bytes, options.config, scope, follow);
      if (!result.ok) return refuse(reply, result.code, result.reason);
      ({ request: review, assessment } = result);
    } else {
      const parsed = parseAdmissionReview(request.body);
      if (!parsed.ok) return refuse(reply, 400, parsed.reason);
      review = parsed.request;
      const configMaps = configMapsOf(review, options.config, options.lookups);
      const withConfigMaps = configMaps
        ? { ...scope, ...followedConfigMaps(review.namespace ?? "", await configMaps) }
        : scope;
      assessment = assess({
        request: review,
        config: options.config,
        evaluate: options.evaluate,
        scope: withConfigMaps,
      });
    }
    const user = userOf(review);
    const pending = conclude(options, user, assessment, policies);
    const decision = pending instanceof Promise ? await pending : pending;
    record(options, review, user, assessment, decision, reply.elapsedTime);
    return reviewResponse({
      uid: review.uid,
      allowed: decision.allowed,
      ...(decision.status && { status: decision.status }),
      ...(decision.warnings.length > 0 && { warnings: decision.warnings }),
    });
  });
  return app;
}

/**
 * Asks what the decision needs from the API server (only when it does), then decides; synchronously when
 * it needs nothing, as for every clean object.
 */
function conclude(
  options: WebhookServerOptions,
  user: UserInfo,
  assessment: Assessment,
  policies: readonly PolicyView[],
): Decision | Promise<Decision> {
  const { config, lookups } = options;
  const needs = lookupsNeeded(assessment, { config, policies, user });
  if (!lookups || (!needs.exemption && !needs.floor)) return decide(assessment, { config, policies, user });
  const namespace = assessment.subject.namespace;
  return Promise.all([
    needs.exemption ? lookups.mayExempt(user, namespace) : false,
    needs.floor ? lookups.namespaceFloor(namespace) : undefined,
  ]).then(([exemptionGranted, namespaceFloor]) =>
    decide(assessment, { config, policies, user, exemptionGranted, ...(namespaceFloor && { namespaceFloor }) }),
  );
}

/** The decision's side of the ledger: one log line, the metrics, and the Events (not for dry runs). */
function record(
  options: WebhookServerOptions,
  review: AdmissionRequest,
  user: UserInfo,
  assessment: Assessment,
  decision: Decision,
  elapsedMs: number,
): void {
  const { metrics, logger } = options;
  const kind = isReviewedKind(review.kind) || isPolicyKind(review.kind) ? review.kind.kind : "other";
  const dryRun = review.dryRun === true;
  metrics.answered({ decision: decision.outcome, kind, operation: review.operation }, elapsedMs / 1000);
  if (dryRun && !decision.allowed) metrics.dryRunRefused(user.username);
  for (const finding of decision.findings) {
    metrics.findings.inc({ rule: finding.rule, action: findingAction(decision, finding) });
  }
  const exempted = decision.findings.some((finding) => finding.exempt);
  logger.info(
    {
      uid: review.uid,
      kind: review.kind.kind,
      namespace: decision.subject.namespace,
      name: decision.subject.name,
      operation: review.operation,
      ...(review.subResource && { subResource: review.subResource }),
      dryRun,
      user: user.username,
      decision: decision.outcome,
      action: decision.action,
      ...(decision.unregisteredAction && { unregisteredAction: decision.unregisteredAction }),
      rules: ruleIds(decision.findings, false),
      exemptRules: ruleIds(decision.findings, true),
      ...(exempted && { exemptionGranted: true }),
      ...(decision.existing > 0 && { existingFindings: decision.existing }),
      ...(assessment.configMapsNotFollowed && { configMapsNotFollowed: assessment.configMapsNotFollowed }),
      note: decision.note,
      durationMs: Math.round(elapsedMs * 1000) / 1000,
    },
    "admission decision",
  );
  if (!options.events || dryRun || decision.subject.nameHoldsKey) return;
  const { group, version } = review.kind;
  for (const event of decision.events) {
    emit(options, {
      type: "Warning",
      reason: event.reason,
      object: {
        apiVersion: group ? `${group}/${version}` : version,
        kind: review.kind.kind,
        namespace: decision.subject.namespace,
        name: decision.subject.name,
      },
      message: event.message,
    });
  }
}

/** The distinct rule ids of the (exempt or enforced) findings, in order of first appearance. */
function ruleIds(findings: readonly Finding[], exempt: boolean): RuleId[] {
  if (findings.length === 0) return [];
  return [...new Set(findings.filter((f) => f.exempt === exempt).map((f) => f.rule))];
}

/** Fire-and-forget: a failing Event sink is logged, never allowed to change the answer. */
function emit(options: WebhookServerOptions, event: AdmissionEvent): void {
  const report = (error: unknown) =>
    options.logger.warn({ err: error, reason: event.reason }, "could not record the admission Event");
  try {
    Promise.resolve(options.events?.(event)).catch(report);
  } catch (error) {
    report(error);
  }
}
