// The controller end to end on the real API server: `ai-api-guard run` scoped to this file's
// namespace, objects applied with kubectl as a user would, and what the cluster holds afterwards.
import { randomBytes } from "node:crypto";
import type { CoreV1Event, KubernetesObject, V1Deployment, V1Ingress, V1NetworkPolicy } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { AiApiPolicyStatus } from "../../src/api/index.ts";
import { kubectl } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";
import { applyObjects, getObject, testPolicy } from "../support/objects.ts";
import { useScopedController } from "../support/scoped-controller.ts";

const ns = useScopedController("ctl");

/** `kubectl patch --type=merge` of a policy's spec, as a user edits it. */
const patchPolicy = (name: string, spec: object) =>
  kubectl(["-n", ns.name, "patch", `aap/${name}`, "--type=merge", "-p", JSON.stringify({ spec })]);

const apply = applyObjects;
const getJson = <T extends object = KubernetesObject>(...args: string[]) => getObject<T>(ns.name, ...args);

function deployment(name: string, app: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns.name, annotations: { "team.example/owner": "ml" } },
    spec: {
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          volumes: [{ name: "user-cache", emptyDir: {} }],
          containers: [
            {
              name: "app",
              image: "example/app:1",
              args: ["--serve"],
              volumeMounts: [{ name: "user-cache", mountPath: "/cache" }],
            },
            { name: "sidecar", image: "example/sidecar:1" },
          ],
        },
      },
    },
  };
}

const policy = (name: string, spec: Record<string, unknown>) => testPolicy(ns.name, name, spec);

const secret = (name: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: ns.name },
  stringData: { "api-key": "placeholder" },
});

const ingress = (name: string) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, namespace: ns.name, annotations: { "example.com/keep": "mine" } },
  spec: {
    rules: [
      {
        host: "a.example.com",
        http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 443 } } } }] },
      },
    ],
  },
});

/** The Events of this reason on the policy. */
async function eventsOf(policyName: string, reason: string): Promise<CoreV1Event[]> {
  const selector = `involvedObject.name=${policyName},reason=${reason}`;
  const listed = await kubectl(["-n", ns.name, "get", "events", "--field-selector", selector, "-o", "json"]);
  return (JSON.parse(listed.stdout) as { items: CoreV1Event[] }).items;
}

/** How many times ai-api-guard reported a write of this reason on the policy (Events aggregate repeats into a count). */
async function reported(policyName: string, reason: string): Promise<number> {
  return (await eventsOf(policyName, reason)).reduce((sum, e) => sum + (e.count ?? 1), 0);
}

/** A change of the policy's metadata: a reconcile, in which a converged policy writes nothing. */
const nudge = (policyName: string, n: number) =>
  kubectl(["-n", ns.name, "annotate", "--overwrite", `aap/${policyName}`, `test.example/nudge=${n}`]);

type Policy = KubernetesObject & { status?: AiApiPolicyStatus };
const condition = (policy: Policy | undefined, type: string) =>
  policy?.status?.conditions?.find((c) => c.type === type);
const volumes = (d: V1Deployment | undefined) => d?.spec?.template.spec?.volumes ?? [];
const mountsOf = (d: V1Deployment | undefined, container: string) =>
  d?.spec?.template.spec?.containers.find((c) => c.name === container)?.volumeMounts ?? [];

describe("one policy", () => {
  it("restricts egress, mounts the Secret read-only, rate-limits the Ingress, and reports it in the status", async () => {
    await apply(secret("key-a"), deployment("summarizer", "summarizer"), ingress("front"));
    await apply(
      policy("alpha", {
        selector: { matchLabels: { app: "summarizer" } },
        egress: { cidrs: ["203.0.113.0/24"] },
        credentials: { secretName: "key-a", containers: ["app"] },
        rateLimit: { ingresses: ["front"], requestsPerSecond: 10, connections: 20 },
      }),
    );
    const ready = await eventually(async () => {
      const p = await getJson<Policy>("aap", "alpha");
      return condition(p, "Ready")?.status === "True" ? p : undefined;
    }, 30_000);
    expect(ready.status?.workloads).toEqual({ count: 1, names: ["Deployment/summarizer"] });
    expect(ready.status?.networkPolicy).toBe("aiapiguard-alpha");
    expect(ready.metadata?.finalizers).toContain("aiapiguard.dev/cleanup");

    const np = await getJson<V1NetworkPolicy>("networkpolicy", "aiapiguard-alpha");
    expect(np?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "AiApiPolicy", name: "alpha", controller: true });
    expect(np?.spec).toEqual({
      podSelector: { matchLabels: { app: "summarizer" } },
      policyTypes: ["Egress"],
      egress: [
        { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 443 }] },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });

    const d = await getJson<V1Deployment>("deployment", "summarizer");
    expect(volumes(d)).toEqual([
      { name: "user-cache", emptyDir: {} },
      { name: "aiapiguard-alpha", secret: { secretName: "key-a", defaultMode: 256 } },
    ]);
    expect(mountsOf(d, "app")).toEqual([
      { name: "user-cache", mountPath: "/cache" },
      { name: "aiapiguard-alpha", mountPath: "/var/run/secrets/ai-api/alpha", readOnly: true },
    ]);
    expect(mountsOf(d, "sidecar")).toEqual([]); // containers: [app]
    expect(d?.metadata?.annotations?.["team.example/owner"]).toBe("ml");
    expect(d?.spec?.template.spec?.containers[0]?.args).toEqual(["--serve"]);

    const ing = await getJson<V1Ingress>("ingress", "front");
    expect(ing?.metadata?.annotations).toMatchObject({
      "example.com/keep": "mine",
      "nginx.ingress.kubernetes.io/limit-rps": "10",
      "nginx.ingress.kubernetes.io/limit-burst-multiplier": "5",
      "nginx.ingress.kubernetes.io/limit-connections": "20",
      "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
    });
    const events = await kubectl([
      "-n",
      ns.name,
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=alpha",
      "-o",
      "json",
    ]);
    const reasons = (JSON.parse(events.stdout) as { items: CoreV1Event[] }).items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["NetworkPolicyCreated", "SecretMounted", "RateLimitsWritten"]));
  });

  it("writes nothing once converged: resourceVersions stay the same for 10 s", async () => {
    const versions = async () =>
      Promise.all(
        [
          ["aap", "alpha"],
          ["deployment", "summarizer"],
          ["networkpolicy", "aiapiguard-alpha"],
          ["ingress", "front"],
        ].map(async (args) => (await getJson(...(args as [string, string])))?.metadata?.resourceVersion),
      );
    const before = await versions();
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await versions()).toEqual(before);
  });

  it("follows a change of cidrs into the NetworkPolicy", async () => {
    await patchPolicy("alpha", { egress: { cidrs: ["198.51.100.0/24"], ports: [443, 8443] } });
    const np = await eventually(async () => {
      const n = await getJson<V1NetworkPolicy>("networkpolicy", "aiapiguard-alpha");
      return n?.spec?.egress?.[0]?.to?.[0]?.ipBlock?.cidr === "198.51.100.0/24" ? n : undefined;
    });
    expect(np.spec?.egress?.[0]?.ports).toEqual([
      { protocol: "TCP", port: 443 },
      { protocol: "TCP", port: 8443 },
    ]);
  });

  it("moves the mount when the selector changes, keeping the user's volume on the old workload", async () => {
    await apply(deployment("other", "other"));
    await patchPolicy("alpha", { selector: { matchLabels: { app: "other" } } });
    const moved = await eventually(async () => {
      const d = await getJson<V1Deployment>("deployment", "other");
      return volumes(d).some((v) => v.name === "aiapiguard-alpha") ? d : undefined;
    });
    expect(mountsOf(moved, "app")).toContainEqual({
      name: "aiapiguard-alpha",
      mountPath: "/var/run/secrets/ai-api/alpha",
      readOnly: true,
    });
    const old = await eventually(async () => {
      const d = await getJson<V1Deployment>("deployment", "summarizer");
      return volumes(d).some((v) => v.name === "aiapiguard-alpha") ? undefined : d;
    });
    expect(volumes(old)).toEqual([{ name: "user-cache", emptyDir: {} }]);
    expect(mountsOf(old, "app")).toEqual([{ name: "user-cache", mountPath: "/cache" }]);
  });

  it("waits for a missing Secret (SecretNotFound), then mounts it when it appears", async () => {
    await apply(
      deployment("late", "late"),
      policy("beta", { selector: { matchLabels: { app: "late" } }, credentials: { secretName: "key-late" } }),
    );
    const waiting = await eventually(async () => {
      const p = await getJson<Policy>("aap", "beta");
      return condition(p, "CredentialsReady")?.reason === "SecretNotFound" ? p : undefined;
    });
    expect(condition(waiting, "Ready")?.status).toBe("False");
    expect(volumes(await getJson<V1Deployment>("deployment", "late"))).toEqual([{ name: "user-cache", emptyDir: {} }]);
    await apply(secret("key-late"));
    await eventually(async () =>
      volumes(await getJson<V1Deployment>("deployment", "late")).some((v) => v.name === "aiapiguard-beta"),
    );
    await eventually(async () => condition(await getJson<Policy>("aap", "beta"), "Ready")?.status === "True");
  });

  it("removes exactly what it added when the policy is deleted, and lets the policy go", async () => {
    const deleted = await kubectl(["-n", ns.name, "delete", "aap/alpha", "--timeout=30s"]);
    expect(deleted.code).toBe(0);
    const d = await getJson<V1Deployment>("deployment", "other");
    expect(volumes(d)).toEqual([{ name: "user-cache", emptyDir: {} }]);
    expect(mountsOf(d, "app")).toEqual([{ name: "user-cache", mountPath: "/cache" }]);
    expect(d?.metadata?.annotations?.["team.example/owner"]).toBe("ml");
    const ing = await getJson<V1Ingress>("ingress", "front");
    expect(Object.keys(ing?.metadata?.annotations ?? {}).filter((k) => k.startsWith("nginx."))).toEqual([]);
    expect(ing?.metadata?.annotations?.["example.com/keep"]).toBe("mine");
    expect(await getJson("networkpolicy", "aiapiguard-alpha")).toBeUndefined();
  });
});

describe("a new policy whose parts are not in place", () => {
  it("says each reason in one Warning Event, not one per reconcile", async () => {
    await apply(deployment("told", "told"));
    await apply(
      policy("theta", {
        api: { ...policy("theta", {}).spec.api, lastReviewed: "2020-01-01" },
        selector: { matchLabels: { app: "told" } },
        egress: { provider: "Kubernetes" },
        credentials: { secretName: "key-told" },
        rateLimit: { ingresses: ["told"], requestsPerSecond: 5 },
      }),
    );
    await eventually(async () => condition(await getJson<Policy>("aap", "theta"), "Ready")?.status === "False");
    // Reconciles that find nothing new, then one that does: once it shows, those before it are done.
    await nudge("theta", 1);
    await nudge("theta", 2);
    await apply(secret("key-told"));
    await eventually(
      async () => condition(await getJson<Policy>("aap", "theta"), "CredentialsReady")?.status === "True",
    );
    const reasons = ["ReviewOverdue", "NoCIDRs", "SecretNotFound", "IngressNotFound"];
    const counts = await Promise.all(reasons.map((reason) => reported("theta", reason)));
    expect(Object.fromEntries(reasons.map((reason, i) => [reason, counts[i]]))).toEqual({
      ReviewOverdue: 1,
      NoCIDRs: 1,
      SecretNotFound: 1,
      IngressNotFound: 1,
    });
  });
});

describe("a mount of ai-api-guard's volume that the user added", () => {
  it("stays the user's and is no reason to apply the workload again", async () => {
    await apply(secret("key-own"), deployment("mine", "mine"));
    await apply(
      policy("zeta", {
        selector: { matchLabels: { app: "mine" } },
        credentials: { secretName: "key-own", containers: ["app"] },
      }),
    );
    await eventually(async () => condition(await getJson<Policy>("aap", "zeta"), "Ready")?.status === "True");
    // The user wants the key in the sidecar too, at a path of their own.
    const userMount = { name: "aiapiguard-zeta", mountPath: "/keys", readOnly: true };
    const patch = [{ op: "add", path: "/spec/template/spec/containers/1/volumeMounts", value: [userMount] }];
    await kubectl(["-n", ns.name, "patch", "deployment/mine", "--type=json", "-p", JSON.stringify(patch)]);
    await new Promise((r) => setTimeout(r, 1_000));
    const before = await reported("zeta", "SecretMountUpdated");
    for (let n = 1; n <= 3; n++) {
      await nudge("zeta", n);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(await reported("zeta", "SecretMountUpdated")).toBe(before);
    expect(mountsOf(await getJson<V1Deployment>("deployment", "mine"), "sidecar")).toEqual([userMount]);
  });

  it("holds the policy's deletion with a message that says which mount to remove, then lets it go", async () => {
    await kubectl(["-n", ns.name, "delete", "aap/zeta", "--wait=false"]);
    const [event] = await eventually(async () => {
      const events = await eventsOf("zeta", "VolumeInUse");
      return events.length > 0 ? events : undefined;
    });
    expect(event?.message).toContain("a mount ai-api-guard did not add uses its volume: remove that mount");
    const unmount = [{ op: "remove", path: "/spec/template/spec/containers/1/volumeMounts" }];
    await kubectl(["-n", ns.name, "patch", "deployment/mine", "--type=json", "-p", JSON.stringify(unmount)]);
    await eventually(async () => (await getJson("aap", "zeta")) === undefined);
    expect(volumes(await getJson<V1Deployment>("deployment", "mine"))).toEqual([{ name: "user-cache", emptyDir: {} }]);
  });
});

describe("a field of ai-api-guard's volume that the user changed", () => {
  it("is reported with what to do, and the policy is ready again once the user undoes it", async () => {
    await apply(secret("key-mode"), deployment("mode", "mode"));
    await apply(policy("eta", { selector: { matchLabels: { app: "mode" } }, credentials: { secretName: "key-mode" } }));
    await eventually(async () => condition(await getJson<Policy>("aap", "eta"), "Ready")?.status === "True");
    const mode = (value: number) => [
      { op: "replace", path: "/spec/template/spec/volumes/1/secret/defaultMode", value },
    ];
    const patchMode = (value: number) =>
      kubectl(["-n", ns.name, "patch", "deployment/mode", "--type=json", "-p", JSON.stringify(mode(value))]);
    await patchMode(0o644);
    await patchPolicy("eta", { credentials: { mountPath: "/keys" } });
    const conflict = await eventually(async () => {
      const c = condition(await getJson<Policy>("aap", "eta"), "CredentialsReady");
      return c?.reason === "Conflict" ? c : undefined;
    });
    expect(conflict.message).toContain('conflict with "kubectl-patch"');
    expect(conflict.message).toContain("undo that change to its aiapiguard- volume or mount");
    await patchMode(0o400);
    const d = await eventually(async () => {
      const moved = await getJson<V1Deployment>("deployment", "mode");
      return mountsOf(moved, "app").some((m) => m.mountPath === "/keys") ? moved : undefined;
    });
    expect(volumes(d)).toContainEqual({
      name: "aiapiguard-eta",
      secret: { secretName: "key-mode", defaultMode: 0o400 },
    });
  });
});

describe("two policies that mount at the same path in one workload", () => {
  it("keeps the mount in place, tells the other policy to pick another path, and still follows the first", async () => {
    await apply(secret("key-first"), secret("key-second"), deployment("shared", "shared"));
    const credentials = { mountPath: "/var/run/secrets/ai-api/shared" };
    await apply(
      policy("first", {
        selector: { matchLabels: { app: "shared" } },
        credentials: { ...credentials, secretName: "key-first" },
      }),
    );
    await eventually(async () => condition(await getJson<Policy>("aap", "first"), "Ready")?.status === "True");
    await apply(
      policy("second", {
        selector: { matchLabels: { app: "shared" } },
        credentials: { ...credentials, secretName: "key-second" },
      }),
    );
    const refused = await eventually(async () => {
      const c = condition(await getJson<Policy>("aap", "second"), "CredentialsReady");
      return c?.reason === "MountPathInUse" ? c : undefined;
    });
    expect(refused.message).toContain("policy first already mounts its Secret at /var/run/secrets/ai-api/shared");
    // The other policy's mount still follows its spec.
    await patchPolicy("first", { credentials: { secretName: "key-second" } });
    const d = await eventually(async () => {
      const shared = await getJson<V1Deployment>("deployment", "shared");
      return volumes(shared).some((v) => v.secret?.secretName === "key-second") ? shared : undefined;
    });
    expect(volumes(d).map((v) => v.name)).toEqual(["user-cache", "aiapiguard-first"]);
    expect(mountsOf(d, "app")).toContainEqual({
      name: "aiapiguard-first",
      mountPath: credentials.mountPath,
      readOnly: true,
    });
  });
});

describe("rate limits on an Ingress", () => {
  /** The Ingress's annotations but kubectl's record of the last apply. */
  const annotationsOf = async (name: string) => {
    const { "kubectl.kubernetes.io/last-applied-configuration": _, ...annotations } =
      (await getJson<V1Ingress>("ingress", name))?.metadata?.annotations ?? {};
    return annotations;
  };
  const writesReported = (policyName: string) => reported(policyName, "RateLimitsWritten");

  it("writes nothing more once converged when the user set a rate-limit annotation of their own", async () => {
    const edge = ingress("edge");
    const userLimit = { "nginx.ingress.kubernetes.io/limit-connections": "50" };
    await apply({
      ...edge,
      metadata: { ...edge.metadata, annotations: { ...edge.metadata.annotations, ...userLimit } },
    });
    await apply(
      policy("gamma", {
        selector: { matchLabels: { app: "none" } },
        rateLimit: { ingresses: ["edge"], requestsPerSecond: 7 },
      }),
    );
    await eventually(async () => (await annotationsOf("edge"))["nginx.ingress.kubernetes.io/limit-rps"] === "7");
    await eventually(async () => condition(await getJson<Policy>("aap", "gamma"), "Ready")?.status === "True");
    const before = await writesReported("gamma");
    // Each change of the policy's metadata is a reconcile: a converged one writes nothing.
    for (let n = 1; n <= 3; n++) {
      await nudge("gamma", n);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(await writesReported("gamma")).toBe(before);
    expect(await annotationsOf("edge")).toMatchObject({
      "nginx.ingress.kubernetes.io/limit-connections": "50",
      "example.com/keep": "mine",
    });
  });

  it("takes its rate limits off an Ingress the policy no longer names, leaving the user's", async () => {
    await patchPolicy("gamma", { rateLimit: null });
    const left = await eventually(async () => {
      const annotations = await annotationsOf("edge");
      return annotations["nginx.ingress.kubernetes.io/limit-rps"] === undefined ? annotations : undefined;
    });
    expect(left).toEqual({ "example.com/keep": "mine", "nginx.ingress.kubernetes.io/limit-connections": "50" });
  });

  it("takes them off when the policy is deleted after it stopped naming the Ingress", async () => {
    await apply(ingress("side"));
    await patchPolicy("gamma", { rateLimit: { ingresses: ["side"], requestsPerSecond: 3 } });
    await eventually(async () => (await annotationsOf("side"))["nginx.ingress.kubernetes.io/limit-rps"] === "3");
    await patchPolicy("gamma", { rateLimit: { ingresses: ["edge"], requestsPerSecond: 3 } });
    await eventually(async () => (await annotationsOf("edge"))["nginx.ingress.kubernetes.io/limit-rps"] === "3");
    expect((await kubectl(["-n", ns.name, "delete", "aap/gamma", "--timeout=30s"])).code).toBe(0);
    expect(await annotationsOf("side")).toEqual({ "example.com/keep": "mine" });
    expect(await annotationsOf("edge")).toEqual({
      "example.com/keep": "mine",
      "nginx.ingress.kubernetes.io/limit-connections": "50",
    });
  });
});

describe("a rate-limit annotation the user changed", () => {
  const annotation = (name: string, key: string) =>
    kubectl([
      "-n",
      ns.name,
      "get",
      "ingress",
      name,
      "-o",
      `jsonpath={.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/${key}}`,
    ]).then((r) => r.stdout);

  it("stays the user's, is named in the condition, and does not stop the policy's other annotations", async () => {
    await apply(ingress("own"));
    await apply(
      policy("epsilon", {
        selector: { matchLabels: { app: "none" } },
        rateLimit: { ingresses: ["own"], requestsPerSecond: 10 },
      }),
    );
    await eventually(async () => (await annotation("own", "limit-rps")) === "10");
    // As the user would: kubectl annotate.
    const setRps = (value: string) =>
      kubectl([
        "-n",
        ns.name,
        "annotate",
        "--overwrite",
        "ingress/own",
        `nginx.ingress.kubernetes.io/limit-rps=${value}`,
      ]);
    await setRps("50");
    await patchPolicy("epsilon", { rateLimit: { burstMultiplier: 3 } });
    await eventually(async () => (await annotation("own", "limit-burst-multiplier")) === "3");
    expect(await annotation("own", "limit-rps")).toBe("50");
    const overridden = await eventually(async () => {
      const c = condition(await getJson<Policy>("aap", "epsilon"), "RateLimitReady");
      return c?.reason === "AnnotationOverridden" ? c : undefined;
    });
    expect(overridden.message).toContain('nginx.ingress.kubernetes.io/limit-rps: "50" where the policy asks "10"');
    // A value is quoted as names are: a key there is shown by its hint (before: as written, in the status).
    const key = `sk-${randomBytes(16).toString("hex")}`;
    await setRps(key);
    const quoted = await eventually(async () => {
      const c = condition(await getJson<Policy>("aap", "epsilon"), "RateLimitReady");
      return c?.reason === "AnnotationOverridden" && !c.message.includes('"50"') ? c : undefined;
    });
    expect(quoted.message).toContain(
      `limit-rps: "<DeepSeek API key ending …${key.slice(-4)}>" where the policy asks "10"`,
    );
    expect(quoted.message).not.toContain(key.slice(3, 20));
    // The user takes their value off: the policy's comes back.
    await kubectl(["-n", ns.name, "annotate", "ingress/own", "nginx.ingress.kubernetes.io/limit-rps-"]);
    await eventually(async () => (await annotation("own", "limit-rps")) === "10");
    await eventually(async () => condition(await getJson<Policy>("aap", "epsilon"), "Ready")?.status === "True");
  });
});

describe("a NetworkPolicy the API server stores in its own words", () => {
  it("is not written again and again when it only lacks the empty lists and maps of the policy's selector", async () => {
    // A valid selector: the API server drops `matchLabels: {}` and `values: []` from a NetworkPolicy.
    const selector = { matchLabels: {}, matchExpressions: [{ key: "tier", operator: "Exists", values: [] }] };
    await apply(policy("delta", { selector, egress: { cidrs: ["192.0.2.0/24"] } }));
    await eventually(async () => condition(await getJson<Policy>("aap", "delta"), "Ready")?.status === "True");
    const np = await getJson<V1NetworkPolicy>("networkpolicy", "aiapiguard-delta");
    expect(np?.spec?.podSelector).toEqual({ matchExpressions: [{ key: "tier", operator: "Exists" }] });
    await new Promise((r) => setTimeout(r, 5_000));
    const later = await getJson<V1NetworkPolicy>("networkpolicy", "aiapiguard-delta");
    expect(later?.metadata?.resourceVersion).toBe(np?.metadata?.resourceVersion);
  });
});
