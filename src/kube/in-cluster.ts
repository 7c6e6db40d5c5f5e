// The pod's service account, read without @kubernetes/client-node: importing it costs about 70 MiB
// of RSS (docs/benchmarks.md), and in a pod all it would do is read these files. The same rules as
// client-node's loadFromCluster: the server from KUBERNETES_SERVICE_HOST/PORT, the token file read
// again once a minute (the kubelet rotates it), the CA read for every new connection pool.
import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { join } from "node:path";
import { Agent } from "undici";
import type { KubeAccess } from "./config.ts";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const TOKEN_TTL_MS = 60_000;

/** The service account's access, or undefined when this is not a pod (no service host or token). */
export function inClusterAccess(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): KubeAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const scheme = ["80", "8080", "8001"].includes(port) ? "http" : "https";
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  let token: { value: string; readAt: number } | undefined;
  return {
    getCurrentCluster: () => ({ server }),
    async applySecurityAuthentication(context) {
      if (!token || Date.now() - token.readAt >= TOKEN_TTL_MS)
        token = { value: readFileSync(tokenFile, "utf8"), readAt: Date.now() };
      context.setHeaderParam("Authorization", `Bearer ${token.value}`);
      const ca = readFileSync(join(dir, "ca.crt"));
      context.setDispatcher(new Agent({ connect: { ca, keepAlive: true, keepAliveInitialDelay: 30_000 } }));
    },
  };
}
