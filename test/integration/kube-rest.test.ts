// KubeRest against the real kube-apiserver: how it uses connections.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { KubeRest } from "../../src/kube/rest.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";

const ns = useTestNamespace("kube-rest");
const CONNECTED = "undici:client:connected";

describe("KubeRest", () => {
  let count = 0;
  const onConnected = () => {
    count++;
  };
  afterEach(() => unsubscribe(CONNECTED, onConnected));

  // client-node hands out a new connection pool with every request's credentials: used as is, each
  // request was a new TLS connection, and a burst of applies held hundreds of MiB of native memory.
  it("reuses its connections across requests instead of opening one per request", async () => {
    const rest = new KubeRest(kubeConfig());
    subscribe(CONNECTED, onConnected);
    for (let i = 0; i < 30; i++) {
      await rest.apply(
        `/api/v1/namespaces/${ns.name}/configmaps/reuse`,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "reuse" }, data: { i: String(i) } },
        { force: true },
      );
    }
    const read = await rest.request<{ data: { i: string } }>(`/api/v1/namespaces/${ns.name}/configmaps/reuse`);
    expect(read.data.i).toBe("29");
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(2);
  });
});
