import { describe, expect, it } from "vitest";
import type { Assessment } from "../../../src/webhook/assess.ts";
import { admissionConfig } from "../../../src/webhook/config.ts";
import { lookupsNeeded } from "../../../src/webhook/decide.ts";
import { finding, policyView } from "../../support/admission.ts";

describe("which lookups a decision needs", () => {
  const assessment = (findings = [finding()]): Assessment => ({
    subject: { kind: "Deployment", namespace: "ml-team", name: "summarizer" },
    labels: { app: "summarizer" },
    findings,
    existing: [],
  });
  const config = admissionConfig();
  const user = { username: "dev@example.com" };

  it("asks about exemptions only for new exempt findings", () => {
    expect(lookupsNeeded(assessment(), { config, policies: [], user }).exemption).toBe(false);
    expect(lookupsNeeded(assessment([finding({ exempt: true })]), { config, policies: [], user }).exemption).toBe(true);
    const old = { ...assessment([finding({ exempt: true })]), existing: [0] };
    expect(lookupsNeeded(old, { config, policies: [], user }).exemption).toBe(false);
  });

  it("does not ask about an exemption a workload controller carries from the object's controller owner", () => {
    const owned = { ...assessment([finding({ exempt: true })]), owner: { kind: "ReplicaSet", name: "web-5d8f" } };
    const replicaset = { username: "system:serviceaccount:kube-system:replicaset-controller" };
    expect(lookupsNeeded(owned, { config, policies: [], user: replicaset }).exemption).toBe(false);
    expect(lookupsNeeded(owned, { config, policies: [], user }).exemption).toBe(true);
  });

  it("reads the namespace's floor only when a policy below the cluster's governs an object with findings", () => {
    const warn = [policyView({ action: "Warn" })];
    expect(lookupsNeeded(assessment(), { config, policies: warn, user }).floor).toBe(true);
    expect(lookupsNeeded(assessment([]), { config, policies: warn, user }).floor).toBe(false);
    expect(lookupsNeeded(assessment(), { config, policies: [policyView({ action: "Deny" })], user }).floor).toBe(false);
    expect(
      lookupsNeeded(assessment(), { config: admissionConfig({ actionFloor: "Warn" }), policies: warn, user }).floor,
    ).toBe(false);
  });
});
