// The objects ai-api-guard writes for Cilium and Traefik, checked by the API server against those
// projects' real CRDs (from their Go modules, fetched once per machine): a field their schema does
// not know would be refused or pruned, so what the server stores must be exactly what was meant.
// Its own control plane (API server only): installing these CRDs in the shared one would change
// what the other files see (a cluster without Cilium gets a CiliumNotInstalled condition).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { eventually } from "../support/eventually.ts";
import { testPolicy } from "../support/objects.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { CILIUM_CRD, TRAEFIK_CRDS } from "../support/tools.ts";

const ns = "neighbours";
const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
let plane: ControlPlane;
let operator: Operator | undefined;

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field
type Json = Record<string, any>;

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = promisify(execFile)(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], {
    maxBuffer: 64 << 20,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}
const getJson = async (...args: string[]): Promise<Json | undefined> =>
  JSON.parse(await kubectl(["-n", ns, "get", ...args, "-o", "json"]).catch(() => "null")) ?? undefined;
const condition = (p: Json | undefined, type: string) => p?.status?.conditions?.find((c: Json) => c.type === type);

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  for (const path of [CRD_DIR, await CILIUM_CRD(), await TRAEFIK_CRDS()]) {
    await kubectl(["apply", "--server-side", "-f", path]);
    // Until the CRD has a status at all, kubectl wait fails instead of waiting.
    await eventually(() =>
      kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", path]).catch(() => ""),
    );
  }
  await kubectl(["create", "namespace", ns]);
  operator = await startOperator(plane.kubeconfig, [], { controllerNamespaces: [ns] });
}, 180_000);

afterAll(async () => {
  await kubectl(["-n", ns, "delete", "aap", "--all", "--timeout=30s"]).catch(() => undefined);
  await operator?.stop();
  await plane?.stop();
});

it("writes a CiliumNetworkPolicy and Traefik Middlewares that Cilium's and Traefik's CRDs store unchanged", async () => {
  await kubectl(
    ["apply", "-f", "-"],
    [
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: "front", namespace: ns, annotations: { "example.com/keep": "mine" } },
        spec: { defaultBackend: { service: { name: "front", port: { number: 443 } } } },
      },
      {
        apiVersion: "aiapiguard.dev/v1alpha1",
        kind: "AiApiPolicy",
        metadata: { name: "agent", namespace: ns },
        spec: {
          api: {
            endpoint: "https://api.example.com/v1",
            authType: "APIKey",
            sensitivity: "Low",
            lastReviewed: "2026-11-01",
          },
          selector: { matchLabels: { app: "agent" } },
          egress: { provider: "Cilium" },
          rateLimit: { ingresses: ["front"], requestsPerSecond: 10, connections: 20, provider: "traefik" },
        },
      },
    ]
      .map((o) => stringify(o))
      .join("---\n"),
  );
  const ready = await eventually(async () => {
    const p = await getJson("aap", "agent");
    return condition(p, "Ready")?.status === "True" ? p : undefined;
  }, 30_000);
  expect(condition(ready, "EgressReady")?.reason).not.toBe("CiliumNotInstalled");

  const cnp = await getJson("ciliumnetworkpolicy", "aiapiguard-agent");
  expect(cnp?.spec).toEqual({
    endpointSelector: { matchLabels: { app: "agent" } },
    egress: [
      { toFQDNs: [{ matchName: "api.example.com" }], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }] },
      {
        toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" } }],
        toPorts: [
          {
            ports: [
              { port: "53", protocol: "UDP" },
              { port: "53", protocol: "TCP" },
            ],
            rules: { dns: [{ matchPattern: "*" }] },
          },
        ],
      },
    ],
  });
  expect(cnp?.metadata.ownerReferences[0]).toMatchObject({ kind: "AiApiPolicy", name: "agent" });

  const middlewares = await getJson("middlewares.traefik.io");
  const specs = Object.fromEntries((middlewares?.items ?? []).map((m: Json) => [m.metadata.name, m.spec]));
  expect(specs).toEqual({
    "aiapiguard-agent-ratelimit": { rateLimit: { average: 10, burst: 50, period: "1s" } },
    "aiapiguard-agent-https": { redirectScheme: { scheme: "https", permanent: true } },
    "aiapiguard-agent-connections": { inFlightReq: { amount: 20 } },
  });
  const ingress = await getJson("ingress", "front");
  delete ingress?.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"];
  expect(ingress?.metadata.annotations).toEqual({
    "example.com/keep": "mine",
    "traefik.ingress.kubernetes.io/router.middlewares": [
      `${ns}-aiapiguard-agent-ratelimit@kubernetescrd`,
      `${ns}-aiapiguard-agent-https@kubernetescrd`,
      `${ns}-aiapiguard-agent-connections@kubernetescrd`,
    ].join(","),
  });
}, 90_000);

it("takes a Traefik router annotation the user keeps for middlewares of their own, listing the policy's, as in place", async () => {
  const ours = ["ratelimit", "https", "connections"].map((m) => `${ns}-aiapiguard-agent-${m}@kubernetescrd`);
  const theirs = [`${ns}-auth@kubernetescrd`, ...ours].join(",");
  await kubectl([
    "-n",
    ns,
    "annotate",
    "--overwrite",
    "ingress/front",
    `traefik.ingress.kubernetes.io/router.middlewares=${theirs}`,
  ]);
  await kubectl([
    "-n",
    ns,
    "patch",
    "aap/agent",
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { rateLimit: { requestsPerSecond: 20 } } }),
  ]);
  await eventually(
    async () => (await getJson("middleware", "aiapiguard-agent-ratelimit"))?.spec.rateLimit.average === 20,
  );
  const policy = await eventually(async () => {
    const p = await getJson("aap", "agent");
    return p?.status?.observedGeneration === p?.metadata.generation ? p : undefined;
  });
  expect(condition(policy, "RateLimitReady")).toMatchObject({ status: "True", reason: "RateLimitApplied" });
  const ingress = await getJson("ingress", "front");
  expect(ingress?.metadata.annotations["traefik.ingress.kubernetes.io/router.middlewares"]).toBe(theirs);
}, 60_000);

it("says so in RateLimitReady and a Warning when a Middleware's write is refused, and writes the status", async () => {
  // An admission policy of the cluster's own that refuses Middlewares for the connection cap.
  const refusing = [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "no-inflight" },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            { apiGroups: ["traefik.io"], apiVersions: ["*"], operations: ["CREATE"], resources: ["middlewares"] },
          ],
        },
        validations: [
          { expression: "!has(object.spec.inFlightReq)", message: "in-flight caps are set by the platform team" },
        ],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: "no-inflight" },
      spec: { policyName: "no-inflight", validationActions: ["Deny"] },
    },
  ];
  await kubectl(["apply", "-f", "-"], refusing.map((o) => stringify(o)).join("---\n"));
  const probe = {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: "probe", namespace: ns },
    spec: { inFlightReq: { amount: 1 } },
  };
  await eventually(async () => {
    const tried = await kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(probe)).catch(
      (e) => e.stderr,
    );
    return String(tried).includes("set by the platform team");
  });
  const capped = testPolicy(ns, "capped", {
    selector: { matchLabels: { app: "capped" } },
    rateLimit: { ingresses: ["front"], requestsPerSecond: 5, connections: 9, provider: "traefik" },
  });
  await kubectl(["apply", "-f", "-"], stringify(capped));
  const refused = await eventually(async () => {
    const p = await getJson("aap", "capped");
    return condition(p, "RateLimitReady")?.reason === "AdmissionRefused" ? p : undefined;
  }, 30_000);
  expect(condition(refused, "RateLimitReady").message).toContain("set by the platform team");
  expect(condition(refused, "Ready")?.status).toBe("False");
  const events = await kubectl([
    "-n",
    ns,
    "get",
    "events",
    "--field-selector",
    "involvedObject.name=capped,type=Warning",
  ]);
  expect(events).toContain("set by the platform team");
  await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "no-inflight"]);
}, 60_000);
