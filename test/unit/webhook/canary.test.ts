// A planted secret must come out of no door: not the response, not a log line, not an Event, not a
// metric. Every path that handles the object runs with it, through the real rules engine: deny,
// warn, audit, dry run, exemption, update, an unreadable object, an engine that throws, and bodies
// the server refuses.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { type Evaluate, EXEMPT_ANNOTATION } from "../../../src/engine/types.ts";
import type { AdmissionConfig } from "../../../src/webhook/config.ts";
import type { PolicyView } from "../../../src/webhook/policies.ts";
import { admissionReview, deployment, policyView } from "../../support/admission.ts";
import { webhookHarness } from "../../support/webhook.ts";

/** Every planted secret carries this marker away from its last 4 characters (which a hint may show). */
const MARKER = "CaNaRy";
const KEY = `sk-proj-${MARKER}7q2x9LmWvBn4T3BlbkFJz8Kd1Rt6YhPq0Xc5Ue3`;
const PASSWORD_URL = `https://bob:${MARKER}Pa55w0rd9x@api.example.com/v1`;
/** Found by its format alone, as a name is: an object's name has no name of its own to read it by. */
const NAME_KEY = `AIzaSy${MARKER}x9LmWvBn4Tz8Kd1Rt6YhPq0Xc5U`;

/** The real engine, except that it throws (quoting the value, as a buggy engine might) when asked to. */
const engine: Evaluate = (object, context) => {
  if (JSON.stringify(object)?.includes("THROW")) throw new Error(`engine bug near ${KEY}`);
  return evaluate(object, context);
};

function keyed(annotations: Record<string, string> = {}) {
  return deployment({
    env: [
      { name: "OPENAI_API_KEY", value: KEY },
      { name: "LLM_URL", value: PASSWORD_URL },
    ],
    annotations,
  });
}

function unreadable() {
  const object = keyed();
  const spec = (object.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  spec.containers = KEY;
  return object;
}

const configMap = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "ml-team" },
  data: { OPENAI_API_KEY: KEY },
};

/** Metadata of an object its controller named after itself, with a generated suffix. */
const owned = (name: string, kind: string, owner: string) => ({
  name,
  namespace: "ml-team",
  ownerReferences: [{ apiVersion: "apps/v1", kind, name: owner, uid: "u", controller: true }],
});
const spec = { containers: [{ name: "app", image: "app:1" }] };

function replicaSetOf(deployment: string) {
  const metadata = owned(`${deployment}-5896d6cb7`, "Deployment", deployment);
  return { apiVersion: "apps/v1", kind: "ReplicaSet", metadata, spec: { template: { spec } } };
}

/** Clean: no finding to show, only the decision line that names it. */
function podOf(replicaSet: string) {
  return { apiVersion: "v1", kind: "Pod", metadata: owned(`${replicaSet}-x2x4z`, "ReplicaSet", replicaSet), spec };
}

describe("a planted secret appears in no output", () => {
  it.each<[string, Partial<AdmissionConfig>, PolicyView[], () => unknown]>([
    ["deny", {}, [], () => admissionReview(keyed())],
    ["deny, dry run", {}, [], () => admissionReview(keyed(), { dryRun: true })],
    ["warn", {}, [policyView()], () => admissionReview(keyed())],
    ["audit", { defaultAction: "Audit" }, [], () => admissionReview(keyed())],
    ["exempt", {}, [], () => admissionReview(keyed({ [EXEMPT_ANNOTATION]: "hardcoded-secret,credentials-in-url" }))],
    ["update", {}, [], () => admissionReview(keyed(), { operation: "UPDATE", oldObject: keyed() })],
    ["a ConfigMap", {}, [], () => admissionReview(configMap)],
    // Named with a key: the refusal, the decision line and the Event name the object, so they must not quote it.
    ["named with a key", {}, [], () => admissionReview({ ...configMap, metadata: { name: NAME_KEY }, data: {} })],
    [
      "named with a key by generateName",
      {},
      [],
      () => admissionReview({ ...configMap, metadata: { generateName: NAME_KEY }, data: {} }),
    ],
    [
      "named with a key, under Audit",
      { defaultAction: "Audit" },
      [],
      () => admissionReview({ ...configMap, metadata: { name: NAME_KEY }, data: {} }),
    ],
    // Its ReplicaSet and Pods are named after it, with generated suffixes no format's match runs into.
    [
      "a ReplicaSet of a Deployment named with a key, under Warn",
      { defaultAction: "Warn" },
      [],
      () => admissionReview(replicaSetOf(NAME_KEY)),
    ],
    ["a Pod of a Deployment named with a key", {}, [], () => admissionReview(podOf(`${NAME_KEY}-5896d6cb7`))],
    ["unreadable", {}, [], () => admissionReview(unreadable())],
    ["unreadable under Warn", { defaultAction: "Warn" }, [], () => admissionReview(unreadable())],
    ["engine throws", {}, [], () => admissionReview(keyed({ note: "THROW" }))],
    ["not an AdmissionReview", {}, [], () => ({ apiVersion: KEY, kind: KEY, request: { uid: KEY, object: keyed() } })],
  ])("%s", async (_, config, policies, body) => {
    const h = await webhookHarness({ evaluate: engine, config, policies });
    const response = await h.validate(body());
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    await h.app.close();
    expect(h.logText.length).toBeGreaterThan(0);
    for (const output of [response.text, ...h.logText, JSON.stringify(h.events), metrics]) {
      expect(output).not.toContain(MARKER);
    }
  });

  // A DeepSeek key is a valid namespace and policy name, and a service account's user name holds its namespace.
  it.each<[string, Partial<AdmissionConfig>]>([
    ["deny", {}],
    ["warn", { defaultAction: "Warn" }],
    ["audit", { defaultAction: "Audit" }],
  ])("nor when the namespace and the policy are named with keys (%s)", async (_, config) => {
    const namespace = `sk-${randomBytes(16).toString("hex")}`;
    const policy = `team-a-sk-${randomBytes(16).toString("hex")}`;
    const messages: string[] = [];
    const h = await webhookHarness({
      evaluate: engine,
      config,
      policies: [policyView({ namespace, name: policy, action: config.defaultAction ?? "Deny" })],
      // The API server's refusal of an Event quotes its namespace, and the log line of the failure the error.
      events: (event) => {
        messages.push(event.message);
        return Promise.reject(new Error(`namespace ${namespace} is being terminated`));
      },
    });
    const object = { ...keyed(), metadata: { ...(keyed().metadata as object), namespace } };
    const exempt = { annotations: { [EXEMPT_ANNOTATION]: "hardcoded-secret" } };
    const user = { username: `system:serviceaccount:${namespace}:deployer`, groups: [] };
    const responses = [
      await h.validate(admissionReview(object, { userInfo: user })),
      await h.validate(admissionReview(object, { userInfo: user, dryRun: true })),
      await h.validate(admissionReview(object, { userInfo: user, operation: "UPDATE", oldObject: keyed() })),
      // The exemption's refusal, or its Event, names the user who asked.
      await h.validate(admissionReview({ ...object, metadata: { ...object.metadata, ...exempt } }, { userInfo: user })),
    ];
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    await h.app.close();
    expect(responses[0]?.text).toContain(`<DeepSeek API key ending …${namespace.slice(-4)}>`);
    const outputs = [...responses.map((r) => r.text), ...h.logText, ...messages, metrics];
    for (const output of outputs)
      for (const key of [namespace, policy.slice(7)]) expect(output).not.toContain(key.slice(3, -4));
  });

  it("nor when the body is broken JSON around it", async () => {
    const h = await webhookHarness({ evaluate: engine });
    const response = await h.post(`{"apiVersion":"admission.k8s.io/v1","request":{"object":"${KEY}"`);
    await h.app.close();
    expect(response.statusCode).toBe(400);
    expect([response.body, ...h.logText].join("\n")).not.toContain(MARKER);
  });
});
