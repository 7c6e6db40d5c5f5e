// plaintext-endpoint: http:// and ws:// to hosts outside the cluster. Loopback, the unspecified
// address, link-local metadata services and in-cluster names cannot use public TLS and are fine;
// the endpoint of an AiApiPolicy must always be reached over TLS.
import { parse } from "tldts";
import type { Candidate, Field } from "../extract.ts";
import type { Hit } from "./hit.ts";
import { type FoundUrl, isTemplatedHost } from "./urls.ts";

const PLAINTEXT_SCHEMES = new Set(["http", "ws"]);
// HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, --proxy: a proxy is reached in plaintext by design.
const PROXY_NAME = /proxy$/i;
/** Annotations, labels, other settings and names name URLs (docs, schemas, webhooks of other tools) as often as endpoints. */
const NOT_ENDPOINTS: ReadonlySet<Field> = new Set(["annotation", "label", "setting", "name", "objectName"]);
// A ConfigMap value that is one URL and nothing else: a base URL handed to a container through envFrom.
const BARE_URL = /^\s*[a-z][a-z0-9+.-]{0,15}:\/\/\S+\s*$/i;
const METADATA_SERVERS = new Set(["metadata.google.internal", "metadata"]);

export interface Cluster {
  /** Namespaces the cluster has; authoritative when given. */
  namespaces?: ReadonlySet<string>;
  /** The cluster domain, lowercase: cluster.local unless the kubelet says otherwise. */
  domain: string;
}

const DEFAULT_CLUSTER: Cluster = { domain: "cluster.local" };

export function isLocalOrInCluster(host: string, cluster: Cluster = DEFAULT_CLUSTER): boolean {
  if (host.includes(":")) return isLocalIPv6(host);
  if (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^169\.254\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === "::1" ||
    host === "0.0.0.0" ||
    host === "::" ||
    METADATA_SERVERS.has(host) ||
    host.endsWith(".svc") ||
    (host.endsWith(cluster.domain) && host.at(-cluster.domain.length - 1) === ".") ||
    (/^[a-z0-9-]+$/.test(host) && /[a-z]/.test(host)) // a single-label Service name
  )
    return true;
  const labels = host.split(".");
  // <service>.<namespace>: the cluster's own namespaces decide; offline, a name under no public suffix.
  if (labels.length === 2 && cluster.namespaces) return cluster.namespaces.has(labels[1] ?? "");
  return !/^[\d.]+$/.test(host) && parse(host, { extractHostname: false }).isIcann !== true;
}

/**
 * Loopback, unspecified, link-local (fe80::/10) and AWS's fd00:ec2:: services (IMDS fd00:ec2::254, EKS Pod
 * Identity fd00:ec2::23: the IPv6 twins of 169.254.169.254 and 169.254.170.23), in any spelling.
 */
function isLocalIPv6(host: string): boolean {
  let address: string;
  try {
    // Without a zone (fe80::1%eth0); the URL parser writes the address in its one short form.
    address = new URL(`http://[${host.replace(/%.*$/, "")}]`).hostname.slice(1, -1);
  } catch {
    return false;
  }
  const mapped = /^::ffff:([\da-f]{1,4}):[\da-f]{1,4}$/.exec(address)?.[1];
  if (mapped !== undefined) {
    const high = Number.parseInt(mapped, 16);
    return high >> 8 === 127 || high === 0xa9fe;
  }
  return address === "::1" || address === "::" || /^fe[89ab][\da-f]:/.test(address) || address.startsWith("fd00:ec2:");
}

export function plaintextEndpoints(
  candidate: Candidate,
  urls: readonly FoundUrl[],
  policyHosts: ReadonlySet<string>,
  cluster: Cluster = DEFAULT_CLUSTER,
): Hit[] {
  // Proxies are not endpoints; in a ConfigMap only a value that is a URL is an endpoint (a config file's
  // URLs are namespaces, schemas and links as often as endpoints).
  if (PROXY_NAME.test(candidate.name ?? "")) return [];
  if (candidate.field === "data" && !BARE_URL.test(candidate.value)) return [];
  if (NOT_ENDPOINTS.has(candidate.field)) return [];
  // A probe's path is a request to the container itself; a URL in its query is a parameter.
  if (candidate.field === "probe" && candidate.tail.at(-1) === "path") return [];
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
    } else if (!isLocalOrInCluster(url.host, cluster)) {
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
