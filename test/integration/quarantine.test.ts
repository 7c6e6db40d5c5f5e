// spec.response.quarantine on the real API server: a deny-all-egress NetworkPolicy for the pods of a
// workload with an exposed credential, while the finding stands, with an Event each way.
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { runAudit } from "../../src/audit/audit.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installReportCrds } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { applyYaml, deploymentYaml, eventsWhere } from "../support/workloads.ts";

const ns = useTestNamespace("quarantine");
const key = fakeSecrets(7).anthropic ?? "";
const logger = pino({ level: "silent" });

const workload = (name: string, value: string) =>
  deploymentYaml(ns.name, name, `{name: ANTHROPIC_API_KEY, value: "${value}"}`, "tier: llm");
const policy = (name: string, app: string, quarantine: boolean) => `
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: ${name}, namespace: ${ns.name}}
spec:
  api: {endpoint: "https://api.anthropic.com", authType: APIKey, sensitivity: Critical}
  selector: {matchLabels: {app: ${app}}}
  response: {quarantine: ${quarantine}}
`;

const apply = applyYaml;

async function networkPolicies() {
  const listed = await kubectl(["get", "networkpolicies", "-n", ns.name, "-o", "json"]);
  return JSON.parse(listed.stdout).items as { metadata: { name: string }; spec: Record<string, unknown> }[];
}

async function reasons(name: string) {
  return (await eventsWhere(ns.name, `involvedObject.name=${name}`)).map((e) => e.reason).sort();
}

const audit = () =>
  runAudit({
    kc: kubeConfig(),
    logger,
    namespaces: [ns.name],
    recordEvent: eventRecorder(new KubeRest(kubeConfig()), logger),
  });

beforeAll(async () => {
  await installCrds();
  await installReportCrds("openreports");
  await apply([policy("isolate", "leaky", true), policy("observe", "noisy", false)].join("---"));
  await apply([workload("leaky", key), workload("noisy", key)].join("---"));
});

describe("spec.response.quarantine", () => {
  it("denies all egress of the leaking workload's pods, and only where its policy asks", async () => {
    const result = await audit();
    expect(result.quarantine.added).toEqual([`${ns.name}/Deployment/leaky`]);
    const [quarantine, ...others] = await networkPolicies();
    expect(others).toEqual([]);
    expect(quarantine?.metadata.name).toBe("aiapiguard-quarantine-deployment-leaky");
    // The meaning, not the bytes: the leaky pods' labels are selected, Egress is restricted, nothing is allowed.
    expect(quarantine?.spec).toEqual({
      podSelector: { matchLabels: { app: "leaky", tier: "llm" } },
      policyTypes: ["Egress"],
    });
    await expect.poll(() => reasons("leaky")).toContain("Quarantined");
    expect((await audit()).quarantine).toEqual({ added: [], lifted: [] });
  });

  it("lifts the quarantine once the credential is gone", async () => {
    await apply(workload("leaky", "$(ANTHROPIC_KEY_FROM_SECRET)"));
    const result = await audit();
    expect(result.quarantine.lifted).toEqual([`${ns.name}/Deployment/leaky`]);
    expect(await networkPolicies()).toEqual([]);
    await expect.poll(() => reasons("leaky")).toContain("QuarantineLifted");
  });
});

describe("spec.response.quarantine, level-triggered", () => {
  const selectorOf = async (name: string) =>
    (await networkPolicies()).find((p) => p.metadata.name === `aiapiguard-quarantine-deployment-${name}`)?.spec
      .podSelector;

  it("follows the pods when their labels change, and undoes an edit that would let them out", async () => {
    await apply(policy("isolate-moving", "moving", true));
    await apply(deploymentYaml(ns.name, "moving", `{name: ANTHROPIC_API_KEY, value: "${key}"}`, "version: v1"));
    expect((await audit()).quarantine.added).toEqual([`${ns.name}/Deployment/moving`]);
    expect(await selectorOf("moving")).toEqual({ matchLabels: { app: "moving", version: "v1" } });

    // A rollout with a new pod label, the credential still in it: before, the NetworkPolicy kept selecting
    // version v1, and the new pods (version v2) had all their egress while the quarantine "stood".
    await apply(deploymentYaml(ns.name, "moving", `{name: ANTHROPIC_API_KEY, value: "${key}"}`, "version: v2"));
    await audit();
    expect(await selectorOf("moving")).toEqual({ matchLabels: { app: "moving", version: "v2" } });

    // Someone points the quarantine at nothing: the next run puts it back.
    const edited = await kubectl([
      "patch",
      "networkpolicy",
      "aiapiguard-quarantine-deployment-moving",
      "-n",
      ns.name,
      "--type=merge",
      "-p",
      '{"spec":{"podSelector":{"matchLabels":{"app":"nothing","version":null}}}}',
    ]);
    expect(edited.code, edited.stderr).toBe(0);
    await audit();
    expect(await selectorOf("moving")).toEqual({ matchLabels: { app: "moving", version: "v2" } });
  });
});

describe("spec.response.quarantine, pods labelled with a key", () => {
  it("writes no NetworkPolicy that would copy the key into its podSelector, and says why", async () => {
    // A DeepSeek key is a valid name and label value; `kubectl create deployment <name>` labels its pods app=<name>.
    const named = `sk-${randomBytes(16).toString("hex")}`;
    const lines: string[] = [];
    const heard = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    await apply(`${policy("isolate-keyed", "unused", true).replace("{app: unused}", "{tier: keyed}")}
---
${deploymentYaml(ns.name, named, `{name: ANTHROPIC_API_KEY, value: "${key}"}`, "tier: keyed")}`);
    const result = await runAudit({ kc: kubeConfig(), logger: heard, namespaces: [ns.name] });
    // Before: added, and the NetworkPolicy's podSelector held {app: <the key>}.
    expect(result.quarantine.added).toEqual([]);
    expect(JSON.stringify(await networkPolicies())).not.toContain(named.slice(3));
    expect(lines.join("\n")).toContain("cannot quarantine a workload whose pods' labels hold a key");
    expect(lines.join("\n")).not.toContain(named.slice(3));
  });
});
