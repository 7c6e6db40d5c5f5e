// What the full local cluster adds to the API server: controllers, a scheduler and a kwok node, so
// Deployments get Pods that reach Running, owned objects are garbage-collected and namespaces
// delete. Each of these fails on the API-server-only plane (`npm run cluster:up -- --api-only`).
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";

const ns = useTestNamespace("cluster");

function deployment(name: string, namespace: string, replicas: number) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
      },
    },
  };
}

const apply = (...objects: object[]) =>
  kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });

describe("the local cluster", () => {
  it("runs a Deployment's Pods on the fake node", async () => {
    const created = await apply(deployment("web", ns.name, 3));
    expect(created.code, created.stderr).toBe(0);
    const rollout = await kubectl(["rollout", "status", "deployment/web", "-n", ns.name, "--timeout=60s"]);
    expect(rollout.code, rollout.stderr).toBe(0);
    const pods = await kubeConfig()
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedPod({ namespace: ns.name, labelSelector: "app=web" });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.spec?.nodeName).toBe("kwok-node-0");
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
    }
  });

  it("garbage-collects an object whose owner Deployment is deleted", async () => {
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const owner = await apps.createNamespacedDeployment({ namespace: ns.name, body: deployment("owner", ns.name, 0) });
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: {
        metadata: {
          name: "owned",
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name: "owner", uid: owner.metadata?.uid as string },
          ],
        },
        data: { note: "goes with its owner" },
      },
    });
    await apps.deleteNamespacedDeployment({ namespace: ns.name, name: "owner" });
    await eventually(
      async () => {
        const list = await core.listNamespacedConfigMap({ namespace: ns.name, fieldSelector: "metadata.name=owned" });
        return list.items.length === 0 ? true : undefined;
      },
      30_000,
      "the owned ConfigMap garbage-collected",
    );
  });

  it("deletes a namespace that still holds objects", async () => {
    const name = `${ns.name}-gone`;
    const made = await kubectl(["create", "namespace", name]);
    expect(made.code, made.stderr).toBe(0);
    const filled = await apply(deployment("busy", name, 2), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: name },
      data: { a: "b" },
    });
    expect(filled.code, filled.stderr).toBe(0);
    await kubectl(["rollout", "status", "deployment/busy", "-n", name, "--timeout=60s"]);
    const deleted = await kubectl(["delete", "namespace", name, "--timeout=60s"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await kubectl(["get", "namespace", name]);
    expect(gone.stderr).toContain("NotFound");
  });
});
