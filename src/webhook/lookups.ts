// The two questions the webhook asks the API server before some decisions, each cached briefly and
// bounded in size: may this user grant exemptions here (a SubjectAccessReview), and has a cluster
// admin lowered the action floor of this namespace (its label). Both fail closed: an error is a no.
import { API_GROUP, PLURAL } from "../api/index.ts";
import { describeError } from "../kube/errors.ts";
import type { KubeRest } from "../kube/rest.ts";
import type { Logger } from "../observability/logger.ts";
import type { UserInfo } from "./admission-review.ts";
import type { Action } from "./config.ts";
import { FLOOR_LABEL } from "./policies.ts";

/** The RBAC verb on aiapipolicies that lets a user exempt objects in a namespace. */
export const EXEMPT_VERB = "exempt";
const ACTIONS: ReadonlySet<string> = new Set(["Deny", "Warn", "Audit"]);

export interface Lookups {
  mayExempt(user: UserInfo, namespace: string): Promise<boolean>;
  namespaceFloor(namespace: string): Promise<Action | undefined>;
}

export interface LookupOptions {
  logger: Logger;
  /** How long an answer is reused; RBAC and label changes take effect within it. */
  ttlMs?: number;
  /** Entries kept; the oldest go first. */
  maxEntries?: number;
}

export function apiLookups(rest: KubeRest, options: LookupOptions): Lookups {
  const { logger } = options;
  const grants = ttlCache<boolean>(options);
  const floors = ttlCache<Action | undefined>(options);
  return {
    mayExempt: (user, namespace) =>
      grants(`${namespace}\u0000${JSON.stringify(user)}`, async () => {
        try {
          const review = await rest.request<{ status?: { allowed?: boolean } }>(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            {
              method: "POST",
              body: {
                apiVersion: "authorization.k8s.io/v1",
                kind: "SubjectAccessReview",
                spec: {
                  user: user.username,
                  uid: user.uid,
                  groups: user.groups,
                  extra: user.extra,
                  resourceAttributes: { namespace, verb: EXEMPT_VERB, group: API_GROUP, resource: PLURAL },
                },
              },
            },
          );
          return review.status?.allowed === true;
        } catch (error) {
          logger.warn({ error: describeError(error), namespace }, "could not ask whether a user may grant exemptions");
          return false;
        }
      }),
    namespaceFloor: (namespace) =>
      floors(namespace, async () => {
        try {
          const read = await rest.request<{ metadata?: { labels?: Record<string, string> } }>(
            `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
          );
          const value = read.metadata?.labels?.[FLOOR_LABEL];
          return value !== undefined && ACTIONS.has(value) ? (value as Action) : undefined;
        } catch (error) {
          logger.warn({ error: describeError(error), namespace }, "could not read the namespace's action floor");
          return undefined;
        }
      }),
  };
}

/** A small cache of promises: concurrent askers share one call; answers expire after the TTL. */
export function ttlCache<T>({ ttlMs = 10_000, maxEntries = 1_000 }: Omit<LookupOptions, "logger">) {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return (key: string, load: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    entries.delete(key);
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    const value = load();
    entries.set(key, { at: now, value });
    return value;
  };
}
