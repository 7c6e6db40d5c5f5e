// The controller's promises held to the awkward cases a platform engineer tries with kubectl: two
// policies on one workload and one Ingress (no writes once converged, over resyncs and after edits of
// watched objects; the policy whose limit is not applied says so), a mounted Secret that is deleted
// and comes back, annotations and lists a tool applied server-side, and the namespace deleted whole.
import { randomBytes } from "node:crypto";
import type { CoreV1Event } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { applyObjects, getObject, testPolicy } from "../support/objects.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ns = useTestNamespace("ctl-k");
const RESYNC_SECONDS = 10;
/** What the Secrets hold: no Event may quote it. */
const SECRET_VALUE = "contract-test-credential-value";
let operator: Operator;

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field
type Json = Record<string, any>;

const apply = applyObjects;
const getJson = (...args: string[]) => getObject<Json>(ns.name, ...args);

const condition = (p: Json | undefined, type: string) => p?.status?.conditions?.find((c: Json) => c.type === type);
const volumeNames = (d: Json | undefined): string[] =>
  (d?.spec?.template?.spec?.volumes ?? []).map((v: Json) => v.name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deployment = (name: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns.name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "app", image: "example/app:1" }] },
    },
  },
});

const secret = (name: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: ns.name },
  stringData: { "api-key": SECRET_VALUE },
});

const ingress = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, namespace: ns.name, annotations },
  spec: { defaultBackend: { service: { name, port: { number: 443 } } } },
});

const policy = (name: string, spec: Record<string, unknown>) => testPolicy(ns.name, name, spec);

/** `kubectl apply --server-side` under another tool's field manager (Argo CD, Flux and Helm 4 apply so). */
const serverSide = (...objects: object[]) =>
  kubectl(["apply", "--server-side", "--field-manager", "helm", "-f", "-"], {
    input: objects.map((o) => stringify(o)).join("---\n"),
  });

async function events(): Promise<CoreV1Event[]> {
  const listed = await kubectl(["-n", ns.name, "get", "events", "-o", "json"]);
  return (JSON.parse(listed.stdout) as { items: CoreV1Event[] }).items;
}

/** The Events ai-api-guard recorded on one policy, as `reason xcount: message`. */
async function eventsOn(policyName: string): Promise<string[]> {
  return (await events())
    .filter((e) => e.involvedObject.kind === "AiApiPolicy" && e.involvedObject.name === policyName)
    .map((e) => `${e.reason} x${e.count}: ${e.message}`)
    .sort();
}

/**
 * An Event as eventsOn gives it, without its count: a reconcile that runs before the cache holds the status
 * just written tells a change again, and the recorder folds the repeat into the same Event.
 */
const uncounted = (event: string) => event.replace(/ x\d+:/, ":");

beforeAll(async () => {
  await installCrds();
  operator = await startOperator(kubeconfigPath(), ["--resync-seconds", String(RESYNC_SECONDS)], {
    controllerNamespaces: [ns.name],
  });
});

afterAll(async () => {
  await kubectl(["-n", ns.name, "delete", "aap", "--all", "--timeout=30s"]);
  await operator?.stop();
});

describe("two policies selecting one Deployment and naming one Ingress", () => {
  const limited = (name: string, secretName: string, cidr: string, requestsPerSecond: number) =>
    policy(name, {
      selector: { matchLabels: { app: "both" } },
      egress: { cidrs: [cidr] },
      credentials: { secretName },
      rateLimit: { ingresses: ["edge"], requestsPerSecond },
    });

  it("tell, on the policy whose limit the other one wins, which value applies: not RateLimitApplied", async () => {
    await apply(secret("key-a"), secret("key-b"), deployment("both"), ingress("edge"));
    await apply(limited("pb", "key-b", "203.0.113.0/24", 7));
    await eventually(async () => condition(await getJson("aap", "pb"), "Ready")?.status === "True", 30_000);
    await apply(limited("pa", "key-a", "198.51.100.0/24", 10));
    await eventually(async () => condition(await getJson("aap", "pa"), "Ready")?.status === "True", 30_000);
    const edge = await getJson("ingress", "edge");
    expect(edge?.metadata?.annotations?.["nginx.ingress.kubernetes.io/limit-rps"]).toBe("10"); // pa's: first by name
    const conflict = await eventually(async () => {
      const c = condition(await getJson("aap", "pb"), "RateLimitReady");
      return c?.status === "False" ? c : undefined;
    });
    expect(conflict.reason).toBe("RateLimitConflict");
    expect(conflict.message).toContain(
      'Ingress edge has nginx.ingress.kubernetes.io/limit-rps: "10" from policy pa where this policy asks "7"',
    );
    expect(condition(await getJson("aap", "pb"), "Ready")?.reason).toBe("RateLimitConflict");
    const warned = await eventually(async () =>
      (await eventsOn("pb")).filter((e) => e.startsWith("RateLimitConflict")),
    );
    expect(warned.map(uncounted)).toEqual([`RateLimitConflict: ${conflict.message}`]);
    expect(volumeNames(await getJson("deployment", "both"))).toEqual(["aiapiguard-pa", "aiapiguard-pb"]);
  });

  it("write nothing once converged, over two resyncs and after edits of objects they watch", async () => {
    const snapshot = async () => ({
      resourceVersions: await Promise.all(
        [
          ["aap", "pa"],
          ["aap", "pb"],
          ["deployment", "both"],
          ["ingress", "edge"],
          ["networkpolicy", "aiapiguard-pa"],
          ["networkpolicy", "aiapiguard-pb"],
          ["secret", "key-a"],
        ].map(async ([kind, name]) => (await getJson(kind as string, name as string))?.metadata?.resourceVersion),
      ),
      // Counts included: an Event repeated on every reconcile would show as a count that grows.
      events: [...(await eventsOn("pa")), ...(await eventsOn("pb"))],
    });
    const converged = await snapshot();
    await sleep(2 * RESYNC_SECONDS * 1000 + 2_000);
    expect(await snapshot()).toEqual(converged);

    // Changes to the watched objects that leave ai-api-guard's share as it is.
    await kubectl(["-n", ns.name, "scale", "deployment/both", "--replicas=2"]);
    await kubectl(["-n", ns.name, "annotate", "ingress/edge", "team.example/owner=ml"]);
    await kubectl(["-n", ns.name, "label", "secret/key-a", "team=ml"]);
    await kubectl(["-n", ns.name, "label", "networkpolicy/aiapiguard-pa", "team=ml"]);
    await kubectl(["-n", ns.name, "label", "aap/pa", "team=ml"]);
    await sleep(2_000);
    const edited = await snapshot();
    await sleep(RESYNC_SECONDS * 1000 + 2_000);
    expect(await snapshot()).toEqual(edited);
    expect(edited.events).toEqual(converged.events);
  });
});

describe("an Ingress or a Secret named with a key", () => {
  // Made at run time: no key-shaped literal sits in the repository. A DeepSeek key is a valid name.
  const key = `sk-${randomBytes(16).toString("hex")}`;
  const hint = `<DeepSeek API key ending …${key.slice(-4)}>`;

  it("is named by its hint in the conflict's condition and Event", async () => {
    await apply(ingress(key));
    const limited = (name: string, requestsPerSecond: number) =>
      policy(name, { selector: { matchLabels: { app: "none" } }, rateLimit: { ingresses: [key], requestsPerSecond } });
    await apply(limited("qa", 10), limited("qb", 7));
    const conflict = await eventually(async () => {
      const c = condition(await getJson("aap", "qb"), "RateLimitReady");
      return c?.reason === "RateLimitConflict" ? c : undefined;
    }, 30_000);
    expect(conflict.message).toContain(`Ingress ${hint} has`);
    expect(conflict.message).not.toContain(key);
    await eventually(async () => (await eventsOn("qb")).some((e) => e.startsWith("RateLimitConflict")));
    expect((await eventsOn("qb")).filter((e) => e.includes(key))).toEqual([]);
  });

  it("is named by its hint while it is missing, in the condition and its Warning", async () => {
    const wanting = policy("qc", { selector: { matchLabels: { app: "keyed" } }, credentials: { secretName: key } });
    await apply(deployment("keyed"), wanting);
    const missing = await eventually(async () => {
      const c = condition(await getJson("aap", "qc"), "CredentialsReady");
      return c?.reason === "SecretNotFound" ? c : undefined;
    }, 30_000);
    expect(missing.message).toContain(`Secret ${hint} does not exist`);
    const told = await eventually(async () => {
      const all = await eventsOn("qc");
      return all.some((e) => e.startsWith("SecretNotFound")) ? all : undefined;
    });
    expect(JSON.stringify([told, (await getJson("aap", "qc"))?.status])).not.toContain(key);
  });
});

describe("a Secret deleted after it was mounted", () => {
  it("comes off the workload with a Warning saying why (SecretNotFound), and goes back on when the Secret is back", async () => {
    await apply(secret("key-c"), deployment("gone"));
    await apply(policy("pc", { selector: { matchLabels: { app: "gone" } }, credentials: { secretName: "key-c" } }));
    await eventually(async () => condition(await getJson("aap", "pc"), "Ready")?.status === "True", 30_000);
    await kubectl(["-n", ns.name, "delete", "secret", "key-c"]);
    const missing = await eventually(async () => {
      const c = condition(await getJson("aap", "pc"), "CredentialsReady");
      return c?.reason === "SecretNotFound" ? c : undefined;
    });
    expect(volumeNames(await getJson("deployment", "gone"))).toEqual([]);
    const said = await eventually(async () => {
      const all = await eventsOn("pc");
      return all.some((e) => e.startsWith("SecretNotFound")) ? all : undefined;
    });
    expect(said.map(uncounted)).toEqual([
      "SecretMounted: Mounted Secret key-c read-only into Deployment/gone.",
      `SecretNotFound: ${missing.message}`,
      "SecretUnmounted: Removed the mount of Secret key-c from Deployment/gone.",
    ]);
    await apply(secret("key-c"));
    await eventually(async () => volumeNames(await getJson("deployment", "gone")).includes("aiapiguard-pc"));
    await eventually(async () => condition(await getJson("aap", "pc"), "Ready")?.status === "True");
    expect((await events()).filter((e) => JSON.stringify(e).includes(SECRET_VALUE))).toEqual([]);
  });
});

describe("a rate-limit annotation the user applied server-side with the policy's own value", () => {
  it("stays when the policy is deleted, as do the user's other annotations", async () => {
    await serverSide(ingress("same"));
    await apply(
      policy("pd", {
        selector: { matchLabels: { app: "none" } },
        rateLimit: { ingresses: ["same"], requestsPerSecond: 5 },
      }),
    );
    await eventually(async () => condition(await getJson("aap", "pd"), "Ready")?.status === "True", 30_000);
    const users = ingress("same", { "nginx.ingress.kubernetes.io/limit-rps": "5", "team.example/owner": "ml" });
    expect((await serverSide(users)).stderr).toBe("");
    await kubectl(["-n", ns.name, "annotate", "ingress/same", "nginx.ingress.kubernetes.io/limit-connections=9"]);
    expect((await kubectl(["-n", ns.name, "delete", "aap/pd", "--timeout=30s"])).code).toBe(0);
    expect((await getJson("ingress", "same"))?.metadata?.annotations).toEqual({
      "nginx.ingress.kubernetes.io/limit-rps": "5",
      "nginx.ingress.kubernetes.io/limit-connections": "9",
      "team.example/owner": "ml",
    });
  });
});

describe("objects a tool applies server-side with empty annotations, volumes and volumeMounts", () => {
  // What a chart renders from empty values (`annotations: {}`, `volumes: []`), applied the way Argo CD,
  // Flux and `kubectl apply --server-side` do: that manager owns each empty map and list as a whole.
  const charted = () => {
    const d = deployment("charted");
    const [app] = d.spec.template.spec.containers;
    return {
      ...d,
      metadata: { ...d.metadata, annotations: {} },
      spec: {
        ...d.spec,
        template: { ...d.spec.template, spec: { volumes: [], containers: [{ ...app, volumeMounts: [] }] } },
      },
    };
  };

  it("get the policy's mount and rate limits, and keep the tool's fields when it applies them again", async () => {
    expect((await serverSide(secret("key-e"), charted(), ingress("charted"))).code).toBe(0);
    await apply(
      policy("pe", {
        selector: { matchLabels: { app: "charted" } },
        credentials: { secretName: "key-e" },
        rateLimit: { ingresses: ["charted"], requestsPerSecond: 4 },
      }),
    );
    await eventually(async () => condition(await getJson("aap", "pe"), "Ready")?.status === "True", 30_000);
    expect(volumeNames(await getJson("deployment", "charted"))).toEqual(["aiapiguard-pe"]);
    expect((await getJson("ingress", "charted"))?.metadata?.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/limit-rps": "4",
    });
    // The tool applies again (a sync): no conflict for it, and nothing of the policy's is lost.
    const again = await serverSide(charted(), ingress("charted"));
    expect(again.stderr).toBe("");
    expect(volumeNames(await getJson("deployment", "charted"))).toEqual(["aiapiguard-pe"]);
    expect(condition(await getJson("aap", "pe"), "Ready")?.status).toBe("True");
  });

  it("keep what the user added beside the policy's when the policy is deleted", async () => {
    await kubectl(["-n", ns.name, "annotate", "ingress/charted", "team.example/owner=ml"]);
    await kubectl(["-n", ns.name, "set", "env", "deployment/charted", "MODE=fast"]);
    expect((await kubectl(["-n", ns.name, "delete", "aap/pe", "--timeout=30s"])).code).toBe(0);
    expect((await getJson("ingress", "charted"))?.metadata?.annotations).toEqual({ "team.example/owner": "ml" });
    const d = await getJson("deployment", "charted");
    expect(volumeNames(d)).toEqual([]);
    expect(d?.spec.template.spec.containers[0].env).toEqual([{ name: "MODE", value: "fast" }]);
    expect((await serverSide(charted(), ingress("charted"))).stderr).toBe("");
  });
});

describe("a policy deleted", () => {
  it("goes after one clean-up: no reconcile fails on the policy already gone", async () => {
    await apply(secret("key-f"), deployment("left"));
    await apply(
      policy("pf", {
        selector: { matchLabels: { app: "left" } },
        egress: { cidrs: ["192.0.2.0/24"] },
        credentials: { secretName: "key-f" },
      }),
    );
    await eventually(async () => condition(await getJson("aap", "pf"), "Ready")?.status === "True", 30_000);
    expect((await kubectl(["-n", ns.name, "delete", "aap/pf", "--timeout=30s"])).code).toBe(0);
    await sleep(2_000);
    const failed = operator
      .output()
      .split("\n")
      .filter((line) => line.includes(`"policy":"${ns.name}/pf"`));
    expect(failed).toEqual([]);
    expect((await eventsOn("pf")).filter((e) => e.startsWith("CleanedUp")).map(uncounted)).toEqual([
      "CleanedUp: Removed the NetworkPolicy, mounts, annotations and Middlewares ai-api-guard added.",
    ]);
  });
});

describe("the namespace, deleted with its policies, workloads, Ingresses and Secrets", () => {
  it("goes: the finalizer lets each policy go though what it cleans up is going too", async () => {
    await apply(secret("key-z"), deployment("last"), ingress("last"));
    await apply(
      policy("pz", {
        selector: { matchLabels: { app: "last" } },
        egress: { cidrs: ["192.0.2.0/24"] },
        credentials: { secretName: "key-z" },
        rateLimit: { ingresses: ["last"], requestsPerSecond: 2 },
      }),
    );
    await eventually(async () => condition(await getJson("aap", "pz"), "Ready")?.status === "True", 30_000);
    const deleted = await kubectl(["delete", "namespace", ns.name, "--timeout=60s"]);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
  });
});
