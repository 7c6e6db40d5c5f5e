// Two operators, one Lease: only the holder reconciles; when it stops (SIGTERM) it releases the Lease
// and the standby takes over within seconds. Both serve the webhook all along.
import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ns = useTestNamespace("ctl-lead");
const leaseName = `lead-${randomBytes(4).toString("hex")}`;
const operators: Operator[] = [];

afterAll(async () => {
  await kubectl(["-n", ns.name, "delete", "aap", "--all", "--timeout=30s"]);
  for (const operator of operators) await operator.stop();
});

const policy = (name: string) => ({
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name, namespace: ns.name },
  spec: {
    api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low" },
    selector: { matchLabels: { app: name } },
    egress: { cidrs: ["192.0.2.0/24"] },
  },
});

const holder = async () => {
  const lease = await kubectl(["-n", "default", "get", "lease", leaseName, "-o", "jsonpath={.spec.holderIdentity}"]);
  return lease.stdout;
};

const networkPolicyExists = async (name: string) =>
  (await kubectl(["-n", ns.name, "get", "networkpolicy", `aiapiguard-${name}`])).code === 0;

it("reconciles on the Lease holder only, and the standby takes over within seconds of the holder stopping", async () => {
  await installCrds();
  const options = { controllerNamespaces: [ns.name], leaseName };
  const lease = ["--lease-duration-seconds", "60"];
  const first = await startOperator(kubeconfigPath(), ["--webhook-config-name", `${leaseName}-1`, ...lease], options);
  operators.push(first);
  const firstHolder = await eventually(holder);
  const second = await startOperator(kubeconfigPath(), ["--webhook-config-name", `${leaseName}-2`, ...lease], options);
  operators.push(second);

  await kubectl(["apply", "-f", "-"], { input: stringify(policy("before")) });
  await eventually(() => networkPolicyExists("before"));
  expect(await holder()).toBe(firstHolder);
  expect(second.output()).not.toContain('"msg":"leading: this replica reconciles"');

  expect(await first.stop()).toBe(0);
  expect(first.output()).toContain('"msg":"released the Lease"');
  await kubectl(["apply", "-f", "-"], { input: stringify(policy("after")) });
  // The Lease lasts 60 s: a takeover within 20 s means it was released, not waited out.
  await eventually(() => networkPolicyExists("after"), 20_000);
  expect(await holder()).not.toBe(firstHolder);
  expect(second.output()).toContain('"msg":"leading: this replica reconciles"');
});
