// kube-apiserver stopped and started again under a running controller: its watches fail, it
// reconnects on its own, and converges what changed while it was away from the API. This file has
// its own control plane (API server only), since stopping the shared one would fail every other file.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ns = "restart";
const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
let plane: ControlPlane;
let operator: Operator | undefined;

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = promisify(execFile)(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args]);
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}
const apply = (...objects: object[]) => kubectl(["apply", "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
const getJson = async (...args: string[]) =>
  JSON.parse(await kubectl(["-n", ns, "get", ...args, "-o", "json"]).catch(() => "null"));

const deployment = (name: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: {
    selector: { matchLabels: { app: "agent" } },
    template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "app", image: "example/a:1" }] } },
  },
});
const policy = (cidr: string) => ({
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name: "agent", namespace: ns },
  spec: {
    api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low", lastReviewed: "2026-11-01" },
    selector: { matchLabels: { app: "agent" } },
    egress: { cidrs: [cidr] },
    credentials: { secretName: "key" },
  },
});
const mounted = async (name: string) =>
  ((await getJson("deployment", name))?.spec.template.spec.volumes ?? []).some(
    (v: { name: string }) => v.name === "aiapiguard-agent",
  );
const cidrOf = async () => (await getJson("networkpolicy", "aiapiguard-agent"))?.spec.egress[0].to[0].ipBlock.cidr;

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  await kubectl(["apply", "--server-side", "-f", CRD_DIR]);
  // Until the CRD has a status at all, kubectl wait fails instead of waiting.
  await eventually(() =>
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRD_DIR]).catch(() => ""),
  );
  await kubectl(["create", "namespace", ns]);
  operator = await startOperator(plane.kubeconfig, [], { controllerNamespaces: [ns] });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

it("reconnects after kube-apiserver restarts and converges the changes made meanwhile", async () => {
  await apply(
    { apiVersion: "v1", kind: "Secret", metadata: { name: "key", namespace: ns }, stringData: { k: "placeholder" } },
    deployment("first"),
    policy("192.0.2.0/24"),
  );
  await eventually(async () => (await cidrOf()) === "192.0.2.0/24" && (await mounted("first")), 30_000);

  await plane.stopApiServer();
  await eventually(
    () => operator?.output().includes('"msg":"watch failed'),
    30_000,
    "the operator noticing its watches fail",
  );
  await plane.startApiServer();
  // Made before the controller's watches are back (they reconnect with backoff): seen only by a re-list.
  await apply(policy("198.51.100.0/24"), deployment("second"));

  await eventually(async () => (await cidrOf()) === "198.51.100.0/24", 60_000, "the new cidr in the NetworkPolicy");
  await eventually(() => mounted("second"), 60_000, "the mount on the Deployment created after the restart");
  const p = await getJson("aap", "agent");
  expect(p.status.conditions.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
  expect(p.status.workloads.count).toBe(2);
  expect(operator?.output()).not.toContain('"msg":"ai-api-guard run failed"');
}, 180_000);
