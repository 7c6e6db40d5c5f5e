// Everything the operator needs to serve the read API, from a kubeconfig and its settings:
//   app.register(readApi, readApiOptions(kc, settings, clusterSources(kc, scope), logger))
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { KubeRest } from "../kube/rest.ts";
import { type Authenticate, authenticator, unavailable } from "./authenticate.ts";
import { cachedAuthorizer, subjectAccessReviewer } from "./authorize.ts";
import { kubernetesKeys, oidcKeys } from "./keys.ts";
import type { ReadApiOptions } from "./plugin.ts";
import { rateLimiter } from "./rate-limit.ts";
import { type ClaimMappingSettings, claimMappings, oidcSubject, serviceAccountSubject } from "./subjects.ts";
import { tokenReviewer } from "./token-review.ts";

export { type FindingRecord, type ReadApiOptions, readApi } from "./plugin.ts";
export { clusterSources } from "./sources.ts";

/** With an OIDC issuer, its claim mappings: set as the API server's --oidc-* flags to name users alike. */
export interface ReadApiSettings extends ClaimMappingSettings {
  /** An OIDC issuer; absent: the API server's service-account issuer and keys. */
  issuer?: string;
  /** The issuer's JWKS URL; absent: from its discovery document. */
  jwksUrl?: string;
  /** The audience tokens must be made for (kubectl create token --audience ai-api-guard). */
  audience: string;
  algorithms?: string[];
  requestsPerSecond?: number;
  burst?: number;
}

export const DEFAULT_AUDIENCE = "ai-api-guard";

export function readApiOptions(
  kc: k8s.KubeConfig,
  settings: ReadApiSettings,
  sources: Pick<ReadApiOptions, "inventory" | "findings" | "findingsResource" | "clusterFindingsResource">,
  logger: Logger,
): ReadApiOptions {
  const rest = new KubeRest(kc);
  return {
    authenticate: lazyAuthenticator(kc, rest, settings, logger),
    authorize: cachedAuthorizer(subjectAccessReviewer(rest)),
    rateLimit: rateLimiter({ perSecond: settings.requestsPerSecond ?? 5, burst: settings.burst ?? 20 }),
    ...sources,
    logger,
  };
}

/**
 * The issuer is discovered at the first request, not at start: the operator never waits for (or fails
 * on) it. A discovery that fails answers 503 and is tried again at the next request. A service-account
 * token is also reviewed by the API server, which alone knows whether its service account still exists.
 */
function lazyAuthenticator(
  kc: k8s.KubeConfig,
  rest: KubeRest,
  settings: ReadApiSettings,
  logger: Logger,
): Authenticate {
  let ready: Promise<Authenticate> | undefined;
  const discover = async () => {
    const source = settings.issuer
      ? {
          ...(await oidcKeys(settings.issuer, settings.jwksUrl)),
          subjectOf: oidcSubject(claimMappings(settings.issuer, settings)),
        }
      : {
          ...(await kubernetesKeys(kc)),
          subjectOf: serviceAccountSubject,
          review: tokenReviewer(rest, { audience: settings.audience, logger }),
        };
    return authenticator({ ...source, audience: settings.audience, algorithms: settings.algorithms });
  };
  return async (authorization) => {
    ready ??= discover();
    try {
      return await (await ready)(authorization);
    } catch (error) {
      ready = undefined;
      logger.warn({ error: (error as Error).message }, "read API: cannot discover the token issuer");
      return unavailable("the token issuer cannot be reached");
    }
  };
}
