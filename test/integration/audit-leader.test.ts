// The background audit stops with the Lease: a run in progress when this replica loses it writes nothing
// more (no Report, quarantine NetworkPolicy or Event), and the next leader's run takes over from there.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AuditResult } from "../../src/audit/audit.ts";
import { credentialResponder } from "../../src/audit/response.ts";
import { auditRunnable } from "../../src/audit/runnable.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { leaseElector } from "../../src/runtime/leader.ts";
import { runManager } from "../../src/runtime/manager.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { GatedKubeConfig } from "../support/gated-kubeconfig.ts";
import { handLeaseTo } from "../support/lease.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, deploymentYaml, eventsWhere } from "../support/workloads.ts";

const spaces = [1, 2, 3, 4].map(() => useTestNamespace("audit-lead"));
const names = () => spaces.map((ns) => ns.name).sort();
const key = fakeSecrets(11).anthropic ?? "";
const lease = `audit-${randomBytes(4).toString("hex")}`;
const stops: (() => Promise<unknown>)[] = [];

const policy = (namespace: string) => `
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: isolate, namespace: ${namespace}}
spec:
  api: {endpoint: "https://api.anthropic.com", authType: APIKey, sensitivity: Critical}
  selector: {matchLabels: {app: leaky}}
  response: {quarantine: true}
`;

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  for (const namespace of names()) {
    await applyYaml(policy(namespace));
    await applyYaml(deploymentYaml(namespace, "leaky", `{name: ANTHROPIC_API_KEY, value: "${key}"}`));
  }
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** One replica of the operator as far as the audit goes: the Lease, the audit runnable, Events. */
function replica(identity: string, kc = kubeConfig(), onNewFinding?: () => void) {
  const { logger, lines } = capturedLogger();
  const rest = new KubeRest(kubeConfig());
  const events = eventRecorder(rest, logger);
  const respond = credentialResponder(events, logger);
  const leading: boolean[] = [];
  const results: AuditResult[] = [];
  const stop = new AbortController();
  const running = runManager(stop.signal, {
    logger,
    runnables: [
      auditRunnable({
        kc,
        logger,
        namespaces: names(),
        intervalMs: 3_600_000,
        recordEvent: events,
        onNewFinding: (finding) => {
          onNewFinding?.();
          respond(finding);
        },
        onResult: (result) => results.push(result),
      }),
    ],
    elect: leaseElector({
      rest,
      namespace: names()[0] as string,
      name: lease,
      identity,
      logger,
      leaseDurationMs: 60_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 250,
      onChange: (now) => leading.push(now),
    }),
  });
  stops.push(() => {
    stop.abort();
    return running;
  });
  return { lines, leading, results };
}

/** What the audit has written in the namespaces: Reports and quarantines by resourceVersion, and its Events. */
async function written() {
  const list = async (resource: string) => {
    const listed = await kubectl(["get", resource, "-A", "-o", "json"]);
    const items = JSON.parse(listed.stdout).items as { metadata: { namespace: string; name: string } }[];
    return items.filter((item) => names().includes(item.metadata.namespace));
  };
  const versions = (items: { metadata: { namespace: string; name: string; resourceVersion?: string } }[]) =>
    Object.fromEntries(items.map((i) => [`${i.metadata.namespace}/${i.metadata.name}`, i.metadata.resourceVersion]));
  const events: string[] = [];
  for (const namespace of names())
    for (const reason of ["CredentialExposed", "Quarantined"])
      for (const e of await eventsWhere(namespace, `reason=${reason}`))
        events.push(`${namespace} ${e.reason} ${e.kind}/${e.name}`);
  return {
    reports: versions(await list("reports.openreports.io")),
    quarantines: versions(await list("networkpolicies")),
    events: events.sort(),
  };
}

it("writes nothing more once the Lease is lost mid-run, and the next leader's run completes it", async () => {
  const [first, ...rest] = names();
  // The old leader's audit requests go through a gate, closed right after its first Report is written:
  // the run is held in progress, before its next write, while the Lease goes to another replica.
  const gated = new GatedKubeConfig();
  const old = replica("replica-a", gated, () => {
    if (gated.held === 0) gated.close();
  });
  stops.push(async () => gated.open());
  await eventually(() => gated.held > 0, 30_000, "the old leader's run held after its first Report");
  await handLeaseTo(first as string, lease, "replica-b");
  await eventually(() => old.lines.some((l) => l.includes("lost the Lease")), 15_000, "the loss noticed");
  // The first Report's Events were sent while leading (fire and forget): they count as before the loss.
  await eventually(async () => (await eventsWhere(first as string, "reason=CredentialExposed")).length === 2);
  const atLoss = await written();
  expect(Object.keys(atLoss.reports), "the run was in progress: one Report of four").toEqual([`${first}/ai-api-guard`]);

  gated.open();
  await eventually(() => old.leading.includes(false), 30_000, "the old leader's audit stopped");
  expect(await written(), "nothing written by the old leader after it noticed the loss").toEqual(atLoss);
  expect(old.results, "no run finished after the loss").toEqual([]);
  expect(old.lines.some((l) => l.includes("audit run stopped before it finished"))).toBe(true);
  expect(old.lines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);

  const next = replica("replica-b");
  const [result] = await eventually(() => (next.results.length > 0 ? next.results : undefined), 30_000);
  expect(result?.unchanged).toEqual([first]);
  expect(result?.written).toEqual(rest);
  expect(result?.quarantine.added.sort()).toEqual(names().map((n) => `${n}/Deployment/leaky`));
});
