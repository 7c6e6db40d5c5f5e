// deploy/apf-tenants.yaml, applied with kubectl as a cluster admin would: which API Priority and
// Fairness level serves a tenant's writes, the operator's and a tenant's reads, and how many seats the
// tenants get. This file has its own control plane (API server only): the manifest classifies every
// non-admin user, so on the shared one it would reach other files' requests.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { eventually } from "../support/eventually.ts";
import { type Client, clientOf, send, tenant } from "../support/tenant-client.ts";

const MANIFEST = fileURLToPath(new URL("../../deploy/apf-tenants.yaml", import.meta.url));
let plane: ControlPlane;
let admin: k8s.KubeConfig;
let ci: Client;
let operator: Client;

const kubectl = (...args: string[]) =>
  promisify(execFile)(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args]);

/** The name of the priority level that served a request. */
async function levelOf(client: Client, method: "GET" | "POST", path: string, body?: object): Promise<string> {
  const answer = await send(client, method, path, body && Buffer.from(JSON.stringify(body)));
  const levels = await admin.makeApiClient(k8s.FlowcontrolApiserverV1Api).listPriorityLevelConfiguration();
  return levels.items.find((level) => level.metadata?.uid === answer.levelUid)?.metadata?.name ?? "none";
}

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "app" },
  spec: { containers: [{ name: "a", image: "b" }] },
};
const createPod = (client: Client, namespace: string) =>
  levelOf(client, "POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, pod);
const podRule = { apiGroups: [""], resources: ["pods"], verbs: ["create", "list"] };

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  admin = new k8s.KubeConfig();
  admin.loadFromFile(plane.kubeconfig);
  for (const name of ["team-a", "ai-api-guard"])
    await admin.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  ci = await tenant(admin, "team-a", "ci", podRule, 2);
  operator = await tenant(admin, "ai-api-guard", "ai-api-guard", podRule, 2);
}, 180_000);

afterAll(async () => {
  await plane?.stop();
});

it("puts tenants' writes in tenant-writes with 3 seats, and leaves the operator and reads where they were", async () => {
  // The Kubernetes defaults: every service account outside kube-system in workload-low (hundreds of seats).
  expect(await createPod(ci, "team-a")).toBe("workload-low");

  await kubectl("apply", "-f", MANIFEST);
  // The API server reads APF objects through an informer: a moment after the apply.
  await eventually(async () => (await createPod(ci, "team-a")) === "tenant-writes", 15_000, "tenant-writes");
  expect(await createPod(operator, "ai-api-guard")).toBe("workload-high");
  expect(await levelOf(ci, "GET", "/api/v1/namespaces/team-a/pods")).toBe("workload-low");
  const metrics = await send(await clientOf(admin, 1), "GET", "/metrics");
  expect(metrics.text).toMatch(/^apiserver_flowcontrol_nominal_limit_seats\{priority_level="tenant-writes"\} 3$/m);
}, 60_000);
