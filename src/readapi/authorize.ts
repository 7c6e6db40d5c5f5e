// Authorization the Kubernetes way: a SubjectAccessReview for the token's subject and groups, so access
// to the read API is granted with ordinary RBAC. Answers are cached briefly (both ways) and the cache
// is bounded.
import * as k8s from "@kubernetes/client-node";
import type { Subject } from "./authenticate.ts";

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
export function subjectAccessReviewer(kc: k8s.KubeConfig): Authorize {
  const api = kc.makeApiClient(k8s.AuthorizationV1Api);
  return async (subject, access) => {
    const review = await api.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: subject.user,
          groups: subject.groups,
          ...(subject.uid ? { uid: subject.uid } : {}),
          resourceAttributes: {
            verb: access.verb,
            group: access.group,
            resource: access.resource,
            ...(access.namespace ? { namespace: access.namespace } : {}),
          },
        },
      },
    });
    return review.status?.allowed === true;
  };
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
