// Starts one real control plane (etcd + kube-apiserver) for the integration and end-to-end tests.
// If it cannot start, the run fails: integration tests never skip silently.
import type { TestProject } from "vitest/node";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    server: string;
    binDir: string;
  }
}

let plane: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  plane = await startControlPlane();
  console.log(`control plane ${plane.server} ready in ${plane.startSeconds.toFixed(1)} s (${plane.dir})`);
  project.provide("kubeconfig", plane.kubeconfig);
  project.provide("server", plane.server);
  project.provide("binDir", plane.binDir);
}

export async function teardown(): Promise<void> {
  await plane?.stop();
}
