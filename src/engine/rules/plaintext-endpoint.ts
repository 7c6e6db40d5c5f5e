// plaintext-endpoint: http:// and ws:// to hosts outside the cluster. Loopback, the unspecified
// address, link-local metadata services and in-cluster names cannot use public TLS and are fine;
// the endpoint of an AiApiPolicy must always be reached over TLS.
import type { Candidate } from "../extract.ts";
import type { Hit } from "./hit.ts";
import { type FoundUrl, isTemplatedHost } from "./urls.ts";

const PLAINTEXT_SCHEMES = new Set(["http", "ws"]);
// HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, --proxy: a proxy is reached in plaintext by design.
const PROXY_NAME = /proxy$/i;

export function isLocalOrInCluster(host: string): boolean {
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^169\.254\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === "::1" ||
    host === "0.0.0.0" ||
    host === "::" ||
    host.endsWith(".svc") ||
    host.endsWith(".cluster.local") ||
    (/^[a-z0-9-]+$/.test(host) && /[a-z]/.test(host)) // a single-label Service name
  );
}

export function plaintextEndpoints(
  candidate: Candidate,
  urls: readonly FoundUrl[],
  policyHosts: ReadonlySet<string>,
): Hit[] {
  // ConfigMaps are reviewed for secrets only; proxies are not endpoints.
  if (candidate.field === "data" || PROXY_NAME.test(candidate.name ?? "")) return [];
  const hits: Hit[] = [];
  for (const url of urls) {
    if (!PLAINTEXT_SCHEMES.has(url.scheme) || isTemplatedHost(url.host)) continue;
    const hint = `${url.scheme}://${url.host}`;
    const secure = url.scheme === "ws" ? "wss://" : "https://";
    if (policyHosts.has(url.host)) {
      hits.push({
        rule: "plaintext-endpoint",
        severity: "high",
        hint,
        what: `plaintext ${hint}, the endpoint of an AiApiPolicy`,
        fix: `Use ${secure}: an AiApiPolicy endpoint must be reached over TLS, in the cluster or not.`,
      });
    } else if (!isLocalOrInCluster(url.host)) {
      hits.push({
        rule: "plaintext-endpoint",
        severity: "medium",
        hint,
        what: `plaintext ${hint} outside the cluster`,
      });
    }
  }
  return hits;
}
