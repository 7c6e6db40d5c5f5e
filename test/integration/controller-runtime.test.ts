// The runtime under the controller, against the real kube-apiserver: each fault the review found in
// the previous informer, policy cache and `ai-api-guard run` has a test here that failed before.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import type { CachedWorkload } from "../../src/kube/cached.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { type Cached, type InformerEvent, informer, type RestartReason } from "../../src/kube/informer.ts";
import { SharedInformers } from "../../src/kube/informers.ts";
import { collectionPath, type Resource, resources } from "../../src/kube/resources.ts";
import { isStatus, KubeRest, type RawList, type RawObject, type RequestOptions } from "../../src/kube/rest.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { policyCache } from "../../src/webhook/policy-cache.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds, installTestCrd } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { freezingProxy } from "../support/freezing-proxy.ts";
import { applyObjects, testPolicy } from "../support/objects.ts";

const ns = useTestNamespace("ctl-rt");
const CANARY = "canary-env-value-6b1f0e";

function capture() {
  const lines: { level: number; msg: string; retryInMs?: number }[] = [];
  const logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, warnings: () => lines.filter((l) => l.level >= 40) };
}

function deployment(name: string, labels: Record<string, string>) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns.name },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "app", image: "example/app:1", env: [{ name: "MODE", value: CANARY }] }] },
      },
    },
  };
}

const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("the informer", () => {
  it("replays its cache on resync without re-listing or counting its own restarts as failures", async () => {
    await apps().createNamespacedDeployment({ namespace: ns.name, body: deployment("resync", { app: "resync" }) });
    const { logger, warnings } = capture();
    const informers = new SharedInformers(new KubeRest(kubeConfig()), logger, { namespaces: [ns.name], resyncMs: 200 });
    const [deployments] = informers.workloads();
    const seen: InformerEvent<CachedWorkload>[] = [];
    deployments?.on((event) => seen.push(event));
    informers.start();
    cleanups.push(() => informers.stop());
    await informers.waitForSync();
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen.filter((e) => e.type === "add").map((e) => e.object.metadata.name)).toEqual(["resync"]);
    expect(seen.filter((e) => e.type === "resync").length).toBeGreaterThanOrEqual(3);
    await informers.stop();
    expect(warnings()).toEqual([]);
  });

  it("lists again when its watch's resourceVersion has expired (410 Gone), and keeps up, without a failure", async () => {
    // The first list answers with a resourceVersion the API server no longer keeps (as one served by an API
    // server that lags, or read before a compaction, does): the watch from it gets the server's own 410.
    class ExpiredFirstList extends KubeRest {
      expired = false;
      override async request<T = RawObject>(path: string, options: RequestOptions = {}): Promise<T> {
        const answer = await super.request<T>(path, options);
        const list = answer as RawList;
        if (!this.expired && list.metadata) {
          this.expired = true;
          list.metadata.resourceVersion = "1";
        }
        return answer;
      }
    }
    // A resource whose watch cache began long after resourceVersion 1: the AiApiPolicy CRD's.
    await installCrds();
    const restarts: RestartReason[] = [];
    const { logger, warnings } = capture();
    const policies = informer({
      rest: new ExpiredFirstList(kubeConfig()),
      resource: resources.policy,
      transform: (raw) => raw as Cached,
      logger,
      namespaces: [ns.name],
      onRestart: (reason) => restarts.push(reason),
    });
    policies.start();
    cleanups.push(() => policies.stop());
    await eventually(() => restarts.includes("gone"), 15_000, "the watch's 410");
    await applyObjects(testPolicy(ns.name, "after-gone", { selector: { matchLabels: { app: "none" } } }));
    await eventually(() => policies.get(ns.name, "after-gone"), 15_000, "the policy seen");
    expect(restarts).toEqual(["gone"]);
    expect(warnings()).toEqual([]);
  });

  it("hands handlers the event type, the object and the old one, keeping no env value or managedFields", async () => {
    const informers = new SharedInformers(new KubeRest(kubeConfig()), capture().logger, { namespaces: [ns.name] });
    const [deployments] = informers.workloads();
    const seen: InformerEvent<CachedWorkload>[] = [];
    deployments?.on((event) => seen.push(event));
    informers.start();
    cleanups.push(() => informers.stop());
    await informers.waitForSync();
    await apps().createNamespacedDeployment({ namespace: ns.name, body: deployment("handlers", { app: "one" }) });
    await kubectl(["-n", ns.name, "label", "deployment/handlers", "tier=web"]);
    await kubectl([
      "-n",
      ns.name,
      "patch",
      "deployment/handlers",
      "--type=merge",
      "-p",
      '{"spec":{"template":{"metadata":{"labels":{"app":"one","v":"2"}}}}}',
    ]);
    await kubectl(["-n", ns.name, "delete", "deployment/handlers", "--wait=false"]);
    await eventually(() => seen.some((e) => e.type === "delete" && e.object.metadata.name === "handlers"));
    const mine = seen.filter((e) => e.object.metadata.name === "handlers");
    const relabel = mine.find((e) => e.type === "update" && e.object.templateLabels.v === "2");
    expect(relabel?.old?.templateLabels).toEqual({ app: "one" });
    expect(mine[0]?.type).toBe("add");
    expect(JSON.stringify(deployments?.list(ns.name))).not.toContain(CANARY);
    expect(JSON.stringify(mine)).not.toContain("managedFields");
    expect(deployments?.get(ns.name, "resync")?.containers).toEqual([{ name: "app", mounts: [] }]);
  });

  it("resumes a watch that went silent (no byte, not even a bookmark) and sees what happened meanwhile", async () => {
    const proxy = await freezingProxy();
    cleanups.push(() => proxy.close());
    const { logger, warnings } = capture();
    const informers = new SharedInformers(new KubeRest(proxy.kubeConfig()), logger, {
      namespaces: [ns.name],
      silentMs: 1500,
    });
    const [deployments] = informers.workloads();
    informers.start();
    cleanups.push(() => informers.stop());
    await informers.waitForSync();
    // Every connection, the watch's included (even one that is only being opened), hears nothing from now on.
    proxy.freeze();
    await apps().createNamespacedDeployment({ namespace: ns.name, body: deployment("after-silence", { app: "x" }) });
    await eventually(
      () => warnings().some((w) => w.msg === "watch went silent; resuming it"),
      20_000,
      "the silence noticed",
    );
    proxy.thawNewConnections(); // the resumed watch gets through, and must catch up on what it missed
    await eventually(() => deployments?.get(ns.name, "after-silence"), 20_000, "the Deployment seen");
  });

  it("empties its cache when its CRD was deleted while its watch was stalled (the deletions never reached it)", async () => {
    // A CRD of this test's own: the product's are shared by every test file and never deleted.
    const group = `rt-${randomBytes(4).toString("hex")}.example.com`;
    const gadgets: Resource = { group, version: "v1", plural: "gadgets", kind: "Gadget" };
    const crd = `gadgets.${group}`;
    await installTestCrd({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crd },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    cleanups.push(() => kubectl(["delete", "crd", crd, "--ignore-not-found", "--wait=false"]));
    const rest = new KubeRest(kubeConfig());
    for (const name of ["one", "two"])
      await rest.request(collectionPath(gadgets, ns.name), {
        method: "POST",
        body: { apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name } },
      });
    const proxy = await freezingProxy();
    cleanups.push(() => proxy.close());
    const cache = informer<Cached>({
      rest: new KubeRest(proxy.kubeConfig()),
      resource: gadgets,
      transform: ({ metadata }) => ({ metadata: { name: metadata?.name ?? "", namespace: metadata?.namespace } }),
      logger: capture().logger,
      namespaces: [ns.name],
      silentMs: 1500,
      maxBackoffMs: 1000,
    });
    const deleted: string[] = [];
    cache.on((event) => event.type === "delete" && deleted.push(event.object.metadata.name));
    cache.start();
    cleanups.push(() => cache.stop());
    await cache.waitForSync();
    expect(cache.list(ns.name)).toHaveLength(2);

    proxy.freeze(); // the watch hears none of the deletions
    expect((await kubectl(["delete", "crd", crd, "--timeout=30s"])).code).toBe(0);
    await eventually(
      () =>
        rest.request(collectionPath(gadgets, ns.name)).then(
          () => false,
          (error) => isStatus(error, 404),
        ),
      10_000,
      "the gadgets no longer served",
    );
    proxy.thawNewConnections(); // the informer's next watch or list gets the API server's 404
    // Before, the informer kept both: a deleted CRD's policies were enforced until it came back.
    await eventually(() => cache.list().length === 0, 15_000, "the informer's cache empty");
    expect(deleted.sort()).toEqual(["one", "two"]);
    expect(cache.synced()).toBe(true);
  });

  it("starts its backoff over once a watch has served a while: one outage does not slow every later resume", async () => {
    const configMaps: Resource = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
    const proxy = await freezingProxy();
    cleanups.push(() => proxy.close());
    const { logger, warnings } = capture();
    const maxBackoffMs = 2000;
    const cache = informer<Cached>({
      rest: new KubeRest(proxy.kubeConfig()),
      resource: configMaps,
      transform: ({ metadata }) => ({ metadata: { name: metadata?.name ?? "", namespace: metadata?.namespace } }),
      logger,
      namespaces: [ns.name],
      maxBackoffMs,
    });
    cache.start();
    cleanups.push(() => cache.stop());
    await cache.waitForSync();
    const retries = () => warnings().filter((line) => line.msg === "watch failed; will retry");
    const create = (name: string) => kubectl(["-n", ns.name, "create", "configmap", name]);

    // An outage long enough for the retries to reach the longest backoff.
    proxy.refuse(true);
    proxy.cut();
    await eventually(() => retries().length >= 5, 20_000, "five failed retries");
    expect(retries().at(-1)?.retryInMs).toBeGreaterThanOrEqual(maxBackoffMs / 2);
    proxy.refuse(false);
    await create("after-outage");
    await eventually(() => cache.get(ns.name, "after-outage"), 20_000, "the informer back after the outage");

    // Healthy for longer than it counts as a while (four longest backoffs), then one break.
    await new Promise((resolve) => setTimeout(resolve, 4 * maxBackoffMs + 500));
    const before = retries().length;
    proxy.cut();
    await eventually(() => retries().length > before, 10_000, "the break noticed");
    // Before, the break was retried at the longest backoff the outage had reached (1 to 2 s here, 15 to 30 s
    // by default): the cache missed every change for that long. Now it is a first failure: 0.25 to 0.5 s.
    expect(retries()[before]?.retryInMs).toBeLessThanOrEqual(500);
    await create("after-break");
    await eventually(() => cache.get(ns.name, "after-break"), 10_000, "the change after the break seen");
  });
});

describe("the webhook's policy cache", () => {
  it("builds a policy's view once per change of that policy, not for every policy on every event", async () => {
    await installCrds();
    const policy = (name: string, app: string) => ({
      apiVersion: "aiapiguard.dev/v1alpha1",
      kind: "AiApiPolicy",
      metadata: { name, namespace: ns.name },
      spec: {
        api: { endpoint: `https://${name}.example.com`, authType: "APIKey", sensitivity: "Low" },
        selector: { matchLabels: { app } },
      },
    });
    const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const create = (body: object) =>
      custom.createNamespacedCustomObject({
        group: "aiapiguard.dev",
        version: "v1alpha1",
        namespace: ns.name,
        plural: "aiapipolicies",
        body,
      });
    await create(policy("stays", "a"));
    await create(policy("changes", "b"));
    const { logger } = capture();
    const informers = new SharedInformers(new KubeRest(kubeConfig()), logger, { namespaces: [ns.name] });
    const cache = policyCache(informers.policies(), logger);
    informers.start();
    cleanups.push(() => informers.stop());
    await informers.waitForSync();
    const before = cache.views();
    expect(cache.views()).toBe(before); // same array while nothing changes
    await kubectl([
      "-n",
      ns.name,
      "patch",
      "aap/changes",
      "--type=merge",
      "-p",
      '{"spec":{"selector":{"matchLabels":{"app":"c"}}}}',
    ]);
    await eventually(() => cache.views().find((v) => v.name === "changes")?.selector.matchLabels?.app === "c");
    const stays = (views: readonly { name: string }[]) => views.find((v) => v.name === "stays");
    expect(stays(cache.views())).toBe(stays(before));
  });
});

describe("the Event recorder", () => {
  it("aggregates repeats into one Event with a count and rate-limits a flood per object", async () => {
    const recorder = eventRecorder(new KubeRest(kubeConfig()), capture().logger, { burst: 5 });
    const object = { apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "flood" };
    for (let i = 0; i < 4; i++) recorder({ type: "Warning", reason: "Repeat", object, message: "the same thing" });
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 20; i++) recorder({ type: "Warning", reason: "Other", object, message: `different ${i}` });
    const events = await eventually(async () => {
      const list = await kubeConfig()
        .makeApiClient(k8s.CoreV1Api)
        .listNamespacedEvent({ namespace: ns.name, fieldSelector: "involvedObject.name=flood" });
      const repeat = list.items.find((e) => e.reason === "Repeat");
      return repeat?.count === 4 && list.items.length === 2 ? list.items : undefined;
    });
    expect(events.filter((e) => e.reason === "Repeat")).toHaveLength(1);
    // burst 5: four went to "Repeat" (one create, three count updates), one to "Other", the rest dropped
    expect(events.filter((e) => e.reason === "Other")).toHaveLength(1);
  });
});

describe("ai-api-guard run", () => {
  const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const runOperator = (port: number, extra: string[] = []) => {
    const child = spawn(
      process.execPath,
      [
        cli,
        "run",
        "--kubeconfig",
        kubeconfigPath(),
        "--webhook-url",
        `https://127.0.0.1:${port}`,
        "--webhook-config-name",
        `rt-${ns.name}`,
        "--namespaces",
        ns.name,
        "--controller",
        "false",
        ...extra,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_PROXY: "127.0.0.1,localhost" },
      },
    );
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(async () => {
      child.kill("SIGKILL");
    });
    return { child, exited, output: () => output };
  };

  it("exits with 1 when startup fails after the informers started (port in use), instead of hanging", async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, "127.0.0.1");
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const run = runOperator(port);
    const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))]);
    expect(code).toBe(1);
    expect(run.output()).toContain("EADDRINUSE");
  });

  it("turns /readyz 503 on SIGTERM, waits the shutdown delay, then drains and exits 0", async () => {
    const port = await freePort();
    const run = runOperator(port, ["--shutdown-delay-seconds", "2"]);
    await eventually(() => run.output().includes("ai-api-guard is ready"), 30_000);
    const readyz = async () => {
      const response = await fetch(`https://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status;
    };
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      expect(await readyz()).toBe(200);
      run.child.kill("SIGTERM");
      await eventually(async () => (await readyz()) === 503, 1500);
      expect(await Promise.race([run.exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))])).toBe(0);
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }
  });
});
