import { describe, expect, it } from "vitest";
import { parseAiApiPolicy } from "../../../src/api/policy.ts";
import { workloadKindOf } from "../../../src/api/workload-kinds.ts";
import { endpointHosts, governingPolicy, podTemplateLabels } from "../../../src/webhook/policies.ts";
import { policyView as cachedView } from "../../../src/webhook/policy-cache.ts";
import { validPolicy } from "../../fixtures/policies.ts";
import { policyView } from "../../support/admission.ts";

const policy = policyView;

describe("governingPolicy", () => {
  const labels = { app: "summarizer" };

  it("falls back to the default action when no policy selects the object", () => {
    expect(governingPolicy([], "ml-team", labels, "Deny")).toEqual({ action: "Deny" });
    const other = policy({ selector: { matchLabels: { app: "other" } } });
    expect(governingPolicy([other], "ml-team", labels, "Audit")).toEqual({ action: "Audit" });
  });

  it("only counts policies in the object's namespace", () => {
    const elsewhere = policy({ namespace: "other-team", action: "Audit" });
    expect(governingPolicy([elsewhere], "ml-team", labels, "Deny")).toEqual({ action: "Deny" });
  });

  it("applies a selecting policy's action even when it is milder than the default", () => {
    const audit = policy({ action: "Audit" });
    expect(governingPolicy([audit], "ml-team", labels, "Deny")).toEqual({ action: "Audit", policy: audit });
  });

  it("takes the strictest action among the policies that select the object", () => {
    const audit = policy({ name: "a", action: "Audit" });
    const deny = policy({ name: "z", action: "Deny" });
    const warn = policy({ name: "m", action: "Warn" });
    expect(governingPolicy([audit, deny, warn], "ml-team", labels, "Audit").policy).toBe(deny);
    expect(governingPolicy([audit, warn], "ml-team", labels, "Deny").policy).toBe(warn);
  });

  it("names the same policy whatever the cache order when actions tie", () => {
    const a = policy({ name: "alpha", action: "Deny" });
    const b = policy({ name: "beta", action: "Deny" });
    expect(governingPolicy([b, a], "ml-team", labels, "Warn").policy).toBe(a);
    expect(governingPolicy([a, b], "ml-team", labels, "Warn").policy).toBe(a);
  });
});

describe("endpointHosts", () => {
  it("lists every policy's host once, in any namespace", () => {
    const policies = [
      policy({ endpointHost: "api.example.com" }),
      policy({ namespace: "x", endpointHost: "api.example.com" }),
      policy({ endpointHost: "llm.internal" }),
      policy({ endpointHost: "" }),
    ];
    expect(endpointHosts(policies)).toEqual(["api.example.com", "llm.internal"]);
  });

  it("computes once per policy list, and again for a new list", () => {
    const policies = [policy({ endpointHost: "a.example.com" })];
    expect(endpointHosts(policies)).toBe(endpointHosts(policies));
    expect(endpointHosts([...policies, policy({ endpointHost: "b.example.com" })])).toEqual([
      "a.example.com",
      "b.example.com",
    ]);
  });
});

describe("podTemplateLabels", () => {
  const template = { metadata: { labels: { app: "t" } } };
  it.each<[string, unknown]>([
    ["Pod", { metadata: { labels: { app: "t" } } }],
    ["ConfigMap", { metadata: { labels: { app: "t" } } }],
    ["Deployment", { metadata: { labels: { app: "no" } }, spec: { template } }],
    ["StatefulSet", { spec: { template } }],
    ["DaemonSet", { spec: { template } }],
    ["ReplicaSet", { spec: { template } }],
    ["Job", { spec: { template } }],
    ["ReplicationController", { spec: { template } }],
    ["CronJob", { metadata: { labels: { app: "no" } }, spec: { jobTemplate: { spec: { template } } } }],
  ])("reads a %s's pod labels", (kind, object) => {
    const group = workloadKindOf({ kind })?.group ?? "";
    expect(podTemplateLabels({ group, kind }, object)).toEqual({ app: "t" });
  });

  it("gives no labels for other kinds, missing templates and malformed labels", () => {
    const deployment = { group: "apps", kind: "Deployment" };
    expect(podTemplateLabels({ group: "", kind: "Service" }, { metadata: { labels: { app: "t" } } })).toEqual({});
    expect(podTemplateLabels({ group: "example.com", kind: "Deployment" }, { spec: { template } })).toEqual({});
    expect(podTemplateLabels(deployment, { spec: {} })).toEqual({});
    expect(podTemplateLabels(deployment, null)).toEqual({});
    expect(podTemplateLabels({ group: "", kind: "Pod" }, { metadata: { labels: ["app"] } })).toEqual({});
  });
});

describe("the policy cache's view of a policy", () => {
  function viewOf(admission: Record<string, unknown>) {
    const raw = validPolicy("llm-service", "ml-team");
    const parsed = parseAiApiPolicy({ ...raw, spec: { ...raw.spec, admission } });
    if (!parsed.ok) throw new Error(parsed.error);
    return cachedView(parsed.policy);
  }

  it("carries spec.admission.unregisteredAction, and leaves it out when the policy does not set it", () => {
    expect(viewOf({ action: "Warn", unregisteredAction: "Deny" })).toMatchObject({
      action: "Warn",
      unregisteredAction: "Deny",
    });
    expect(viewOf({ action: "Warn" })).not.toHaveProperty("unregisteredAction");
  });
});
