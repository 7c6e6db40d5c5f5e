// The chart's RBAC, proven rule by rule: the operator runs with the chart's ServiceAccount token
// (TokenRequest) against a ClusterRole/Role that lacks one rule, through a scenario that needs every
// rule (a policy with egress, credentials and a rate-limited Ingress; the Lease; the certificate Secret
// and the caBundle), and the API server refuses exactly what that rule granted. The full rules run the
// same scenario with no refusal at all (chart-install.test.ts). Rules this machine cannot exercise are
// listed in NOT_EXERCISED with the reason; the test fails if the chart's rules and the two lists part ways.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { reportType } from "../../src/audit/report.ts";
import { CLUSTER_WORKLOAD_TYPES, CONFIGMAP_TYPE, EXTRA_WORKLOAD_TYPES, WORKLOAD_TYPES } from "../../src/kube/pages.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { chartEnvironment, serviceAccountKubeconfig, startInClusterOperator, template } from "./chart-support.ts";

// A letter first: an all-digit id given to `helm --set` as a label value would be read as a number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `rbac-${run}`;
const fullname = `${release}-ai-api-guard`;
const operatorNs = `rbac-op-${run}`;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const key = (rule: Rule) =>
  `${rule.resources.join(",")} [${rule.verbs.join(",")}]${rule.resourceNames ? " by name" : ""}`;

/** Rules whose need no scenario here can show, and why. */
const NOT_EXERCISED: Record<string, string> = {
  "aiapipolicies/finalizers [update]":
    "needed only where OwnerReferencesPermissionEnforcement admission runs (the local API server does not)",
  "subjectaccessreviews [create]": "the webhook's exemption check; the webhook is not reached by writes in this test",
  "tokenreviews [create]": "the read API's check of a service-account token; no read API request in this test",
  "configmaps [get]":
    "the webhook's reading of a reviewed workload's ConfigMaps; the webhook is not reached by writes in this test",
  "reports [get,list,watch,create,update,patch,delete]":
    "the audit's OpenReports Reports: their CRD is not installed in this test, so the audit skips them",
  "policyreports [get,list,watch,create,update,patch,delete]":
    "the audit's wgpolicyk8s PolicyReports (reports.format=wgpolicyk8s): no module serves their CRD",
  "clusterreports [get,create,patch,delete]":
    "the audit's ClusterReport, written only for a finding in a cluster-scoped object: see the authorizer's answer below",
  "clusterpolicyreports [get,create,patch,delete]": "the wgpolicyk8s ClusterPolicyReport: as the ClusterReport",
  "middlewares [get,list,watch,create,update,patch,delete]": "Traefik rate limits: Traefik's CRD is not installed here",
  "ciliumnetworkpolicies [get,list,watch,create,update,patch,delete]":
    "Cilium egress: Cilium's CRD is not installed here",
  "secrets [create]": "the certificate Secret is re-created only when someone deletes it; the chart creates it",
};
// The audit lists the AI custom resources only where their CRDs are installed: the test below asks the API
// server's authorizer whether the chart lets it list every kind the audit lists, these among them.
const AUDITED_CUSTOM_RESOURCES = [
  "inferenceservices,servingruntimes [list]",
  "rayclusters,rayjobs,rayservices [list]",
  "pytorchjobs,tfjobs,xgboostjobs,paddlejobs,jaxjobs,mpijobs,notebooks [list]",
  "trainjobs,trainingruntimes [list]",
  "services,configurations [list]",
  "rollouts,workflows,workflowtemplates,cronworkflows [list]",
  "leaderworkersets [list]",
  "clusterservingruntimes [list]",
  "clustertrainingruntimes [list]",
  "clusterworkflowtemplates [list]",
];
for (const rule of AUDITED_CUSTOM_RESOURCES)
  NOT_EXERCISED[rule] = "listed by the audit where its CRD is installed: see the authorizer's answer below";

function rendered(): Promise<Record<string, unknown>[]> {
  return template(release, operatorNs, [`webhook.namespaceSelector.aiapiguard-rbac=${run}`]).then((yaml) =>
    parseAllDocuments(yaml)
      .map((doc) => doc.toJS())
      .filter(Boolean),
  );
}

describe("every rule of the chart's RBAC is needed", () => {
  const kc = kubeConfig();
  let objects: Record<string, unknown>[] = [];
  let kubeconfig = "";
  let env: Record<string, string> = {};
  const namespaces: string[] = [operatorNs];

  beforeAll(async () => {
    await installCrds();
    objects = await rendered();
    expect((await kubectl(["create", "namespace", operatorNs])).code).toBe(0);
    const others = objects.filter((o) => o.kind !== "Deployment" && o.kind !== "Job");
    const applied = await kubectl(["apply", "-f", "-"], { input: others.map((o) => stringify(o)).join("---\n") });
    expect(applied.code, applied.stderr).toBe(0);
    kubeconfig = await serviceAccountKubeconfig(
      kc,
      { namespace: operatorNs, name: fullname },
      mkdtempSync(join(tmpdir(), "aag-rbac-")),
    );
    const deployment = objects.find((o) => o.kind === "Deployment") as k8s.V1Deployment;
    env = chartEnvironment(deployment, { namespace: operatorNs });
  }, 120_000);

  afterAll(async () => {
    await kubectl([
      "delete",
      "clusterrole,clusterrolebinding,validatingwebhookconfiguration",
      fullname,
      "--ignore-not-found",
    ]);
    for (const ns of namespaces) await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  const roles = () =>
    objects.filter((o) => o.kind === "ClusterRole" || o.kind === "Role") as { kind: string; rules: Rule[] }[];

  it("the test's list of rules not exercised names only rules the chart has", () => {
    const keys = roles().flatMap((role) => role.rules.map(key));
    expect(Object.keys(NOT_EXERCISED).filter((k) => !keys.includes(k))).toEqual([]);
  });

  // Before: the chart granted list on the core kinds only; the audit now lists the AI custom resources too.
  it("lets the audit list every kind it lists and write every report it writes (the API server's authorizer)", async () => {
    const user = `system:serviceaccount:${operatorNs}:${fullname}`;
    const listed = [CONFIGMAP_TYPE, ...WORKLOAD_TYPES, ...EXTRA_WORKLOAD_TYPES, ...CLUSTER_WORKLOAD_TYPES];
    const asks = [
      ...listed.map((type) => ({ type, verb: "list" })),
      ...(["openreports", "wgpolicyk8s"] as const).flatMap((format) =>
        ["get", "create", "patch", "delete"].map((verb) => ({ type: reportType(format, ""), verb })),
      ),
    ];
    const denied: string[] = [];
    for (const { type, verb } of asks) {
      // A SubjectAccessReview names the group: kubectl auth can-i cannot name a kind whose CRD is not installed.
      const review = {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user, resourceAttributes: { group: type.group, resource: type.plural, verb } },
      };
      const asked = await kubectl(["create", "-o", "json", "-f", "-"], { input: JSON.stringify(review) });
      const status = asked.code === 0 ? JSON.parse(asked.stdout).status : { reason: asked.stderr };
      if (status.allowed !== true) denied.push(`${verb} ${type.plural}.${type.group}: ${status.reason ?? "no"}`);
    }
    expect(denied).toEqual([]);
  });

  it("without any one exercised rule, the operator meets a 403 for exactly that resource", async () => {
    const unproven: string[] = [];
    for (const role of roles()) {
      for (const [index, rule] of role.rules.entries()) {
        if (NOT_EXERCISED[key(rule)]) continue;
        const without = { ...role, rules: role.rules.filter((_, i) => i !== index) };
        const replaced = await kubectl(["apply", "-f", "-"], { input: stringify(without) });
        expect(replaced.code, replaced.stderr).toBe(0);
        const refused = await scenario(rule.resources);
        if (!refused) unproven.push(`${role.kind} ${key(rule)}`);
        // Restore the full role before the next rule is taken out.
        expect((await kubectl(["apply", "-f", "-"], { input: stringify(role) })).code).toBe(0);
      }
    }
    expect(unproven).toEqual([]);
  }, 600_000);

  /** Runs the operator through the scenario; true when the API server refused it one of `resources`. */
  async function scenario(resources: string[]): Promise<boolean> {
    const ns = `rbac-app-${randomBytes(3).toString("hex")}`;
    namespaces.push(ns);
    await kubectl(["apply", "-f", "-"], { input: stringify(scenarioObjects(ns)) });
    // The chart's empty certificate Secret again: the rotation runs from the start.
    await kubectl(["delete", "secret", `${fullname}-tls`, "-n", operatorNs, "--ignore-not-found"]);
    await kubectl(["apply", "-f", "-"], { input: stringify(objects.find((o) => o.kind === "Secret")) });
    const operator = await startInClusterOperator({
      ...env,
      AI_API_GUARD_KUBECONFIG: kubeconfig,
      AI_API_GUARD_PORT: String(await freePort()),
      AI_API_GUARD_METRICS_PORT: String(await freePort()),
      AI_API_GUARD_NAMESPACES: ns,
      AI_API_GUARD_LEASE_NAME: `lease-${randomBytes(3).toString("hex")}`,
      AI_API_GUARD_RESYNC_SECONDS: "10",
    }).catch((error: Error) => ({ output: () => error.message, stop: async () => null }));
    const pattern = new RegExp(`cannot \\w+ resource \\\\?"(${resources.join("|")})\\\\?"`);
    const refused = await eventually(() => pattern.test(operator.output()), 20_000).catch(() => false);
    await operator.stop();
    return refused;
  }
});

function scenarioObjects(ns: string) {
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "llm-key", namespace: ns },
        stringData: { "api-key": "x" },
      },
      {
        apiVersion: "aiapiguard.dev/v1alpha1",
        kind: "AiApiPolicy",
        metadata: { name: "llm", namespace: ns },
        spec: {
          api: { endpoint: "https://api.example.com/v1", authType: "APIKey", sensitivity: "High" },
          selector: { matchLabels: { app: "summarizer" } },
          egress: { cidrs: ["203.0.113.0/24"] },
          credentials: { secretName: "llm-key" },
          rateLimit: { ingresses: ["summarizer"], requestsPerSecond: 10 },
        },
      },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "summarizer", namespace: ns },
        spec: {
          selector: { matchLabels: { app: "summarizer" } },
          template: {
            metadata: { labels: { app: "summarizer" } },
            spec: { containers: [{ name: "app", image: "registry.example/summarizer:1.0" }] },
          },
        },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: "summarizer", namespace: ns },
        spec: { defaultBackend: { service: { name: "summarizer", port: { number: 80 } } } },
      },
    ],
  };
}
