import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Dispatcher } from "undici";
import { inClusterAccess } from "./in-cluster.ts";

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
 * service account). In a pod with neither file the service account is read directly, so the
 * operator never loads client-node there. Throws an error that names the file and what to do.
 */
export async function loadKubeConfig(path?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  const inCluster = !path && !env.KUBECONFIG && !existsSync(join(homedir(), ".kube", "config")) && inClusterAccess(env);
  if (inCluster) return inCluster;
  const k8s = await import("@kubernetes/client-node");
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
