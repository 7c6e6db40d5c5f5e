// The read API, a fastify plugin for the operator's HTTPS server:
//   app.register(readApi, options)
// GET /api/v1/inventory and GET /api/v1/findings, JSON, filtered by ?namespace=, paged by ?limit= and
// ?continue=. Every request: Bearer JWT (authenticate.ts), a per-subject rate limit, a
// SubjectAccessReview (authorize.ts), and one log line with subject, path and decision, never the token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { API_GROUP, PLURAL } from "../api/index.ts";
import type { AuditFinding } from "../audit/report.ts";
import { shownName, shownRow } from "../engine/shown.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { describeError } from "../kube/errors.ts";
import { type Authenticate, challenge, type Subject } from "./authenticate.ts";
import type { Access, Authorize } from "./authorize.ts";
import type { Take } from "./rate-limit.ts";

/** A finding as the read API serves it: the audit's, redacted like every finding. */
export type FindingRecord = AuditFinding;

export interface ReadApiOptions {
  authenticate: Authenticate;
  authorize: Authorize;
  rateLimit: Take;
  /** The current inventory (the caller caches it) and the last audit's findings. */
  inventory: () => Promise<Inventory>;
  findings: () => Promise<readonly FindingRecord[]>;
  /** Whose `list` permission grants the findings: the reports they are read from (default reports.openreports.io). */
  findingsResource?: { group: string; resource: string };
  /**
   * Whose `list` permission grants the findings of cluster-scoped objects (namespace ""), served to cluster-wide
   * requests only: the cluster's report (default clusterreports.openreports.io).
   */
  clusterFindingsResource?: { group: string; resource: string };
  logger: Logger;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;

type Query = { namespace?: string; limit?: string; continue?: string };
type Decision = "allow" | "unauthenticated" | "forbidden" | "rate-limited" | "unavailable" | "bad-request";

export async function readApi(app: FastifyInstance, options: ReadApiOptions): Promise<void> {
  const { logger } = options;
  const log = (request: FastifyRequest, decision: Decision, status: number, subject?: Subject, reason?: string) =>
    logger.info(
      {
        subject: subject?.user,
        path: request.routeOptions.url,
        namespace: (request.query as Query).namespace,
        decision,
        status,
        reason,
      },
      "read API request",
    );

  /** Authentication and the rate limit: the subject when the request may go on; otherwise the reply is sent. */
  async function identify(request: FastifyRequest, reply: FastifyReply): Promise<Subject | undefined> {
    const authentication = await options.authenticate(request.headers.authorization);
    const limited = options.rateLimit(authentication.ok ? `user:${authentication.subject.user}` : `ip:${request.ip}`);
    if (!limited.ok) {
      log(request, "rate-limited", 429, authentication.ok ? authentication.subject : undefined);
      reply.code(429).header("retry-after", String(limited.retryAfterSeconds));
      await reply.send({ error: "Too Many Requests", reason: `retry after ${limited.retryAfterSeconds} s` });
      return undefined;
    }
    if (authentication.ok) return authentication.subject;
    const decision = authentication.status === 503 ? "unavailable" : "unauthenticated";
    log(request, decision, authentication.status, undefined, authentication.description);
    reply.code(authentication.status).header("www-authenticate", challenge(authentication));
    await reply.send({ error: authentication.error, reason: authentication.description });
    return undefined;
  }

  /** The API server's answer; undefined (logged) when it gave none. */
  function reviewed(subject: Subject, access: Access): Promise<boolean | undefined> {
    return options.authorize(subject, access).catch((error: unknown) => {
      logger.warn({ error: describeError(error) }, "read API: the API server could not review an access");
      return undefined;
    });
  }

  /**
   * A route: who asks, its RBAC check, and the items of one namespace (or all), paged. With `clusterResource`, the
   * items of cluster-scoped objects are served only to whoever may list it as well.
   */
  function route<T extends { namespace: string }>(
    path: string,
    resource: Omit<Access, "verb" | "namespace">,
    items: () => Promise<readonly T[]>,
    clusterResource?: Omit<Access, "verb" | "namespace">,
  ) {
    app.get(path, async (request, reply) => {
      const subject = await identify(request, reply);
      if (!subject) return reply;
      const query = request.query as Query;
      const page = parsePage(query);
      if (typeof page === "string") {
        log(request, "bad-request", 400, subject, page);
        return reply.code(400).send({ error: "Bad Request", reason: page });
      }
      const access: Access = { verb: "list", ...resource, ...(query.namespace ? { namespace: query.namespace } : {}) };
      const allowed = await reviewed(subject, access);
      if (allowed === undefined) {
        const reason = "the API server cannot review the access: try again later";
        log(request, "unavailable", 503, subject, reason);
        return reply.code(503).send({ error: "Service Unavailable", reason });
      }
      if (!allowed) {
        // A namespace, and a service account's user name with it, can be a key.
        const scope = access.namespace ? `in namespace ${shownName(access.namespace)}` : "cluster-wide";
        const reason = `${shownName(subject.user)} may not list ${access.resource}.${access.group} ${scope}: grant it with RBAC`;
        log(request, "forbidden", 403, subject, reason);
        return reply.code(403).send({ error: "Forbidden", reason });
      }
      log(request, "allow", 200, subject);
      let all = (await items()).filter((item) => !query.namespace || item.namespace === query.namespace);
      // Not allowed, or not known: the cluster's items are left out, the rest is served.
      if (clusterResource && all.some((item) => item.namespace === "")) {
        if ((await reviewed(subject, { verb: "list", ...clusterResource })) !== true)
          all = all.filter((item) => item.namespace !== "");
      }
      const slice = all.slice(page.offset, page.offset + page.limit).map(shownRow);
      const next = page.offset + slice.length;
      return {
        items: slice,
        metadata: { total: all.length, ...(next < all.length ? { continue: encodeToken(next) } : {}) },
      };
    });
  }

  route("/api/v1/inventory", { group: API_GROUP, resource: PLURAL }, async () => {
    const inventory = await options.inventory();
    return [
      ...inventory.apis.map((api) => ({ type: "registered", ...api })),
      ...inventory.unregistered.map((use) => ({ type: "unregistered", ...use })),
    ];
  });
  route(
    "/api/v1/findings",
    options.findingsResource ?? { group: "openreports.io", resource: "reports" },
    options.findings,
    options.clusterFindingsResource ?? { group: "openreports.io", resource: "clusterreports" },
  );
}

function parsePage(query: Query): { offset: number; limit: number } | string {
  if (query.namespace !== undefined && !NAMESPACE.test(query.namespace))
    return "namespace must be a namespace name (lowercase letters, digits and '-')";
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    return `limit must be a whole number from 1 to ${MAX_LIMIT}`;
  if (query.continue === undefined) return { offset: 0, limit };
  const offset = decodeToken(query.continue);
  if (offset === undefined) return "continue must be the metadata.continue of the previous page";
  return { offset, limit };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodeToken(token: string): number | undefined {
  try {
    const { o } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
    return typeof o === "number" && Number.isInteger(o) && o >= 0 ? o : undefined;
  } catch {
    return undefined;
  }
}
