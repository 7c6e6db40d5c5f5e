// What an integration test needs from the shared control plane: clients, kubectl, and a namespace
// of its own that is deleted afterwards.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, inject } from "vitest";

const run = promisify(execFile);

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(inject("kubeconfig"));
  return kc;
}

export function kubeconfigPath(): string {
  return inject("kubeconfig");
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (args: string[], options?: { input?: string }) => Promise<KubectlResult>;

/** The control plane's own kubectl against a control plane (a test's own); never throws on a non-zero exit. */
export function kubectlFor(plane: { binDir: string; kubeconfig: string }): Kubectl {
  return async (args, options = {}) => {
    const binary = join(plane.binDir, "kubectl");
    const child = run(binary, ["--kubeconfig", plane.kubeconfig, ...args], { maxBuffer: 64 << 20 });
    if (options.input !== undefined) child.child.stdin?.end(options.input);
    try {
      const { stdout, stderr } = await child;
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
}

/** kubectl against the shared test cluster. */
export const kubectl: Kubectl = (args, options) =>
  kubectlFor({ binDir: inject("binDir"), kubeconfig: inject("kubeconfig") })(args, options);

/** A namespace for this test file, created before its tests and deleted after them. */
export function useTestNamespace(prefix = "t"): { readonly name: string } {
  const ns = { name: `${prefix}-${randomBytes(4).toString("hex")}` };
  beforeAll(async () => {
    await kubeConfig()
      .makeApiClient(k8s.CoreV1Api)
      .createNamespace({ body: { metadata: { name: ns.name } } });
  });
  afterAll(async () => {
    await kubeConfig()
      .makeApiClient(k8s.CoreV1Api)
      .deleteNamespace({ name: ns.name })
      .catch(() => undefined);
  });
  return ns;
}
