// What the webhook asks the API server, each answer cached briefly and bounded in size. Before some
// decisions: may this user grant exemptions here (a SubjectAccessReview), and has a cluster admin lowered
// the action floor of this namespace (its label); both fail closed: an error is a no. Before reviewing a
// workload: the ConfigMaps it reads, for the AI API hosts in them; one that cannot be read is left out.
import { API_GROUP, PLURAL } from "../api/index.ts";
import { shownName } from "../engine/index.ts";
import { hostsIn, referencedConfigMaps } from "../engine/rules/unregistered-ai-api.ts";
import { accessAllowed } from "../kube/access-review.ts";
import { describeError, isApiError } from "../kube/errors.ts";
import type { KubeRest } from "../kube/rest.ts";
import type { Logger } from "../observability/logger.ts";
import { type TtlCacheOptions, ttlCache } from "../runtime/ttl-cache.ts";
import type { AdmissionRequest, UserInfo } from "./admission-review.ts";
import { type ReviewScope, whySkipped } from "./assess.ts";
import type { Action, AdmissionConfig } from "./config.ts";
import { FLOOR_LABEL } from "./policies.ts";

/** The RBAC verb on aiapipolicies that lets a user exempt objects in a namespace. */
export const EXEMPT_VERB = "exempt";
const ACTIONS: ReadonlySet<string> = new Set(["Deny", "Warn", "Audit"]);

export interface Lookups {
  mayExempt(user: UserInfo, namespace: string): Promise<boolean>;
  namespaceFloor(namespace: string): Promise<Action | undefined>;
  /**
   * The keys of a ConfigMap whose values name hosts, each value reduced to those host names (all that
   * unregistered-ai-api reads of it); undefined when it does not exist or cannot be read.
   */
  configMapHosts?(namespace: string, name: string): Promise<ConfigMapHosts | undefined>;
}

export type ConfigMapHosts = Readonly<Record<string, string>>;

/** ConfigMaps a review fetches at most, and host names kept of one: bounds on the wait and the cache. */
const MAX_CONFIGMAPS_PER_REVIEW = 16;
const MAX_HOST_CHARS_PER_CONFIGMAP = 16 * 1024;
/**
 * A review waits this long for an answer at most (a ConfigMap before the scan, then the SubjectAccessReview and
 * the namespace together): well within the webhook's own timeout, which the API server enforces by applying
 * failurePolicy (Ignore admits). undici alone would wait 300 s on a stalled connection.
 */
const LOOKUP_TIMEOUT_MS = 2_000;

export interface LookupOptions extends TtlCacheOptions {
  logger: Logger;
}

export function apiLookups(rest: KubeRest, options: LookupOptions): Lookups {
  const { logger } = options;
  const grants = ttlCache<boolean>(options);
  const floors = ttlCache<Action | undefined>(options);
  const configMaps = ttlCache<ConfigMapHosts | undefined>({ ...options, maxEntries: 256 });
  return {
    mayExempt: (user, namespace) =>
      grants(`${namespace}\u0000${JSON.stringify(user)}`, async () => {
        try {
          return await accessAllowed(
            rest,
            {
              user: user.username,
              uid: user.uid,
              groups: user.groups,
              extra: user.extra,
              resourceAttributes: { namespace, verb: EXEMPT_VERB, group: API_GROUP, resource: PLURAL },
            },
            LOOKUP_TIMEOUT_MS,
          );
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
            { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) },
          );
          const value = read.metadata?.labels?.[FLOOR_LABEL];
          return value !== undefined && ACTIONS.has(value) ? (value as Action) : undefined;
        } catch (error) {
          logger.warn({ error: describeError(error), namespace }, "could not read the namespace's action floor");
          return undefined;
        }
      }),
    configMapHosts: (namespace, name) =>
      configMaps(`${namespace}\u0000${name}`, async () => {
        try {
          const read = await rest.request<{ data?: Record<string, unknown> }>(
            `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
            { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) },
          );
          return hostsByKey(read.data ?? {});
        } catch (error) {
          // A ConfigMap created after the workload is common, and is no error of the webhook's.
          if (!isApiError(error) || error.code !== 404) {
            // Named with a key (a DeepSeek key is a valid name): the line and the API server's error show its hint.
            const shown = shownName(name);
            const reason = describeError(error).replaceAll(name, shown);
            logger.warn({ error: reason, namespace, configMap: shown }, "could not read a ConfigMap");
          }
          return undefined;
        }
      }),
  };
}

function hostsByKey(data: Record<string, unknown>): ConfigMapHosts {
  const kept: [string, string][] = [];
  let chars = 0;
  for (const [key, value] of Object.entries(data)) {
    const hosts = typeof value === "string" ? hostsIn(value) : [];
    if (hosts.length === 0) continue;
    const names = [...new Set(hosts)].join(" ");
    chars += names.length;
    if (chars > MAX_HOST_CHARS_PER_CONFIGMAP) break;
    kept.push([key, names]);
  }
  // Not `kept[key] = names`: a key named __proto__ would set the prototype (ignored for a string) and be lost.
  return Object.fromEntries(kept);
}

/** The ConfigMaps a review reads, as fetched; plain data, so that a worker can be sent it. */
export interface ReadConfigMaps {
  /** By name; undefined: absent or unreadable. */
  hosts: ReadonlyMap<string, ConfigMapHosts | undefined>;
  /** How many more the object reads, past the per-review bound: not read. */
  notFollowed: number;
}

/**
 * The ConfigMaps a reviewed workload reads, fetched (from the cache when it has them) for the engine to
 * follow; undefined, without a wait, for a review that reads none or is not reviewed. `names`: those the
 * object reads, when a worker that parsed it says so (the review then carries no object).
 */
export function configMapsOf(
  review: AdmissionRequest,
  config: AdmissionConfig,
  lookups: Lookups | undefined,
  names?: readonly string[],
): Promise<ReadConfigMaps> | undefined {
  const namespace = review.namespace ?? "";
  if (!lookups?.configMapHosts || namespace === "" || whySkipped(review, config) !== undefined) return undefined;
  const all = names ?? referencedConfigMaps(review.object);
  if (all.length === 0) return undefined;
  const wanted = all.slice(0, MAX_CONFIGMAPS_PER_REVIEW);
  const read = lookups.configMapHosts.bind(lookups);
  return Promise.all(wanted.map((name) => read(namespace, name))).then((found) => ({
    hosts: new Map(wanted.map((name, i) => [name, found[i]])),
    notFollowed: all.length - wanted.length,
  }));
}

/** What the review is judged with: the engine's view of what was read (only the review's namespace counts). */
export function followedConfigMaps(
  namespace: string,
  read: ReadConfigMaps,
): Pick<ReviewScope, "configMaps" | "configMapsNotFollowed"> {
  return {
    configMaps: (inNamespace, name) => (inNamespace === namespace ? read.hosts.get(name) : undefined),
    ...(read.notFollowed > 0 && { configMapsNotFollowed: read.notFollowed }),
  };
}
