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
 * service account). Throws an error that names the file and what to do.
 */
export function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (error) {
    throw new Error(
      `cannot read the kubeconfig ${path ?? "(default: KUBECONFIG, ~/.kube/config or in-cluster)"}: ${(error as Error).message}; pass --kubeconfig PATH`,
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `the kubeconfig ${path ?? "(default)"} names no current cluster; set current-context or pass --kubeconfig`,
    );
  }
  return kc;
}
