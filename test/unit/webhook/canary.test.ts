// A planted key must come out of no door: not the response, not a log line, not an Event, not a
// metric. Every path that handles the object runs with it: deny, warn, audit, dry run, exemption,
// an unreadable object, an engine that throws, and bodies the server refuses.
import { describe, expect, it } from "vitest";
import type { Evaluate } from "../../../src/engine/types.ts";
import type { AdmissionConfig } from "../../../src/webhook/config.ts";
import type { PolicyView } from "../../../src/webhook/policies.ts";
import { admissionReview, deployment, finding, policyView } from "../../support/admission.ts";
import { webhookHarness } from "../../support/webhook.ts";

/** Shaped like an OpenAI project key; the middle is what must never show (a hint may end in the last 4). */
const CANARY = "sk-proj-CaNaRy7q2x9LmWvBn4T3BlbkFJz8Kd1Rt6YhPq0Xc5Ue3";
const CANARY_BODY = CANARY.slice(0, -4);

const engine: Evaluate = (object) => {
  const text = JSON.stringify(object) ?? "";
  if (text.includes("UNREADABLE")) return { findings: [], unreadable: "spec.template.spec.containers is not a list" };
  if (text.includes("THROW")) throw new Error(`engine bug near ${CANARY}`);
  if (!text.includes(CANARY)) return { findings: [] };
  return {
    findings: [finding({ hint: `OpenAI API key ending in ${CANARY.slice(-4)}`, exempt: text.includes("EXEMPT") })],
  };
};

const policy = policyView();

function keyed(marker = "") {
  return deployment({ env: [{ name: "OPENAI_API_KEY", value: CANARY }], annotations: { note: marker } });
}

describe("a planted key appears in no output", () => {
  it.each<[string, Partial<AdmissionConfig>, PolicyView[], () => unknown]>([
    ["deny", {}, [], () => admissionReview(keyed())],
    ["deny, dry run", {}, [], () => admissionReview(keyed(), { dryRun: true })],
    ["warn", {}, [policy], () => admissionReview(keyed())],
    ["audit", { defaultAction: "Audit" }, [], () => admissionReview(keyed())],
    ["exempt", {}, [], () => admissionReview(keyed("EXEMPT"))],
    ["unreadable", {}, [], () => admissionReview(keyed("UNREADABLE"))],
    ["unreadable under Warn", { defaultAction: "Warn" }, [], () => admissionReview(keyed("UNREADABLE"))],
    ["engine throws", {}, [], () => admissionReview(keyed("THROW"))],
    ["update", {}, [], () => admissionReview(keyed(), { operation: "UPDATE", oldObject: keyed() })],
    ["not an AdmissionReview", {}, [], () => ({ apiVersion: CANARY, kind: CANARY, request: { uid: CANARY } })],
  ])("%s", async (_, config, policies, body) => {
    const h = await webhookHarness({ evaluate: engine, config, policies });
    const response = await h.validate(body());
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    await h.app.close();
    const outputs = [response.text, ...h.logText, JSON.stringify(h.events), metrics];
    expect(h.logText.length + h.events.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(output).not.toContain(CANARY_BODY);
      expect(output).not.toContain("CaNaRy");
    }
  });

  it("nor when the body is broken JSON around it", async () => {
    const h = await webhookHarness({ evaluate: engine });
    const response = await h.post(`{"apiVersion":"admission.k8s.io/v1","request":{"object":"${CANARY}"`);
    await h.app.close();
    expect(response.statusCode).toBe(400);
    expect([response.body, ...h.logText].join("\n")).not.toContain("CaNaRy");
  });
});
