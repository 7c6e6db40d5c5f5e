// In a real cluster the webhook also reviews the Pods that the ReplicaSet controller creates from an
// admitted template. A Deployment with a hardcoded key that predates the webhook keeps its running
// Pods, but gets no new ones under Deny: the ReplicaSet's FailedCreate Event carries the webhook's
// (redacted) refusal. Under Warn its Pods are created.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const run = randomBytes(3).toString("hex");
const ns = { deny: `rs-deny-${run}`, warn: `rs-warn-${run}` };
const KEY = fakeSecrets(Number.parseInt(run, 16)).openai as string;

const leaky = (namespace: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "leaky", namespace },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "leaky" } },
    template: {
      metadata: { labels: { app: "leaky" } },
      spec: {
        containers: [{ name: "app", image: "registry.example/app:1", env: [{ name: "OPENAI_API_KEY", value: KEY }] }],
      },
    },
  },
});

const warnPolicy = {
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name: "prototype", namespace: ns.warn },
  spec: {
    api: { endpoint: "https://api.openai.com/v1", authType: "APIKey", sensitivity: "Low" },
    selector: { matchLabels: { app: "leaky" } },
    admission: { action: "Warn" },
  },
};

const apply = (object: object) => kubectl(["apply", "-f", "-"], { input: stringify(object) });
const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const runningPods = async (namespace: string) =>
  (await core().listNamespacedPod({ namespace, labelSelector: "app=leaky" })).items.filter(
    (p) => p.status?.phase === "Running",
  ).length;

let operator: Operator;

beforeAll(async () => {
  await installCrds();
  for (const name of Object.values(ns)) {
    // The Warn namespace's admin lets its policy act below the cluster's Deny floor.
    const floor: Record<string, string> = name === ns.warn ? { "aiapiguard.dev/action-floor": "Warn" } : {};
    await core().createNamespace({ body: { metadata: { name, labels: { "aiapiguard-rs": run, ...floor } } } });
    // Before the webhook exists: admitted, and its one Pod runs.
    const created = await apply(leaky(name));
    if (created.code !== 0) throw new Error(created.stderr);
    await kubectl(["rollout", "status", "deployment/leaky", "-n", name, "--timeout=60s"]);
  }
  const policy = await apply(warnPolicy);
  if (policy.code !== 0) throw new Error(policy.stderr);
  operator = await startOperator(kubeconfigPath(), [
    "--webhook-config-name",
    `rs-${run}`,
    "--namespace-selector",
    `aiapiguard-rs=${run}`,
  ]);
  // The API server takes a new webhook configuration up a moment after it is written (more under load): until
  // then the ReplicaSet's new Pods would be created unreviewed, and no FailedCreate would ever come.
  const probe = { ...leaky(ns.deny).spec.template, apiVersion: "v1", kind: "Pod" };
  const pod = { ...probe, metadata: { ...probe.metadata, name: "probe", namespace: ns.deny } };
  await eventually(
    async () => {
      const dryRun = await kubectl(["create", "--dry-run=server", "-f", "-"], { input: stringify(pod) });
      return dryRun.stderr.includes("denied the request") ? true : undefined;
    },
    30_000,
    "the webhook reviewing the Deny namespace",
  );
});

afterAll(async () => {
  await operator?.stop();
  for (const name of Object.values(ns))
    await core()
      .deleteNamespace({ name })
      .catch(() => undefined);
});

describe("Pods created by a ReplicaSet controller", () => {
  it("are refused under Deny once the webhook runs: scaling up adds none, and FailedCreate says why", async () => {
    expect(await runningPods(ns.deny)).toBe(1);
    const scaled = await kubectl(["scale", "deployment/leaky", "-n", ns.deny, "--replicas=3"]);
    expect(scaled.code, scaled.stderr).toBe(0);
    const failed = await eventually(
      async () => {
        const events = await core().listNamespacedEvent({ namespace: ns.deny, fieldSelector: "reason=FailedCreate" });
        return events.items.find((e) => e.involvedObject.kind === "ReplicaSet");
      },
      30_000,
      "a FailedCreate Event on the ReplicaSet",
    );
    expect(failed.message).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(failed.message).toContain("hardcoded-secret");
    expect(failed.message).toContain("spec.containers[0].env[0].value");
    expect(failed.message).not.toContain(KEY.slice(0, 12));
    expect(failed.message).not.toContain(KEY.slice(-12));
    expect(await runningPods(ns.deny)).toBe(1);
  });

  it("are created under Warn", async () => {
    const scaled = await kubectl(["scale", "deployment/leaky", "-n", ns.warn, "--replicas=3"]);
    expect(scaled.code, scaled.stderr).toBe(0);
    await eventually(
      async () => ((await runningPods(ns.warn)) === 3 ? true : undefined),
      30_000,
      "three Running Pods under Warn",
    );
  });
});
