import * as k8s from "@kubernetes/client-node";
import type { Dispatcher } from "undici";

/** What KubeRest needs of a kubeconfig; client-node's KubeConfig is one. */
export interface KubeAccess {
  getCurrentCluster(): { server: string } | null;
  /** Sets one request's credentials: its headers and the connection pool with its TLS material. */
  applySecurityAuthentication(context: AuthContext): Promise<void>;
}

export interface AuthContext {
  setHeaderParam(key: string, value: string): void;
  setDispatcher(dispatcher: Dispatcher): void;
}

/**
 * The kubeconfig at `path`, or the default chain (KUBECONFIG, ~/.kube/config, the in-cluster
 * service account), at `context` when given (kubectl's --context). Throws an error that names the file
 * and what to do.
 */
export function loadKubeConfig(path?: string, context?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (error) {
    throw new Error(
      `cannot read the kubeconfig ${path ?? "(default: KUBECONFIG, ~/.kube/config or in-cluster)"}: ${(error as Error).message}; pass --kubeconfig PATH`,
    );
  }
  // With nothing to read, client-node makes up http://localhost:8080, which it then refuses to call.
  if (!path && isMadeUpDefault(kc))
    throw new Error(
      "no kubeconfig found: KUBECONFIG is not set, there is no ~/.kube/config and no in-cluster service account; pass --kubeconfig PATH",
    );
  if (context !== undefined) {
    const known = kc.getContexts().map((each) => each.name);
    if (!known.includes(context))
      throw new Error(
        `the kubeconfig ${path ?? "(default)"} has no context "${context}" (it has: ${known.join(", ") || "none"}); pass one of them to --context`,
      );
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `the kubeconfig ${path ?? "(default)"} names no current cluster; set current-context or pass --kubeconfig`,
    );
  }
  return kc;
}

function isMadeUpDefault(kc: k8s.KubeConfig): boolean {
  const [cluster, ...others] = kc.getClusters();
  return others.length === 0 && cluster?.name === "cluster" && cluster.server === "http://localhost:8080";
}
