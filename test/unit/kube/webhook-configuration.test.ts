import { describe, expect, it } from "vitest";
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
  it("reviews CREATE and UPDATE of every workload kind and ConfigMaps, with no side effects", () => {
    const config = webhookConfiguration(base);
    const webhook = config.webhooks?.[0];
    expect(webhook?.name).toBe(WEBHOOK_NAME);
    expect(webhook?.sideEffects).toBe("None");
    expect(webhook?.admissionReviewVersions).toEqual(["v1"]);
    expect(webhook?.matchPolicy).toBe("Equivalent");
    const resources = webhook?.rules?.flatMap((r) => r.resources ?? []);
    expect(resources?.sort()).toEqual(
      [
        "configmaps",
        "cronjobs",
        "daemonsets",
        "deployments",
        "jobs",
        "pods",
        "replicasets",
        "replicationcontrollers",
        "statefulsets",
        "aiapipolicies",
      ].sort(),
    );
    expect(new Set(webhook?.rules?.flatMap((r) => r.operations))).toEqual(new Set(["CREATE", "UPDATE"]));
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
