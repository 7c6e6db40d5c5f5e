// The controller stops with the Lease: a reconcile in progress when this replica loses it writes nothing
// more, not even an Event about the write the loss cut off.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createController } from "../../src/controller/controller.ts";
import { type EventInput, eventRecorder } from "../../src/kube/events.ts";
import { SharedInformers } from "../../src/kube/informers.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { createProcessMetrics } from "../../src/observability/metrics.ts";
import { leaseElector } from "../../src/runtime/leader.ts";
import { runManager } from "../../src/runtime/manager.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { GatedKubeConfig } from "../support/gated-kubeconfig.ts";
import { handLeaseTo } from "../support/lease.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, deploymentYaml } from "../support/workloads.ts";

const ns = useTestNamespace("ctl-loss");
const lease = `ctl-${randomBytes(4).toString("hex")}`;
const stop = new AbortController();
let running: Promise<void> | undefined;

beforeAll(async () => {
  await installCrds();
  // The policy carries the controller's finalizer already, so its first write is the Secret mount.
  await applyYaml(`
apiVersion: v1
kind: Secret
metadata: {name: key, namespace: ${ns.name}}
stringData: {api-key: not-a-real-key}
---
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: mounts, namespace: ${ns.name}, finalizers: [aiapiguard.dev/cleanup]}
spec:
  api: {endpoint: "https://api.example.com", authType: APIKey, sensitivity: Low}
  selector: {matchLabels: {app: app}}
  credentials: {secretName: key}
---
${deploymentYaml(ns.name, "app", "")}`);
});

afterAll(async () => {
  stop.abort();
  await running;
  await kubectl(["-n", ns.name, "patch", "aap", "mounts", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
});

it("records no Event about a write that the loss of the Lease cut off", async () => {
  const { logger, lines } = capturedLogger();
  const rest = new KubeRest(kubeConfig());
  const recorder = eventRecorder(rest, logger);
  const recorded: EventInput[] = [];
  const informers = new SharedInformers(rest, logger, { namespaces: [ns.name] });
  // The controller's writes wait at a gate: the reconcile is held at its first one while the Lease goes.
  const gated = new GatedKubeConfig();
  gated.close();
  const controller = createController({
    rest: new KubeRest(gated),
    informers,
    logger,
    metrics: createProcessMetrics().controller,
    events: (event) => {
      recorded.push(event);
      recorder(event);
    },
  });
  const leading: boolean[] = [];
  running = runManager(stop.signal, {
    logger,
    runnables: [
      {
        name: "informers",
        needsLeader: false,
        start: async () => {
          informers.start();
          await informers.waitForSync();
        },
        stop: () => informers.stop(),
      },
      controller,
    ],
    elect: leaseElector({
      rest,
      namespace: ns.name,
      name: lease,
      identity: "replica-a",
      logger,
      leaseDurationMs: 60_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 250,
      onChange: (now) => leading.push(now),
    }),
  });

  await eventually(() => gated.held > 0, 30_000, "the reconcile held at its first write");
  await handLeaseTo(ns.name, lease, "replica-b");
  await eventually(() => lines.some((l) => l.includes("lost the Lease")), 15_000, "the loss noticed");
  gated.open();
  await eventually(() => leading.includes(false), 15_000, "the controller stopped");
  expect(recorded).toEqual([]);
  const deployment = await kubectl([
    "-n",
    ns.name,
    "get",
    "deployment",
    "app",
    "-o",
    "jsonpath={.spec.template.spec.volumes}",
  ]);
  expect(deployment.stdout, "the mount was never written").toBe("");
});
