import { describe, expect, it } from "vitest";
import { type AiApiPolicy, parseAiApiPolicy } from "../../../src/api/index.ts";
import { CORE_KINDS, MOUNTED_KINDS, workloadKind } from "../../../src/api/workload-kinds.ts";
import {
  ingressAnnotations,
  networkPolicySpec,
  withoutClashes,
  workloadIntent,
  workloadPatch,
} from "../../../src/controller/intents.ts";
import { type CachedWorkload, cachedWorkload } from "../../../src/kube/cached.ts";
import { inLocale } from "../locale.ts";

// biome-ignore lint/suspicious/noExplicitAny: an intent read back field by field
type Json = Record<string, any>;

function policy(name: string, spec: Record<string, unknown>): AiApiPolicy {
  const parsed = parseAiApiPolicy({
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name, namespace: "ml", uid: `uid-${name}` },
    spec: {
      api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low" },
      selector: { matchLabels: { app: "a" } },
      ...spec,
    },
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.policy;
}

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "ml", labels: { app: "not-the-template" }, managedFields: [{ manager: "x" }] },
  spec: {
    template: {
      metadata: { labels: { app: "a" } },
      spec: {
        volumes: [{ name: "user", emptyDir: {} }],
        containers: [
          { name: "app", env: [{ name: "K", value: "v" }], volumeMounts: [{ name: "user", mountPath: "/u" }] },
          { name: "side" },
        ],
      },
    },
  },
};
const row = workloadKind("apps", "Deployment");

describe("the workload intents", () => {
  it("caches only the pod template's labels, container names and ai-api-guard's own volumes and mounts", () => {
    expect(cachedWorkload(row as never)(deployment)).toEqual({
      kind: "Deployment",
      metadata: { name: "d", namespace: "ml" },
      templateLabels: { app: "a" },
      containers: [
        { name: "app", mounts: [] },
        { name: "side", mounts: [] },
      ],
      volumes: [],
    });
  });

  it("caches the volumes and mounts ai-api-guard applied (managedFields), and notes a mount of its volume it did not", () => {
    const template = { metadata: { labels: { app: "a" } } };
    const owned = { name: "aiapiguard-p", mountPath: "/var/run/secrets/ai-api/p", readOnly: true };
    const theirs = { name: "aiapiguard-p", mountPath: "/keys" };
    const applied = {
      manager: "ai-api-guard",
      operation: "Apply",
      fieldsV1: {
        "f:spec": {
          "f:template": {
            "f:spec": {
              "f:volumes": { 'k:{"name":"aiapiguard-p"}': {} },
              "f:containers": {
                'k:{"name":"app"}': { "f:volumeMounts": { 'k:{"mountPath":"/var/run/secrets/ai-api/p"}': {} } },
              },
            },
          },
        },
      },
    };
    const cached = cachedWorkload(row as never)({
      ...deployment,
      metadata: { ...deployment.metadata, managedFields: [applied] },
      spec: {
        template: {
          ...template,
          spec: {
            volumes: [{ name: "aiapiguard-p", secret: { secretName: "s", defaultMode: 0o400 } }],
            containers: [
              { name: "app", volumeMounts: [owned] },
              { name: "side", volumeMounts: [theirs] },
            ],
          },
        },
      },
    });
    expect(cached.containers).toEqual([
      { name: "app", mounts: [owned] },
      { name: "side", mounts: [] },
    ]);
    expect(cached.volumes).toEqual([
      { name: "aiapiguard-p", secretName: "s", defaultMode: 0o400, mountedByOthers: true },
    ]);
  });

  it("mounts into the named containers only, one volume per policy, sorted, mode 0400, read-only", () => {
    const cached = cachedWorkload(row as never)(deployment);
    const patch = workloadPatch(cached, [
      policy("zeta", { credentials: { secretName: "z" } }),
      policy("alpha", { credentials: { secretName: "a", containers: ["side"] } }),
    ]);
    expect(patch).toEqual({
      volumes: [
        { name: "aiapiguard-alpha", secret: { secretName: "a", defaultMode: 0o400 } },
        { name: "aiapiguard-zeta", secret: { secretName: "z", defaultMode: 0o400 } },
      ],
      containers: [
        {
          name: "app",
          volumeMounts: [{ name: "aiapiguard-zeta", mountPath: "/var/run/secrets/ai-api/zeta", readOnly: true }],
        },
        {
          name: "side",
          volumeMounts: [
            { name: "aiapiguard-alpha", mountPath: "/var/run/secrets/ai-api/alpha", readOnly: true },
            { name: "aiapiguard-zeta", mountPath: "/var/run/secrets/ai-api/zeta", readOnly: true },
          ],
        },
      ],
    });
  });

  it("places the patch at each mounted kind's pod template from the kinds table; no policy: an empty intent", () => {
    const cached: CachedWorkload = {
      kind: "X",
      metadata: { name: "w", namespace: "ml" },
      templateLabels: {},
      containers: [{ name: "app", mounts: [] }],
      volumes: [],
    };
    const patch = workloadPatch(cached, [policy("p", { credentials: { secretName: "s" } })]);
    for (const kind of MOUNTED_KINDS) {
      const intent = workloadIntent(kind, cached, patch) as Json;
      expect(intent.apiVersion).toBe("apps/v1");
      expect(intent.kind).toBe(kind.kind);
      expect(intent.spec.template.spec.volumes).toEqual(patch.volumes);
    }
    const cronJob = CORE_KINDS.find((k) => k.kind === "CronJob");
    const nested = workloadIntent(cronJob as never, cached, patch) as Json;
    expect(nested.spec.jobTemplate.spec.template.spec.containers).toEqual(patch.containers);
    expect(workloadIntent(MOUNTED_KINDS[0] as never, cached, { volumes: [], containers: [] })).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "w", namespace: "ml" },
    });
  });
});

describe("the NetworkPolicy", () => {
  it("allows the cidrs on the TLS ports and kube-dns on 53; without DNS when allowDNS is false", () => {
    const spec = networkPolicySpec(policy("p", { egress: { cidrs: ["203.0.113.0/24"], ports: [443, 8443] } }));
    expect(spec.policyTypes).toEqual(["Egress"]);
    expect(spec.egress).toHaveLength(2);
    expect((spec.egress as unknown[])[0]).toEqual({
      to: [{ ipBlock: { cidr: "203.0.113.0/24" } }],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 8443 },
      ],
    });
    const noDns = networkPolicySpec(policy("p", { egress: { cidrs: ["203.0.113.0/24"], allowDNS: false } }));
    expect(noDns.egress).toHaveLength(1);
  });

  it("selects the pods as the API server stores a selector: no empty matchLabels, matchExpressions or values", () => {
    const podSelector = (selector: unknown) =>
      networkPolicySpec(policy("p", { selector, egress: { cidrs: ["203.0.113.0/24"] } })).podSelector;
    expect(
      podSelector({ matchLabels: {}, matchExpressions: [{ key: "tier", operator: "Exists", values: [] }] }),
    ).toEqual({ matchExpressions: [{ key: "tier", operator: "Exists" }] });
    expect(podSelector({ matchLabels: {}, matchExpressions: [] })).toEqual({});
    const kept = { matchLabels: { app: "a" }, matchExpressions: [{ key: "tier", operator: "In", values: ["x"] }] };
    expect(podSelector(kept)).toEqual(kept);
  });
});

describe("the Ingress annotations", () => {
  it("writes nginx's keys (the first policy by name wins a key) and Traefik's middleware list", () => {
    const ingress = { metadata: { name: "front", namespace: "ml", annotations: {}, owned: [] } };
    const a = policy("a", { rateLimit: { ingresses: ["front"], requestsPerSecond: 5 } });
    const b = policy("b", { rateLimit: { ingresses: ["front"], requestsPerSecond: 50, forceTLS: false } });
    const t = policy("t", {
      rateLimit: { ingresses: ["front"], requestsPerSecond: 1, provider: "traefik", forceTLS: false },
    });
    expect(ingressAnnotations(ingress, [b, t, a])).toEqual({
      "nginx.ingress.kubernetes.io/limit-rps": "5",
      "nginx.ingress.kubernetes.io/limit-burst-multiplier": "5",
      "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
      "traefik.ingress.kubernetes.io/router.middlewares": "ml-aiapiguard-t-ratelimit@kubernetescrd",
    });
  });
});

describe("the order of policies", () => {
  it("is by code point whatever the machine's locale: the mountPath's holder, the volumes, the annotation that wins", () => {
    // Before, localeCompare: under a Danish locale "aardvark" sorts after "zebra", so a replica started
    // with LANG=da_DK gave the shared mountPath to the other policy, and applied other bytes.
    const shared = { secretName: "s", mountPath: "/var/run/secrets/ai-api/shared" };
    const policies = [
      policy("zebra", { credentials: shared, rateLimit: { ingresses: ["front"], requestsPerSecond: 50 } }),
      policy("aardvark", { credentials: shared, rateLimit: { ingresses: ["front"], requestsPerSecond: 5 } }),
    ];
    const workload = cachedWorkload(row as never)(deployment);
    const ingress = { metadata: { name: "front", namespace: "ml", annotations: {}, owned: [] } };
    const body = `const intents = await load("controller/intents.ts");
      const [policies, workload, ingress] = ${JSON.stringify([policies, workload, ingress])};
      return {
        holder: intents.withoutClashes(workload, policies).kept.map((p) => p.metadata.name),
        volumes: intents.workloadPatch(workload, policies).volumes.map((v) => v.name),
        rps: intents.ingressAnnotations(ingress, policies)["nginx.ingress.kubernetes.io/limit-rps"],
      };`;
    const expected = { holder: ["aardvark"], volumes: ["aiapiguard-aardvark", "aiapiguard-zebra"], rps: "5" };
    expect(withoutClashes(workload, policies).kept.map((p) => p.metadata.name)).toEqual(expected.holder);
    for (const locale of ["en_US.UTF-8", "da_DK.UTF-8"]) expect(inLocale(locale, body), locale).toEqual(expected);
  });
});
