// Authorization the Kubernetes way: a SubjectAccessReview for the token's subject and groups, so access
// to the read API is granted with ordinary RBAC. Answers are cached briefly (both ways) and the cache
// is bounded; a review the API server does not answer in time is not cached.
import { accessAllowed } from "../kube/access-review.ts";
import type { KubeRest } from "../kube/rest.ts";
import type { Subject } from "./authenticate.ts";

/** A read API request waits this long for each answer of the API server: one that stalls must not hold it. */
export const API_SERVER_TIMEOUT_MS = 2_000;

export interface Access {
  verb: "list";
  group: string;
  resource: string;
  /** Absent: cluster-wide. */
  namespace?: string;
}

export type Authorize = (subject: Subject, access: Access) => Promise<boolean>;

export interface AuthorizerOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** Asks the API server; `review` is replaceable so the cache can be tested without a cluster. */
export function subjectAccessReviewer(rest: KubeRest): Authorize {
  return (subject, access) =>
    accessAllowed(
      rest,
      {
        user: subject.user,
        groups: subject.groups,
        ...(subject.uid ? { uid: subject.uid } : {}),
        resourceAttributes: access,
      },
      API_SERVER_TIMEOUT_MS,
    );
}

export function cachedAuthorizer(review: Authorize, options: AuthorizerOptions = {}): Authorize {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 1_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return async (subject, access) => {
    const key = JSON.stringify([subject.user, [...subject.groups].sort(), subject.uid, access]);
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.allowed;
    const allowed = await review(subject, access);
    cache.delete(key);
    // Maps iterate in insertion order: the first key is the oldest entry.
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, { allowed, until: now() + ttlMs });
    return allowed;
  };
}
