// unregistered-ai-api at admission: a Deployment that calls an AI API no AiApiPolicy registers is
// admitted and recorded under the default (Audit, so installing the product never blocks a deploy for
// it), and refused by an operator whose --unregistered-action is Deny, or where a policy selecting its
// Pods chooses Deny in spec.admission.unregisteredAction.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const run = randomBytes(3).toString("hex");
const ns = { audit: `unreg-audit-${run}`, deny: `unreg-deny-${run}` };
const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);

const CALLS_OPENAI = { env: [{ name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" }] };
const caller = (namespace: string, name = "summarizer", app = "summarizer", reads: object = CALLS_OPENAI) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace },
  spec: {
    selector: { matchLabels: { app } },
    template: {
      metadata: { labels: { app } },
      spec: {
        containers: [{ name: "app", image: "registry.example/app:1", ...reads }],
      },
    },
  },
});
const apply = (object: object) => kubectl(["apply", "-f", "-"], { input: stringify(object) });

const operators: Operator[] = [];

beforeAll(async () => {
  await installCrds();
  for (const name of Object.values(ns)) await core().createNamespace({ body: { metadata: { name } } });
  const operator = (namespace: string, args: string[] = []) =>
    startOperator(kubeconfigPath(), [
      "--webhook-config-name",
      namespace,
      "--namespace-selector",
      `kubernetes.io/metadata.name=${namespace}`,
      ...args,
    ]);
  operators.push(await operator(ns.audit), await operator(ns.deny, ["--unregistered-action", "Deny"]));
});

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  for (const name of Object.values(ns))
    await core()
      .deleteNamespace({ name })
      .catch(() => undefined);
});

describe("a Deployment calling api.openai.com with no AiApiPolicy", () => {
  it("is admitted and recorded under Audit by default: an AdmissionAudit Event and the log line", async () => {
    const applied = await apply(caller(ns.audit));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).not.toContain("Warning");
    const event = await eventually(async () => {
      const list = await core().listNamespacedEvent({ namespace: ns.audit, fieldSelector: "reason=AdmissionAudit" });
      return list.items.find((e) => e.involvedObject.name === "summarizer");
    });
    expect(event.message).toContain("(action Audit from --unregistered-action)");
    expect(event.message).toContain("unregistered-ai-api");
    expect(event.message).toContain("api.openai.com");
    expect(operators[0]?.output()).toContain('"unregisteredAction":"Audit"');
  });

  it("is refused by an operator run with --unregistered-action Deny, saying how to register it", async () => {
    const applied = await apply(caller(ns.deny));
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(applied.stderr).toContain("(action Deny from --unregistered-action)");
    expect(applied.stderr).toContain("Declare the API: an AiApiPolicy");
  });

  it("is refused too when the host is in a ConfigMap it reads with envFrom, and admitted when the host is not an AI API's", async () => {
    const settings = (name: string, url: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns.deny },
      data: { OPENAI_BASE_URL: url, LOG_LEVEL: "info" },
    });
    const reading = (name: string, configMap: string) =>
      caller(ns.deny, name, name, { envFrom: [{ configMapRef: { name: configMap } }] });
    for (const [name, url] of [
      ["llm-settings", "https://api.openai.com/v1"],
      ["gateway-settings", "https://llm-gateway.example/v1"],
    ] as const) {
      const created = await apply(settings(name, url));
      expect(created.code, created.stderr).toBe(0);
    }
    const refused = await apply(reading("reads-openai", "llm-settings"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(refused.stderr).toContain("spec.template.spec.containers[0].envFrom[0].configMapRef: api.openai.com");
    const admitted = await apply(reading("reads-gateway", "gateway-settings"));
    expect(admitted.code, admitted.stderr).toBe(0);
    // A review of 256 KiB or more is read in a worker thread; it follows the ConfigMaps too (before, it did not).
    const large = caller(ns.deny, "large-reader", "large-reader", {
      envFrom: [{ configMapRef: { name: "llm-settings" } }],
      args: ["--notes", "x".repeat(300_000)],
    });
    // create, not apply: apply would copy the object into an annotation, past the 256 KiB annotations limit.
    const refusedLarge = await kubectl(["create", "-f", "-"], { input: stringify(large) });
    expect(refusedLarge.code, refusedLarge.stderr).not.toBe(0);
    expect(refusedLarge.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(refusedLarge.stderr).toContain("spec.template.spec.containers[0].envFrom[0].configMapRef: api.openai.com");
  });
});

describe("a Deployment reading an AI API's host from a ConfigMap key named __proto__", () => {
  it("is refused: the key is read as any other, not lost to the object's prototype", async () => {
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "proto-settings", namespace: ns.deny } };
    const created = await kubectl(["create", "-f", "-"], {
      input: JSON.stringify({ ...configMap, data: JSON.parse('{"__proto__": "https://api.openai.com/v1"}') }),
    });
    expect(created.code, created.stderr).toBe(0);
    const fromKey = { valueFrom: { configMapKeyRef: { name: "proto-settings", key: "__proto__" } } };
    const refused = await apply(
      caller(ns.deny, "proto-reader", "proto-reader", { env: [{ name: "OPENAI_BASE_URL", ...fromKey }] }),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(refused.stderr).toContain(
      "spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef: api.openai.com",
    );
  });
});

describe("a Deployment that reads more ConfigMaps than the webhook follows a review", () => {
  it("is admitted with a warning kubectl prints, saying how many were not read", async () => {
    const envFrom = Array.from({ length: 17 }, (_, i) => ({ configMapRef: { name: `optional-${i}`, optional: true } }));
    const applied = await apply(caller(ns.deny, "many-configmaps", "many-configmaps", { envFrom }));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(
      "Warning: ai-api-guard did not read 1 more ConfigMap Deployment/many-configmaps reads at admission: the audit reads them",
    );
  });
});

describe("an AiApiPolicy choosing the action for the AI APIs its workloads call unregistered", () => {
  // It declares another endpoint, so api.openai.com stays unregistered for the Pods it selects.
  const strict = (namespace: string) => ({
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name: "strict", namespace },
    spec: {
      api: { endpoint: "https://llm.internal.example/v1", authType: "APIKey", sensitivity: "High" },
      selector: { matchLabels: { app: "summarizer" } },
      egress: {},
      credentials: { secretName: "llm-key" },
      admission: { unregisteredAction: "Deny" },
    },
  });

  it("refuses a new Deployment it selects under an operator whose setting is Audit, naming the policy", async () => {
    const applied = await apply(strict(ns.audit));
    expect(applied.code, applied.stderr).toBe(0);
    const refused = await eventually(async () => {
      const attempt = await apply(caller(ns.audit, "summarizer-b"));
      return attempt.code !== 0 ? attempt : undefined;
    });
    expect(refused.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(refused.stderr).toContain(`(action Deny from AiApiPolicy ${ns.audit}/strict)`);
    expect(refused.stderr).toContain("api.openai.com");
    // Pods it does not select keep the operator's setting.
    const admitted = await apply(caller(ns.audit, "other", "other"));
    expect(admitted.code, admitted.stderr).toBe(0);
  });
});
