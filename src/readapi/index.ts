// Everything the operator needs to serve the read API, from a kubeconfig and its settings:
//   app.register(readApi, await readApiOptions(kc, settings, sources, logger))
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { AuditResult } from "../audit/audit.ts";
import { authenticator } from "./authenticate.ts";
import { cachedAuthorizer, subjectAccessReviewer } from "./authorize.ts";
import { kubernetesKeys, oidcKeys } from "./keys.ts";
import type { ReadApiOptions } from "./plugin.ts";
import { rateLimiter } from "./rate-limit.ts";

export { type FindingRecord, type ReadApiOptions, readApi } from "./plugin.ts";

export interface ReadApiSettings {
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

/**
 * The read API's data: the last audit run's inventory and findings (empty until the first run ends).
 * Pass `onResult` to auditLoop and the rest to readApiOptions.
 */
export function auditSources(): Pick<ReadApiOptions, "inventory" | "findings"> & {
  onResult: (result: AuditResult) => void;
} {
  let last: Pick<AuditResult, "inventory" | "findings"> = { inventory: { apis: [], unregistered: [] }, findings: [] };
  return {
    onResult: (result) => {
      last = result;
    },
    inventory: async () => last.inventory,
    findings: async () => last.findings,
  };
}

export async function readApiOptions(
  kc: k8s.KubeConfig,
  settings: ReadApiSettings,
  sources: Pick<ReadApiOptions, "inventory" | "findings">,
  logger: Logger,
): Promise<ReadApiOptions> {
  const { issuer, keys } = settings.issuer
    ? await oidcKeys(settings.issuer, settings.jwksUrl)
    : await kubernetesKeys(kc);
  return {
    authenticate: authenticator({ issuer, keys, audience: settings.audience, algorithms: settings.algorithms }),
    authorize: cachedAuthorizer(subjectAccessReviewer(kc)),
    rateLimit: rateLimiter({ perSecond: settings.requestsPerSecond ?? 5, burst: settings.burst ?? 20 }),
    ...sources,
    logger,
  };
}
