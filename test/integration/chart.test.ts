// The Helm chart against the real API server: lint, every object accepted (defaults and every toggle on),
// manifests/ in step with it, and install → pods Running under Pod Security "restricted" → uninstall.
// The webhook is kept to namespaces labelled for this file, so other test files are never reviewed by it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { CHART, renderManifests } from "../../scripts/manifests.ts";
import { kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { EVERY_TOGGLE, helm, installNeighbourCrds, template } from "./chart-support.ts";

// A letter first: an all-digit id given to `helm --set` as a label value would be read as a number.
const run = `r${randomBytes(3).toString("hex")}`;
const selector = `webhook.namespaceSelector.aiapiguard-chart-test=${run}`;

function kinds(yaml: string): string[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as { kind?: string } | null)
    .flatMap((object) => (object?.kind ? [object.kind] : []));
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  const body = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
  const created = await kubectl(["apply", "-f", "-"], { input: stringify(body) });
  expect(created.code, created.stderr).toBe(0);
}

describe("the Helm chart", () => {
  it("passes helm lint with no warning", async () => {
    const linted = await helm(["lint", CHART, "--strict", "--kube-version", "1.34.0"]);
    expect(linted.code, linted.stdout + linted.stderr).toBe(0);
    expect(linted.stdout).toContain("0 chart(s) failed");
    expect(linted.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("manifests/ is the chart rendered with its defaults (run `npm run generate` when this fails)", () => {
    const committed = readFileSync(new URL("../../manifests/ai-api-guard.yaml", import.meta.url), "utf8");
    expect(committed === renderManifests(inject("binDir")), "manifests/ is out of date").toBe(true);
  });

  it.each([
    ["its defaults", [], ["Deployment", "Service", "ValidatingWebhookConfiguration", "Secret", "PodDisruptionBudget"]],
    ["every toggle on", EVERY_TOGGLE, ["Certificate", "Issuer", "ServiceMonitor", "NetworkPolicy"]],
  ])("renders with %s, and the API server accepts every object (server-side dry run)", async (_, set, expected) => {
    await installCrds();
    await installNeighbourCrds();
    const namespace = `chart-dry-${randomBytes(3).toString("hex")}`;
    await createNamespace(namespace, { "pod-security.kubernetes.io/enforce": "restricted" });
    try {
      const rendered = await template(`dry-${run}`, namespace, [...set, selector]);
      expect(kinds(rendered)).toEqual(expect.arrayContaining(expected));
      const applied = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: rendered });
      expect(applied.code, applied.stderr).toBe(0);
      // Pod Security admission checks a Deployment's pod template and warns when "restricted" would refuse its pods.
      expect(applied.stderr).not.toMatch(/PodSecurity|Warning/);
      expect(applied.stdout.trim().split("\n")).toHaveLength(kinds(rendered).length);
    } finally {
      await kubectl(["delete", "namespace", namespace, "--wait=false"]);
    }
  });

  it("opens the HTTPS port of the NetworkPolicy only to the peers given, and will not render one without them", async () => {
    const peers = ["webhook.networkPolicy.enabled=true", "webhook.networkPolicy.from[0].ipBlock.cidr=10.0.0.0/24"];
    const rendered = parseAllDocuments(await template("np", "guard", peers)).map((doc) => doc.toJS());
    const policy = rendered.find((object) => object?.kind === "NetworkPolicy");
    expect(policy.spec.policyTypes).toEqual(["Ingress"]);
    expect(policy.spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ port: "webhook", protocol: "TCP" }] },
      { ports: [{ port: "metrics", protocol: "TCP" }] },
    ]);
    const deployment = rendered.find((object) => object?.kind === "Deployment");
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    const named = deployment.spec.template.spec.containers[0].ports.map((port: { name: string }) => port.name);
    expect(named).toEqual(expect.arrayContaining(["webhook", "metrics"]));

    const open = await helm(["template", "x", CHART, "--kube-version", "1.34.0", "--set", peers[0] as string]);
    expect(open.code).not.toBe(0);
    expect(open.stderr).toContain("webhook.networkPolicy.from is empty");
  });

  it.each([
    [["replicaCount=1"], "podDisruptionBudget.minAvailable 1 with replicaCount 1 lets no replica be evicted"],
    [["webhook.timeoutSeconds=2"], "webhook.reviewBudgetMs must end at least 500 ms before webhook.timeoutSeconds"],
    [["leaderElection.renewDeadlineSeconds=15"], "renewDeadlineSeconds must be shorter than"],
  ])("refuses values that contradict each other (%j) before anything is created, naming them", async (set, message) => {
    const result = await helm(["template", "x", CHART, "--kube-version", "1.34.0", "--set", set.join(",")]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it("renders one replica when its PodDisruptionBudget is off or allows an eviction", async () => {
    for (const set of [
      "replicaCount=1,podDisruptionBudget.enabled=false",
      "replicaCount=1,podDisruptionBudget.minAvailable=0",
    ]) {
      const result = await helm(["template", "x", CHART, "--kube-version", "1.34.0", "--set", set]);
      expect(result.code, result.stderr).toBe(0);
    }
  });

  it("refuses a misspelt value before anything is created, naming it", async () => {
    const result = await helm(["template", "x", CHART, "--set", "webhook.failurePolicy=Fial"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/failurePolicy.*(Fail|Ignore)|value must be one of/);
  });
});
