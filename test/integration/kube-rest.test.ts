// KubeRest against the real kube-apiserver: how it uses connections, and the service account's
// credentials as a pod has them, read without client-node.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { isApiError } from "../../src/kube/errors.ts";
import { inClusterAccess } from "../../src/kube/in-cluster.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";

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

describe("in a pod (the service account's files, no kubeconfig)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sa-"));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("authenticates as the service account with its token and trusts the cluster's CA", async () => {
    expect((await kubectl(["-n", ns.name, "create", "serviceaccount", "op"])).code).toBe(0);
    const token = await kubectl(["-n", ns.name, "create", "token", "op"]);
    expect(token.code).toBe(0);
    writeFileSync(join(dir, "token"), token.stdout.trim());
    writeFileSync(join(dir, "ca.crt"), kubeConfig().getCurrentCluster()?.caData ?? "", "base64");
    const server = new URL(inject("server"));
    const env = { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port };
    const access = inClusterAccess(env, dir);
    if (!access) throw new Error("the service account was not found");

    const review = await new KubeRest(access).request<{ status: { userInfo: { username: string } } }>(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { method: "POST", body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } },
    );
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${ns.name}:op`);
    // What it may not do surfaces as the API server's status, as from a kubeconfig.
    const denied = await new KubeRest(access).request("/api/v1/secrets").catch((error: unknown) => error);
    expect(isApiError(denied) && denied.code).toBe(403);
  });

  it("is not a pod without the service host or the token file", () => {
    expect(inClusterAccess({}, dir)).toBeUndefined();
    expect(
      inClusterAccess({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir),
    ).toBeUndefined();
  });
});
