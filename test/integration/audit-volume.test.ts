// A key in a volume's field of a running workload (a CSI attribute): the audit's CredentialExposed Event, its
// log line and the Report's result name the volume, as they name a container for a key in env. Before, the
// Event said "Deployment/weights at spec.template.spec.volumes[1]...": only the index told which volume.

import { beforeAll, expect, it } from "vitest";
import { runAudit } from "../../src/audit/audit.ts";
import { credentialResponder } from "../../src/audit/response.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { clusterSources } from "../../src/readapi/index.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, auditReport, eventsWhere } from "../support/workloads.ts";

const ns = useTestNamespace("audit-volume");
const key = fakeSecrets(2027).openai ?? "";
const PATH = "spec.template.spec.volumes[1].csi.volumeAttributes.secretKey";

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: weights, namespace: ${ns.name}}
spec:
  selector: {matchLabels: {app: weights}}
  template:
    metadata: {labels: {app: weights}}
    spec:
      containers: [{name: app, image: app:1}]
      volumes:
        - {name: cache, emptyDir: {}}
        - {name: models, csi: {driver: s3.csi.example.com, volumeAttributes: {secretKey: "${key}"}}}
`);
});

it("names the volume in the Event, the alert's log line and the Report, and the key in none of them", async () => {
  const { lines, logger } = capturedLogger();
  const result = await runAudit({
    kc: kubeConfig(),
    logger,
    namespaces: [ns.name],
    onNewFinding: credentialResponder(eventRecorder(new KubeRest(kubeConfig()), logger), logger),
  });
  expect(result.findings.map((f) => [f.path, f.volume])).toEqual([[PATH, "models"]]);

  await expect.poll(() => eventsWhere(ns.name, "reason=CredentialExposed")).toHaveLength(1);
  const [event] = await eventsWhere(ns.name, "reason=CredentialExposed");
  expect(event?.message).toContain(`in Deployment/weights volume "models" at ${PATH}.`);

  const alert = lines.map((l) => JSON.parse(l)).find((l) => l.alert === "CredentialExposed");
  expect(alert).toMatchObject({ kind: "Deployment", name: "weights", volume: "models", path: PATH });

  const written = await auditReport(ns.name);
  expect(written?.results[0]?.properties).toMatchObject({ path: PATH, volume: "models" });
  // What the read API serves on every replica, read back from the Report: the volume with the rest.
  expect(await clusterSources(kubeConfig(), { format: "openreports", namespaces: [ns.name] }).findings()).toEqual(
    result.findings,
  );
  for (const text of [JSON.stringify(event), lines.join("\n"), JSON.stringify(written)])
    expect(text).not.toContain(key.slice(-12));
});
