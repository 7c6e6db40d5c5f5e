// The controller acts on what its caches hold, so it must not act before they are listed. Here the
// operator's identity may not list Secrets (an RBAC rule missing, as after a botched chart upgrade):
// its Secret cache never fills. The controller must wait, not take every credential mount off as if
// the Secrets had gone, and reconcile as soon as the rule is back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { serviceAccountKubeconfig } from "./chart-support.ts";

const ns = useTestNamespace("ctl-sync");
const role = `${ns.name}-operator`;
const operators: Operator[] = [];

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  await kubectl(["delete", "clusterrole,clusterrolebinding", role, "--ignore-not-found"]);
});

const apply = (...objects: object[]) =>
  kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });

/** Everything the operator touches, in every group it reads, but Secrets only when `secrets` is true. */
const clusterRole = (secrets: boolean) => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name: role },
  rules: [
    {
      apiGroups: [
        "apps",
        "batch",
        "networking.k8s.io",
        "coordination.k8s.io",
        "admissionregistration.k8s.io",
        "authorization.k8s.io",
        "events.k8s.io",
        "aiapiguard.dev",
      ],
      resources: ["*"],
      verbs: ["*"],
    },
    {
      apiGroups: [""],
      resources: ["pods", "configmaps", "events", "namespaces", "replicationcontrollers", "podtemplates"],
      verbs: ["*"],
    },
    ...(secrets ? [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }] : []),
  ],
});

/** A Deployment the policy selects (app=llm). */
const deployment = (name: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns.name },
  spec: {
    selector: { matchLabels: { name } },
    template: {
      metadata: { labels: { name, app: "llm" } },
      spec: { containers: [{ name: "app", image: "example/app:1" }] },
    },
  },
});

const mounted = async (name = "app") => {
  const got = await kubectl(["-n", ns.name, "get", "deployment", name, "-o", "json"]);
  const volumes = (JSON.parse(got.stdout) as V1Deployment).spec?.template.spec?.volumes ?? [];
  return volumes.some((v) => v.name === "aiapiguard-llm");
};

it("waits for its caches before reconciling: a Secret cache it cannot list takes no mount off", async () => {
  await installCrds();
  await apply(
    { apiVersion: "v1", kind: "Secret", metadata: { name: "llm-key", namespace: ns.name }, stringData: { k: "x" } },
    deployment("app"),
    {
      apiVersion: "aiapiguard.dev/v1alpha1",
      kind: "AiApiPolicy",
      metadata: { name: "llm", namespace: ns.name },
      spec: {
        api: { endpoint: "https://api.example.com/v1", authType: "APIKey", sensitivity: "High" },
        selector: { matchLabels: { app: "llm" } },
        credentials: { secretName: "llm-key" },
      },
    },
  );
  const options = { controllerNamespaces: [ns.name] };
  const first = await startOperator(kubeconfigPath(), [], options);
  operators.push(first);
  await eventually(mounted, 30_000, "the first operator mounts the Secret");
  expect(await first.stop()).toBe(0);

  await apply(
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "operator", namespace: ns.name } },
    clusterRole(false),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: "operator", namespace: ns.name }],
    },
  );
  const kubeconfig = await serviceAccountKubeconfig(
    kubeConfig(),
    { namespace: ns.name, name: "operator" },
    mkdtempSync(join(tmpdir(), "aag-sync-")),
  );
  // Ready after the 30 s the informers are given to list; the Secrets' list is refused all along.
  const second = await startOperator(kubeconfig, [], { ...options, readyTimeoutMs: 90_000 });
  operators.push(second);
  await eventually(() => second.output().includes('"msg":"leading: this replica reconciles"'), 30_000);
  await new Promise((r) => setTimeout(r, 5_000));
  expect(second.output()).toMatch(/cannot list resource \\?"secrets\\?"/);
  expect(await mounted()).toBe(true);

  // The rule is back: the Secret cache fills and the controller reconciles (a new workload gets its mount).
  await apply(clusterRole(true), deployment("late"));
  await eventually(() => mounted("late"), 60_000, "the controller reconciles once it can list Secrets");
  expect(await mounted()).toBe(true);
}, 240_000);
