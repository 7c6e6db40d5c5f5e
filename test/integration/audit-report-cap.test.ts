// A namespace with more findings than a report holds (MAX_RESULTS): each finding is still announced once.
// Before, the findings past the cap were in no report, so every run that rewrote the report (any change in
// the namespace) announced them again: a CredentialExposed alert and Event per left-out finding, each time.
import { beforeAll, expect, it } from "vitest";
import { type AuditOptions, runAudit } from "../../src/audit/audit.ts";
import { MAX_RESULTS, RESULTS_LEFT_OUT } from "../../src/audit/report.ts";
import { CREDENTIAL_EXPOSED, credentialResponder } from "../../src/audit/response.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { capturedLogger } from "../support/logs.ts";
import { applyYaml, auditReport } from "../support/workloads.ts";

const ns = useTestNamespace("audit-cap");
const key = fakeSecrets(2033).openai ?? "";
const KEYS = MAX_RESULTS + 50;
// One ConfigMap, a hardcoded key per data entry: a finding each, at the cost of one object.
const entry = (i: number) => `  OPENAI_API_KEY_${String(i).padStart(5, "0")}: "${key}"`;
const configMap = (entries: number) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keys, namespace: ${ns.name}}\ndata:\n${Array.from({ length: entries }, (_, i) => entry(i)).join("\n")}\n`;

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await applyYaml(configMap(KEYS));
}, 120_000);

/** One audit run of the namespace; what it announced, as the operator does: alert log lines and Events. */
async function audit() {
  const { lines, logger } = capturedLogger();
  const events: unknown[] = [];
  const options: AuditOptions = {
    kc: kubeConfig(),
    logger,
    namespaces: [ns.name],
    onNewFinding: credentialResponder((event) => events.push(event), logger),
  };
  const result = await runAudit(options);
  const alerts = lines.map((line) => JSON.parse(line)).filter((line) => line.alert === CREDENTIAL_EXPOSED);
  return { result, alerts: alerts.map((a) => a.path as string), events: events.length };
}

it("announces each finding once, past the report's cap too, and says how many results the report left out", async () => {
  const first = await audit();
  expect(first.result.findings).toHaveLength(KEYS);
  expect(first.alerts).toHaveLength(KEYS);
  const report = await auditReport(ns.name);
  expect(report?.results).toHaveLength(MAX_RESULTS);
  expect(report?.summary.fail, "the summary counts every finding").toBe(KEYS);

  // A new key in the namespace: the report is rewritten, and only the new finding is announced.
  const patched = await kubectl([
    "patch",
    "configmap",
    "keys",
    "-n",
    ns.name,
    "-p",
    JSON.stringify({ data: { NEW_OPENAI_API_KEY: key } }),
  ]);
  expect(patched.code, patched.stderr).toBe(0);
  const second = await audit();
  expect(second.result.written).toEqual([ns.name]);
  expect(second.alerts).toEqual(["data.NEW_OPENAI_API_KEY"]);
  expect(second.events).toBe(1);
  expect(report?.metadata.annotations?.[RESULTS_LEFT_OUT]).toBe("50");
  expect((await auditReport(ns.name))?.metadata.annotations?.[RESULTS_LEFT_OUT]).toBe("51");

  const third = await audit();
  expect(third.result.unchanged).toEqual([ns.name]);
  expect(third.alerts).toEqual([]);
}, 180_000);
