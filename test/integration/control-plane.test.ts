// The foundation every other test stands on: a real kube-apiserver that stores, serves and watches
// objects, reached through @kubernetes/client-node and through kubectl.
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";

const ns = useTestNamespace("cp");

describe("the local control plane", () => {
  it("reports a real Kubernetes v1.34 version to kubectl", async () => {
    const result = await kubectl(["version", "-o", "json"]);
    expect(result.code, result.stderr).toBe(0);
    const version = JSON.parse(result.stdout);
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.34\.\d+$/);
    expect(version.clientVersion.gitVersion).toMatch(/^v1\.34\.\d+$/);
  });

  it("gives the admin every permission", async () => {
    const result = await kubectl(["auth", "can-i", "*", "*"]);
    expect(result.stdout.trim()).toBe("yes");
  });

  it("stores a ConfigMap in the test namespace and delivers its watch events", async () => {
    const kc = kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const events: string[] = [];
    let modified: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => {
      modified = resolve;
    });
    // watch() resolves once the server has answered the request, so the writes below are seen.
    const request = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${ns.name}/configmaps`,
      // Only ours: the cluster's root-CA publisher adds kube-root-ca.crt to every namespace.
      { fieldSelector: "metadata.name=hello" },
      (phase: string, obj: k8s.V1ConfigMap) => {
        events.push(`${phase} ${obj.metadata?.name} ${obj.data?.greeting ?? ""}`);
        if (phase === "MODIFIED") modified();
      },
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: "hello" }, data: { greeting: "hi" } },
    });
    await core.patchNamespacedConfigMap(
      { namespace: ns.name, name: "hello", body: { data: { greeting: "hello" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await seen;
    request.abort();
    expect(events).toEqual(["ADDED hello hi", "MODIFIED hello hello"]);
    const stored = await core.readNamespacedConfigMap({ namespace: ns.name, name: "hello" });
    expect(stored.data).toEqual({ greeting: "hello" });
  });
});
