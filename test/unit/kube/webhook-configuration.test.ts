import { describe, expect, it } from "vitest";
import { reviewedKinds } from "../../../src/api/workload-kinds.ts";
import { WEBHOOK_NAME, webhookConfiguration } from "../../../src/kube/webhook-configuration.ts";

const base = {
  name: "ai-api-guard",
  caBundlePem: "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n",
  target: { url: "https://127.0.0.1:9443/validate" },
  failurePolicy: "Fail" as const,
  timeoutSeconds: 10,
  exemptNamespaces: ["kube-system", "ai-api-guard"],
};

describe("webhookConfiguration", () => {
  it("reviews CREATE and UPDATE of every workload kind and ConfigMaps, with side effects (Events) only off dry runs", () => {
    const config = webhookConfiguration(base);
    const webhook = config.webhooks?.[0];
    expect(webhook?.name).toBe(WEBHOOK_NAME);
    expect(webhook?.sideEffects).toBe("NoneOnDryRun");
    expect(webhook?.admissionReviewVersions).toEqual(["v1"]);
    expect(webhook?.matchPolicy).toBe("Equivalent");
    const resources = webhook?.rules?.flatMap((r) => r.resources ?? []) ?? [];
    for (const kind of reviewedKinds()) expect(resources).toContain(kind.resource);
    expect(resources).toEqual(expect.arrayContaining(["pods/ephemeralcontainers", "aiapipolicies", "podtemplates"]));
    const group = (g: string) => webhook?.rules?.find((r) => r.apiGroups?.includes(g))?.resources;
    expect(group("apps")?.sort()).toEqual(["daemonsets", "deployments", "replicasets", "statefulsets"]);
    expect(group("batch")?.sort()).toEqual(["cronjobs", "jobs"]);
    expect(group("serving.kserve.io")).toContain("inferenceservices");
    expect(group("ray.io")?.sort()).toEqual(["rayclusters", "rayjobs", "rayservices"]);
    expect(new Set(webhook?.rules?.flatMap((r) => r.operations))).toEqual(new Set(["CREATE", "UPDATE"]));
  });

  it("reviews the cluster-scoped runtimes and templates in rules of their own, scope Cluster", () => {
    const rules = webhookConfiguration(base).webhooks?.[0]?.rules ?? [];
    const scoped = (scope: string) => rules.filter((r) => r.scope === scope).flatMap((r) => r.resources ?? []);
    // Before: none was registered, so a key in a ClusterServingRuntime's env was stored unreviewed.
    expect(scoped("Cluster").sort()).toEqual([
      "clusterservingruntimes",
      "clustertrainingruntimes",
      "clusterworkflowtemplates",
    ]);
    expect(scoped("Namespaced")).not.toContain("clusterservingruntimes");
    expect(scoped("Namespaced")).toContain("servingruntimes");
    expect(rules.filter((r) => r.scope !== "Namespaced" && r.scope !== "Cluster")).toEqual([]);
  });

  it("reviews only the extra resources it is given, always the core kinds", () => {
    const kinds = reviewedKinds(["rollouts.argoproj.io"]);
    const rules = webhookConfiguration({ ...base, kinds }).webhooks?.[0]?.rules ?? [];
    expect(rules.map((r) => r.apiGroups?.[0]).sort()).toEqual(["", "aiapiguard.dev", "apps", "argoproj.io", "batch"]);
    expect(rules.find((r) => r.apiGroups?.[0] === "argoproj.io")?.resources).toEqual(["rollouts"]);
    expect(() => reviewedKinds(["rollouts.example.com"])).toThrow(
      /unknown extra resource rollouts.example.com: choose from/,
    );
  });

  it("leaves the exempt namespaces out by name and carries the CA bundle in base64", () => {
    const webhook = webhookConfiguration(base).webhooks?.[0];
    expect(webhook?.namespaceSelector?.matchExpressions).toEqual([
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "ai-api-guard"] },
    ]);
    expect(Buffer.from(webhook?.clientConfig.caBundle ?? "", "base64").toString()).toBe(base.caBundlePem);
    expect(webhook?.clientConfig.url).toBe(base.target.url);
  });

  it("points at the Service in a cluster, and narrows to labelled namespaces when asked", () => {
    const webhook = webhookConfiguration({
      ...base,
      target: { service: { namespace: "ai-api-guard", name: "ai-api-guard-webhook", port: 443 } },
      namespaceLabels: { team: "ml" },
    }).webhooks?.[0];
    expect(webhook?.clientConfig.service).toEqual({
      namespace: "ai-api-guard",
      name: "ai-api-guard-webhook",
      port: 443,
      path: "/validate",
    });
    expect(webhook?.namespaceSelector?.matchLabels).toEqual({ team: "ml" });
  });

  it("reviews every namespace when none is exempt (an empty NotIn is invalid)", () => {
    const webhook = webhookConfiguration({ ...base, exemptNamespaces: [] }).webhooks?.[0];
    expect(webhook?.namespaceSelector).toEqual({});
  });
});
