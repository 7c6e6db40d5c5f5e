// Where the read API finds its issuer and keys. In a cluster by default: the API server's own
// service-account issuer (/.well-known/openid-configuration) and its /openid/v1/jwks, fetched with the
// operator's credentials and the API server's CA. Or a configured OIDC issuer and JWKS URL.
import { request } from "node:https";
import type * as k8s from "@kubernetes/client-node";
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";

export interface KeySource {
  issuer: string;
  keys: JWTVerifyGetKey;
}

/** jose's cache: keys kept 10 minutes, refetched on an unknown kid, but never more than once per `refreshFloorMs`. */
export interface JwksTiming {
  refreshFloorMs?: number;
  cacheMaxAgeMs?: number;
}

function remoteKeys(url: URL, timing: JwksTiming, fetchImpl?: typeof fetch): JWTVerifyGetKey {
  return createRemoteJWKSet(url, {
    cooldownDuration: timing.refreshFloorMs ?? 30_000,
    cacheMaxAge: timing.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: 5_000,
    ...(fetchImpl ? { [customFetch]: fetchImpl } : {}),
  });
}

/** A configured OIDC issuer: its JWKS URL, or the jwks_uri of its discovery document. */
export async function oidcKeys(
  issuer: string,
  jwksUrl: string | undefined,
  timing: JwksTiming = {},
): Promise<KeySource> {
  const url =
    jwksUrl ?? (await discover(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, fetch)).jwks_uri;
  return { issuer, keys: remoteKeys(new URL(url), timing) };
}

/** The API server's service-account issuer and keys, read through the kubeconfig's connection. */
export async function kubernetesKeys(kc: k8s.KubeConfig, timing: JwksTiming = {}): Promise<KeySource> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("read API: the kubeconfig names no cluster to take the service-account issuer from");
  const viaApiServer = kubeFetch(kc);
  const { issuer } = await discover(`${server}/.well-known/openid-configuration`, viaApiServer);
  // The discovery document's jwks_uri is the issuer's public address, which may not resolve from here.
  return { issuer, keys: remoteKeys(new URL(`${server}/openid/v1/jwks`), timing, viaApiServer) };
}

/** As long as a JWKS fetch may take: an issuer that never answers must not hold every request forever. */
const DISCOVERY_TIMEOUT_MS = 5_000;

async function discover(url: string, fetchImpl: typeof fetch): Promise<{ issuer: string; jwks_uri: string }> {
  const signal = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS);
  const response = await fetchImpl(url, { headers: { accept: "application/json" }, signal });
  if (!response.ok) throw new Error(`read API: ${url} answered HTTP ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof document.issuer !== "string" || typeof document.jwks_uri !== "string")
    throw new Error(`read API: ${url} is not an OpenID discovery document (no issuer or jwks_uri)`);
  return { issuer: document.issuer, jwks_uri: document.jwks_uri };
}

/** A fetch that goes to the API server with the kubeconfig's CA and credentials (node's fetch takes neither). */
export function kubeFetch(kc: k8s.KubeConfig): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const options: import("node:https").RequestOptions = { method: "GET", headers: {} };
    await kc.applyToHTTPSOptions(options);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { ...options, signal: init?.signal ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve(
            new Response(Buffer.concat(chunks), {
              status: res.statusCode ?? 500,
              headers: { "content-type": String(res.headers["content-type"] ?? "application/json") },
            }),
          ),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }) as typeof fetch;
}
