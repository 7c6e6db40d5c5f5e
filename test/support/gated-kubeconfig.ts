// The test cluster's kubeconfig with a gate in front of every request: while closed, each request waits
// for its credentials (as behind a slow exec credential plugin) before anything is sent. A test closes it
// at a point of its choosing to hold a run in progress, takes the Lease away, and opens it again.
import * as k8s from "@kubernetes/client-node";
import { kubeconfigPath } from "./cluster.ts";

export class GatedKubeConfig extends k8s.KubeConfig {
  /** Requests that reached the gate while it was closed. */
  held = 0;
  private gate: PromiseWithResolvers<void> | undefined;

  constructor() {
    super();
    this.loadFromFile(kubeconfigPath());
  }

  close(): void {
    this.gate ??= Promise.withResolvers<void>();
  }

  open(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }

  override async applySecurityAuthentication(
    context: Parameters<k8s.KubeConfig["applySecurityAuthentication"]>[0],
  ): Promise<void> {
    if (this.gate) {
      this.held++;
      await this.gate.promise;
    }
    return super.applySecurityAuthentication(context);
  }
}
