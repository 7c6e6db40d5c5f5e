// The path a user takes: `kubectl apply` through the real kube-apiserver, which calls the webhook that
// `ai-api-guard run` registered. The operator reviews only namespaces labelled for this file, so the
// other test files of the run are not affected.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeRest } from "../../src/kube/rest.ts";
import { registerWebhook, unregisterWebhook } from "../../src/kube/webhook-configuration.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const run = randomBytes(3).toString("hex");
const label = { "aiapiguard-e2e": run };
const ns = { deny: `deny-${run}`, warn: `warn-${run}`, audit: `audit-${run}`, exempt: `exempt-${run}` };
const secrets = fakeSecrets(Number.parseInt(run, 16));
const KEY = secrets.openai as string;
const DENIED = 'admission webhook "validate.aiapiguard.dev" denied the request:';

function deployment(name: string, namespace: string, env: Record<string, string>, app = name) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          containers: [
            {
              name: "app",
              image: "registry.example/summarizer:1.0",
              env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
            },
          ],
        },
      },
    },
  };
}

function policy(name: string, namespace: string, app: string, action: string, endpoint = "https://api.example.com/v1") {
  return {
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name, namespace },
    spec: {
      api: { endpoint, authType: "APIKey", sensitivity: "High" },
      selector: { matchLabels: { app } },
      admission: { action },
    },
  };
}

const apply = (...objects: object[]) =>
  kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });

let operator: Operator;

beforeAll(async () => {
  await installCrds();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  // A cluster admin lets the policies of the Warn and Audit namespaces act below the Deny floor.
  const floors: Record<string, string> = { [ns.warn]: "Warn", [ns.audit]: "Audit" };
  for (const name of Object.values(ns)) {
    const floor: Record<string, string> = floors[name] ? { "aiapiguard.dev/action-floor": floors[name] } : {};
    await core.createNamespace({ body: { metadata: { name, labels: { ...label, ...floor } } } });
  }
  await apply(
    policy("audited", ns.audit, "batch", "Audit"),
    policy("gateway", ns.deny, "gateway-client", "Deny", "https://llm-gateway.ai.svc.cluster.local/v1"),
  );
  operator = await startOperator(kubeconfigPath(), [
    "--webhook-config-name",
    `e2e-${run}`,
    "--namespace-selector",
    `aiapiguard-e2e=${run}`,
    "--exempt-namespaces",
    `kube-system,ai-api-guard,${ns.exempt}`,
  ]);
});

afterAll(async () => {
  await operator?.stop();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of Object.values(ns)) await core.deleteNamespace({ name }).catch(() => undefined);
});

describe("kubectl apply through the webhook", () => {
  it("refuses a Deployment with a hardcoded OpenAI key, naming rule, container, path and fix, without the key", async () => {
    const result = await apply(deployment("summarizer", ns.deny, { OPENAI_API_KEY: KEY }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(DENIED);
    expect(result.stderr).toContain("hardcoded-secret");
    expect(result.stderr).toContain('container "app"');
    expect(result.stderr).toContain("spec.template.spec.containers[0].env[0].value");
    expect(result.stderr).toContain("secretKeyRef");
    expect(result.stderr).toContain("OpenAI");
    expect(result.stdout + result.stderr).not.toContain(KEY.slice(0, 12));
    expect(result.stdout + result.stderr).not.toContain(KEY.slice(-12));
  });

  it("refuses the same Deployment on a server-side dry run", async () => {
    const result = await kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: stringify(deployment("dry", ns.deny, { OPENAI_API_KEY: KEY })),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(DENIED);
    expect(result.stderr).toContain("hardcoded-secret");
  });

  it("admits under Warn with kubectl Warning: lines, once a policy created while it runs says Warn", async () => {
    const manifest = stringify(deployment("prototype", ns.warn, { OPENAI_API_KEY: KEY }));
    const denied = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: manifest });
    expect(denied.stderr).toContain(DENIED); // the default action, before the policy exists
    await apply(policy("warned", ns.warn, "prototype", "Warn"));
    // The webhook learns of the policy through its watch: within moments, not at once.
    await eventually(async () => {
      const dryRun = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: manifest });
      return dryRun.code === 0 ? true : undefined;
    });
    const result = await apply(deployment("prototype", ns.warn, { OPENAI_API_KEY: KEY }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("deployment.apps/prototype created");
    const warnings = result.stderr.split("\n").filter((line) => line.startsWith("Warning: "));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join("\n")).toContain("hardcoded-secret");
    expect(result.stderr).not.toContain(KEY.slice(0, 12));
  });

  it("admits under Audit silently and records an AdmissionAudit Event", async () => {
    const result = await apply(deployment("batch", ns.audit, { OPENAI_API_KEY: KEY }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    // The Pods its ReplicaSet creates carry the same finding and are audited too: find the Deployment's.
    const event = await eventually(async () => {
      const items = await eventsWithReason(ns.audit, "AdmissionAudit");
      return items.find((e) => e.involvedObject.kind === "Deployment");
    });
    expect(event.involvedObject).toMatchObject({ kind: "Deployment", name: "batch", namespace: ns.audit });
    expect(event.message).toContain("hardcoded-secret");
  });

  it("admits anything in an exempt namespace", async () => {
    const result = await apply(deployment("anything", ns.exempt, { OPENAI_API_KEY: KEY }));
    expect(result.code, result.stderr).toBe(0);
  });

  it("refuses a plaintext URL to a policy's endpoint host, even an in-cluster one", async () => {
    const result = await apply(
      deployment("gateway-client", ns.deny, { LLM_URL: "http://llm-gateway.ai.svc.cluster.local/v1" }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(DENIED);
    expect(result.stderr).toContain("plaintext-endpoint");
    // The same in-cluster URL to a host no policy declares is fine.
    const other = await apply(
      deployment("other-client", ns.deny, { CACHE_URL: "http://redis.cache.svc.cluster.local" }),
    );
    expect(other.code, other.stderr).toBe(0);
  });

  it("refuses an AiApiPolicy reviewed in the future, naming the field the CRD schema cannot check", async () => {
    const future = policy("from-the-future", ns.deny, "anything", "Deny");
    Object.assign(future.spec.api, { lastReviewed: "2099-01-01" });
    const result = await apply(future);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(DENIED);
    expect(result.stderr).toContain('spec.api.lastReviewed "2099-01-01" is in the future');
  });

  it("refuses an UPDATE that adds a key to a running Deployment", async () => {
    const created = await apply(deployment("worker", ns.deny, { MODEL: "gpt-5" }));
    expect(created.code, created.stderr).toBe(0);
    const updated = await apply(deployment("worker", ns.deny, { MODEL: "gpt-5", OPENAI_API_KEY: KEY }));
    expect(updated.code).not.toBe(0);
    expect(updated.stderr).toContain(DENIED);
    const stored = await kubectl(["get", "deployment", "worker", "-n", ns.deny, "-o", "json"]);
    expect(stored.stdout).not.toContain("OPENAI_API_KEY");
  });

  it("admits clean Deployments, CronJobs, StatefulSets, Pods and ConfigMaps", async () => {
    const podSpec = {
      containers: [
        {
          name: "app",
          image: "registry.example/app:1",
          env: [
            { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } },
            { name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" },
          ],
        },
      ],
    };
    const meta = (name: string) => ({ name, namespace: ns.deny });
    const template = { metadata: { labels: { app: "clean" } }, spec: podSpec };
    const result = await apply(
      deployment("clean", ns.deny, { OPENAI_BASE_URL: "https://api.openai.com/v1" }),
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: meta("nightly"),
        spec: {
          schedule: "0 3 * * *",
          jobTemplate: { spec: { template: { ...template, spec: { ...podSpec, restartPolicy: "OnFailure" } } } },
        },
      },
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta("store"),
        spec: { serviceName: "store", selector: { matchLabels: { app: "clean" } }, template },
      },
      { apiVersion: "v1", kind: "Pod", metadata: meta("single"), spec: podSpec },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta("settings"),
        data: { MODEL: "claude-sonnet", ENDPOINT: "https://api.anthropic.com", TIMEOUT: "30s" },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    for (const created of [
      "deployment.apps/clean",
      "cronjob.batch/nightly",
      "statefulset.apps/store",
      "pod/single",
      "configmap/settings",
    ]) {
      expect(result.stdout).toContain(`${created} created`);
    }
  });

  it("records denials as Events and writes the key into no Event and no log line", async () => {
    const events = await eventually(async () => {
      const items = await eventsWithReason(ns.deny, "AdmissionDenied");
      return items.some((e) => e.involvedObject.name === "summarizer") ? items : undefined;
    });
    expect(events.every((e) => e.type === "Warning")).toBe(true);
    // Dry runs have no side effects: no Event for the "dry" Deployment.
    expect(events.map((e) => e.involvedObject.name)).not.toContain("dry");
    const everything = JSON.stringify(
      await Promise.all(Object.values(ns).map((n) => kubectl(["get", "events", "-n", n, "-o", "json"]))),
    );
    for (const part of [KEY.slice(0, 12), KEY.slice(-12)]) {
      expect(everything).not.toContain(part);
      expect(operator.output()).not.toContain(part);
    }
    expect(operator.output()).toContain('"decision":"deny"');
  });
});

describe("when the webhook is down", () => {
  // A configuration that points at a closed port, for one labelled namespace only.
  async function downWebhook(failurePolicy: "Fail" | "Ignore") {
    const name = `down-${failurePolicy.toLowerCase()}-${run}`;
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name, labels: { "aiapiguard-down": name } } } });
    await registerWebhook(new KubeRest(kubeConfig()), {
      name,
      caBundlePem: "",
      target: { url: `https://127.0.0.1:${await freePort()}/validate` },
      failurePolicy,
      timeoutSeconds: 2,
      exemptNamespaces: [],
      namespaceLabels: { "aiapiguard-down": name },
    });
    const result = await apply(deployment("app", name, { MODEL: "gpt-5" }));
    await unregisterWebhook(new KubeRest(kubeConfig()), name);
    await core.deleteNamespace({ name }).catch(() => undefined);
    return result;
  }

  it("admits with failurePolicy Ignore", async () => {
    const result = await downWebhook("Ignore");
    expect(result.code, result.stderr).toBe(0);
  });

  it("refuses with failurePolicy Fail, saying the webhook could not be called", async () => {
    const result = await downWebhook("Fail");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('failed calling webhook "validate.aiapiguard.dev"');
  });
});

describe("on shutdown", () => {
  it("removes its ValidatingWebhookConfiguration and exits 0", async () => {
    const before = await kubectl(["get", "validatingwebhookconfiguration", `e2e-${run}`]);
    expect(before.code, before.stderr).toBe(0);
    expect(await operator.stop()).toBe(0);
    const after = await kubectl(["get", "validatingwebhookconfiguration", `e2e-${run}`]);
    expect(after.stderr).toContain("NotFound");
  });
});

async function eventsWithReason(namespace: string, reason: string): Promise<k8s.CoreV1Event[]> {
  const list = await kubectl(["get", "events", "-n", namespace, "--field-selector", `reason=${reason}`, "-o", "json"]);
  return JSON.parse(list.stdout).items;
}
