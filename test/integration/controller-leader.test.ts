// Two operators, one Lease: only the holder reconciles; when it stops (SIGTERM) it releases the Lease
// and the standby takes over within seconds; when it is killed (SIGKILL) the standby takes over once
// the Lease runs out. Both serve the webhook all along. And a holder that cannot release the Lease
// (the API server does not answer) still stops.
import { randomBytes } from "node:crypto";
import { afterAll, expect, it, onTestFinished } from "vitest";
import { stringify } from "yaml";
import { KubeRest } from "../../src/kube/rest.ts";
import { leaseElector } from "../../src/runtime/leader.ts";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { freezingProxy } from "../support/freezing-proxy.ts";
import { capturedLogger } from "../support/logs.ts";
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

const holder = async (name = leaseName, namespace = "default") => {
  const lease = await kubectl(["-n", namespace, "get", "lease", name, "-o", "jsonpath={.spec.holderIdentity}"]);
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

it("hands over when the holder is killed (SIGKILL: no release), once the Lease runs out, and converges what changed", async () => {
  for (const earlier of operators.splice(0)) await earlier.stop(); // they reconcile this namespace too
  const lease = `crash-${randomBytes(4).toString("hex")}`;
  const options = { controllerNamespaces: [ns.name], leaseName: lease };
  // Ignore: the killed replica's webhook stays registered at an address nothing answers any more.
  const args = (n: number) => ["--webhook-config-name", `${lease}-${n}`, "--failure-policy", "Ignore"];
  const first = await startOperator(kubeconfigPath(), args(1), options);
  operators.push(first);
  const firstHolder = await eventually(() => holder(lease));
  const second = await startOperator(kubeconfigPath(), args(2), options);
  operators.push(second);
  await kubectl(["apply", "-f", "-"], { input: stringify(policy("crash-before")) });
  await eventually(() => networkPolicyExists("crash-before"));

  await first.crash();
  onTestFinished(async () => {
    await kubectl(["delete", "validatingwebhookconfiguration", `${lease}-1`, "--ignore-not-found"]);
  });
  await kubectl(["apply", "-f", "-"], { input: stringify(policy("crash-after")) });
  // The Lease lasts 15 s (the default) and was not released: the standby waits it out, then leads.
  await eventually(() => networkPolicyExists("crash-after"), 40_000);
  expect(await holder(lease)).not.toBe(firstHolder);
  expect(first.output()).not.toContain('"msg":"released the Lease"');
  expect(second.output()).toContain('"msg":"leading: this replica reconciles"');
});

it("stops within the renew deadline when it cannot release the Lease (an API server that does not answer)", async () => {
  const proxy = await freezingProxy();
  onTestFinished(() => proxy.close());
  const { logger, lines } = capturedLogger();
  const elect = leaseElector({
    rest: new KubeRest(proxy.kubeConfig()),
    namespace: ns.name,
    name: "stalled",
    identity: "replica-a",
    logger,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 2_000,
    retryPeriodMs: 60_000,
  });
  const stop = new AbortController();
  const leading = Promise.withResolvers<void>();
  const running = elect(stop.signal, async () => leading.resolve());
  await leading.promise;
  // At once: the release goes out on the connection that took the Lease, as in a process that has led for a while.
  proxy.freeze();
  stop.abort();
  // Before, the release waited for undici's own timeout (300 s), and the process past the kubelet's grace period.
  const stopped = await Promise.race([
    running.then(() => "stopped"),
    new Promise((resolve) => setTimeout(() => resolve("still releasing"), 15_000).unref()),
  ]);
  expect(stopped).toBe("stopped");
  expect(lines.join("")).toContain("could not release the Lease; a standby takes over when it expires");
  expect(await holder("stalled", ns.name)).toBe("replica-a"); // held, as it was: a standby waits it out
});
