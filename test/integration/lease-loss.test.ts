// Leader-only work stops with the Lease: a controller reconcile or a certificate rotation in progress when
// this replica loses the Lease writes nothing more, not even an Event about the write the loss cut off.
// (The audit's run: audit-leader.test.ts.) Each is held at a gate in front of its requests while the
// Lease goes to another identity, and let go once the loss is noticed.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createController } from "../../src/controller/controller.ts";
import { type EventInput, eventRecorder } from "../../src/kube/events.ts";
import { SharedInformers } from "../../src/kube/informers.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { createProcessMetrics } from "../../src/observability/metrics.ts";
import { leaseElector } from "../../src/runtime/leader.ts";
import { type Runnable, runManager } from "../../src/runtime/manager.ts";
import { certificateReconciler } from "../../src/tls/certificate-secret.ts";
import { certificateRunnables } from "../../src/tls/in-cluster.ts";
import { servingFromSecret } from "../../src/tls/serving.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { GatedKubeConfig } from "../support/gated-kubeconfig.ts";
import { handLeaseTo } from "../support/lease.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, deploymentYaml } from "../support/workloads.ts";

const ns = useTestNamespace("lease-loss");
const stops: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/**
 * Runs `runnables` as the operator's manager does, under a Lease of their own, `gated` holding the leader's
 * requests from the start. Once one is held, hands the Lease to another identity; when the loss is noticed,
 * opens the gate again, and resolves when the leader-only runnables have stopped.
 */
async function loseLeaseMidWork(gated: GatedKubeConfig, runnables: (logger: Logger) => Runnable[]) {
  const { logger, lines } = capturedLogger();
  const lease = `loss-${randomBytes(4).toString("hex")}`;
  const leading: boolean[] = [];
  const stop = new AbortController();
  gated.close();
  const running = runManager(stop.signal, {
    logger,
    runnables: runnables(logger),
    elect: leaseElector({
      rest: new KubeRest(kubeConfig()),
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
  stops.push(async () => {
    gated.open();
    stop.abort();
    await running;
  });
  await eventually(() => gated.held > 0, 30_000, "the leader's work held at its first request");
  await handLeaseTo(ns.name, lease, "replica-b");
  await eventually(() => lines.some((l) => l.includes("lost the Lease")), 15_000, "the loss noticed");
  gated.open();
  await eventually(() => leading.includes(false), 15_000, "the leader's work stopped");
  return { lines };
}

describe("the controller", () => {
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
    stops.push(() =>
      kubectl(["-n", ns.name, "patch", "aap", "mounts", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']),
    );
  });

  it("records no Event about a write that the loss of the Lease cut off", async () => {
    const recorded: EventInput[] = [];
    const gated = new GatedKubeConfig();
    await loseLeaseMidWork(gated, (logger) => {
      const rest = new KubeRest(kubeConfig());
      const recorder = eventRecorder(rest, logger);
      const informers = new SharedInformers(rest, logger, { namespaces: [ns.name] });
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
      const caches: Runnable = {
        name: "informers",
        needsLeader: false,
        start: async () => {
          informers.start();
          await informers.waitForSync();
        },
        stop: () => informers.stop(),
      };
      return [caches, controller];
    });
    expect(recorded).toEqual([]);
    const volumes = await kubectl(["-n", ns.name, "get", "deploy/app", "-o", "jsonpath={.spec.template.spec.volumes}"]);
    expect(volumes.stdout, "the mount was never written").toBe("");
  });
});

describe("the certificate rotation", () => {
  it("writes no certificate Secret once the Lease is lost", async () => {
    const gated = new GatedKubeConfig();
    const secret = { namespace: ns.name, name: "guard-tls" };
    const { lines } = await loseLeaseMidWork(gated, (logger) =>
      certificateRunnables({
        serving: servingFromSecret(kubeConfig(), secret, 60_000, logger),
        rotation: certificateReconciler(gated, {
          namespace: secret.namespace,
          secretName: secret.name,
          webhookConfigName: `none-${ns.name}`,
          settings: { dnsNames: ["localhost"], caDurationMs: 36_000, certificateDurationMs: 12_000 },
          logger,
        }),
        intervalMs: 60_000,
      }),
    );
    const ended = ["rotated the webhook's certificates", "certificate rotation stopped before it finished"];
    await eventually(() => lines.some((l) => ended.some((msg) => l.includes(msg))), 15_000, "the round ended");
    expect(lines.filter((l) => l.includes(ended[0] as string))).toEqual([]);
    expect((await kubectl(["-n", ns.name, "get", "secret", secret.name])).code, "no Secret written").not.toBe(0);
  });
});
