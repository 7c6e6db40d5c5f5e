// The controller on the full local cluster (controller-manager, scheduler, a kwok node): its mount
// rolls a Deployment out to Pods that carry the Secret; the webhook lets it mount into a Deployment
// whose key predates the policy; a refusal of its write by an admission webhook shows in the
// policy's condition, redacted, and is retried with backoff, not in a tight loop.

import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../src/tls/certificates.ts";
import { kubeconfigPath, kubectl, useTestNamespace } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { applyObjects, getObject } from "../support/objects.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ns = useTestNamespace("ctl-cl");
const run = randomBytes(3).toString("hex");
const key = fakeSecrets(Number.parseInt(run, 16)).openai as string;
let operator: Operator;

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field
type Json = Record<string, any>;

const apply = applyObjects;
const getJson = (...args: string[]) => getObject<Json>(ns.name, ...args);

const deployment = (name: string, env: { name: string; value: string }[] = []) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns.name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "app", image: "example/app:1", env }] },
    },
  },
});

const policy = (name: string, app: string) => ({
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name, namespace: ns.name },
  spec: {
    api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low", lastReviewed: "2026-11-01" },
    selector: { matchLabels: { app } },
    credentials: { secretName: "api-key" },
  },
});

const volumeOf = (template: Json | undefined, name: string) =>
  template?.spec?.volumes?.find((v: Json) => v.name === name);
const condition = (p: Json | undefined, type: string) => p?.status?.conditions?.find((c: Json) => c.type === type);

beforeAll(async () => {
  await installCrds();
  // Created before ai-api-guard runs: a key that predates the policy (as in a cluster it is installed into).
  await apply(deployment("legacy", [{ name: "OPENAI_API_KEY", value: key }]));
  operator = await startOperator(kubeconfigPath(), ["--webhook-config-name", `ctl-cl-${run}`], {
    controllerNamespaces: [ns.name],
  });
  await apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "api-key", namespace: ns.name },
    stringData: { "api-key": "placeholder" },
  });
});

afterAll(async () => {
  await kubectl(["-n", ns.name, "delete", "aap", "--all", "--timeout=30s"]);
  await operator?.stop();
});

describe("on the full cluster", () => {
  it("rolls the Deployment out: its new Pods carry the Secret volume (mode 0400) and the read-only mount", async () => {
    await apply(deployment("rolled"));
    await eventually(
      async () => (await kubectl(["-n", ns.name, "rollout", "status", "deploy/rolled", "--timeout=1s"])).code === 0,
      60_000,
    );
    await apply(policy("roll", "rolled"));
    const pod = await eventually(
      async () => {
        const pods = await getJson("pods", "-l", "app=rolled");
        const running = (pods?.items ?? []).filter(
          (p: Json) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp,
        );
        return running.length === 1 && volumeOf(running[0], "aiapiguard-roll") ? running[0] : undefined;
      },
      60_000,
      "a Running Pod with the Secret volume",
    );
    expect(volumeOf(pod, "aiapiguard-roll")).toEqual({
      name: "aiapiguard-roll",
      secret: { secretName: "api-key", defaultMode: 256 },
    });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({
      name: "aiapiguard-roll",
      mountPath: "/var/run/secrets/ai-api/roll",
      readOnly: true,
    });
    const status = await kubectl(["-n", ns.name, "rollout", "status", "deploy/rolled", "--timeout=60s"]);
    expect(status.code, status.stderr).toBe(0);
  });

  it("mounts into a Deployment whose key predates the policy: the webhook admits the update with a warning", async () => {
    await apply(policy("old", "legacy"));
    await eventually(
      async () => volumeOf((await getJson("deployment", "legacy"))?.spec.template, "aiapiguard-old"),
      30_000,
      "the mount on the legacy Deployment",
    );
    const events = await getJson(
      "events",
      "--field-selector",
      "involvedObject.name=legacy,reason=AdmissionExistingFindings",
    );
    expect(events?.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(condition(await getJson("aap", "old"), "CredentialsReady")?.status).toBe("True");
  });
});

describe("a refused write", () => {
  let refuser: Server | undefined;
  const attempts: number[] = [];
  afterAll(async () => {
    await kubectl(["delete", "validatingwebhookconfiguration", `refuse-${run}`, "--ignore-not-found"]);
    await new Promise((r) => (refuser ? refuser.close(r) : r(undefined)));
  });

  it("shows in the condition as AdmissionRefused, redacted, retried with backoff; converges once admitted", async () => {
    // Another admission webhook that refuses adding our volume, and quotes a key in its message.
    const ca = await createCertificateAuthority("refuser-ca", 1);
    const leaf = await issueCertificate(ca, { subject: "CN=127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
    refuser = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        const review = JSON.parse(body);
        const adds = (o: Json | undefined) => Boolean(volumeOf(o?.spec?.template, "aiapiguard-refused"));
        const refuse = adds(review.request.object) && !adds(review.request.oldObject);
        if (refuse) attempts.push(Date.now());
        response.setHeader("content-type", "application/json");
        response.end(
          JSON.stringify({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response: {
              uid: review.request.uid,
              allowed: !refuse,
              ...(refuse && { status: { code: 403, message: `volumes are frozen here (the app uses ${key})` } }),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => refuser?.listen(0, "127.0.0.1", resolve));
    const { port } = refuser.address() as { port: number };
    await apply({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: `refuse-${run}` },
      webhooks: [
        {
          name: "refuse.test.example",
          clientConfig: { url: `https://127.0.0.1:${port}/`, caBundle: Buffer.from(ca.certPem).toString("base64") },
          rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["deployments"] }],
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns.name } },
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          failurePolicy: "Fail",
        },
      ],
    });
    await apply(deployment("frozen"), policy("refused", "frozen"));

    const refused = await eventually(async () => {
      const p = await getJson("aap", "refused");
      return condition(p, "CredentialsReady")?.reason === "AdmissionRefused" ? p : undefined;
    }, 30_000);
    const message = condition(refused, "CredentialsReady").message as string;
    expect(message).toContain("volumes are frozen here");
    expect(message).toContain("Deployment/frozen");
    expect(message).not.toContain(key);
    expect(message).toContain(`OpenAI API key ending "…${key.slice(-4)}"`);
    expect(condition(refused, "Ready")?.status).toBe("False");
    const events = await kubectl(["-n", ns.name, "get", "events", "--field-selector", "involvedObject.name=refused"]);
    expect(events.stdout).toContain("AdmissionRefused");
    expect(events.stdout).not.toContain(key);
    expect(operator.output()).not.toContain(key);

    // Backoff: 0.5 s doubling per failure, so a few attempts in 8 s, not one per event loop turn.
    const from = attempts.length;
    await new Promise((r) => setTimeout(r, 8_000));
    expect(attempts.length - from).toBeLessThanOrEqual(6);

    await kubectl(["delete", "validatingwebhookconfiguration", `refuse-${run}`]);
    await eventually(
      async () => volumeOf((await getJson("deployment", "frozen"))?.spec.template, "aiapiguard-refused"),
      60_000,
      "the mount once the refusing webhook is gone",
    );
  });
});

/**
 * The API server's own admission refusing writes of networking.k8s.io objects in the test namespace: a
 * ValidatingAdmissionPolicy and its binding.
 */
function refusingPolicy(name: string, rule: { operations: string[]; resources: string[] }, validation: object) {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], ...rule }] },
        validations: [validation],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns.name } } },
      },
    },
  ];
}

describe("a refused Ingress write", () => {
  const name = `refuse-ingress-${run}`;
  afterAll(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, "--ignore-not-found"]);
  });

  it("shows in RateLimitReady, redacted, and no log line quotes the key", async () => {
    // The API server's own admission (a ValidatingAdmissionPolicy) refuses rate limits on this Ingress
    // and quotes, as such messages do, an annotation that carries a key.
    await apply(
      ...refusingPolicy(
        name,
        { operations: ["UPDATE"], resources: ["ingresses"] },
        {
          expression: "!('nginx.ingress.kubernetes.io/limit-rps' in object.metadata.annotations)",
          messageExpression:
            "'rate limits are set by the platform team; snippet: ' + object.metadata.annotations['nginx.ingress.kubernetes.io/configuration-snippet']",
        },
      ),
    );
    await apply({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        name: "guarded",
        namespace: ns.name,
        annotations: {
          "nginx.ingress.kubernetes.io/configuration-snippet": `proxy_set_header Authorization "Bearer ${key}";`,
        },
      },
      spec: { defaultBackend: { service: { name: "guarded", port: { number: 443 } } } },
    });
    // Admission policies take effect a moment after they are created: until a (dry-run) write is refused.
    await eventually(async () => {
      const tried = await kubectl([
        "-n",
        ns.name,
        "annotate",
        "ingress",
        "guarded",
        "nginx.ingress.kubernetes.io/limit-rps=1",
        "--dry-run=server",
      ]);
      return tried.code !== 0 && tried.stderr.includes("rate limits are set by the platform team");
    });
    await apply({
      ...policy("limited", "none"),
      spec: { ...policy("limited", "none").spec, rateLimit: { ingresses: ["guarded"], requestsPerSecond: 5 } },
    });
    const refused = await eventually(async () => {
      const p = await getJson("aap", "limited");
      return condition(p, "RateLimitReady")?.reason === "AdmissionRefused" ? p : undefined;
    }, 30_000);
    const message = condition(refused, "RateLimitReady").message as string;
    expect(message).toContain("rate limits are set by the platform team");
    expect(message).toContain("Ingress/guarded: AdmissionRefused");
    expect(message).not.toContain(key);
    expect(condition(refused, "Ready")?.status).toBe("False");
    const events = await kubectl(["-n", ns.name, "get", "events", "--field-selector", "involvedObject.name=limited"]);
    expect(events.stdout).toContain("AdmissionRefused");
    expect(events.stdout).not.toContain(key);
    expect(operator.output()).toContain('"msg":"reconcile failed; will retry"');
    expect(operator.output()).not.toContain(key);
  });
});

describe("a refused NetworkPolicy write", () => {
  const name = `refuse-netpol-${run}`;
  afterAll(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, "--ignore-not-found"]);
  });

  it("shows in EgressReady with the refusal, and the status is written", async () => {
    await apply(
      ...refusingPolicy(
        name,
        { operations: ["CREATE"], resources: ["networkpolicies"] },
        {
          expression: "false",
          message: "egress is managed by the platform team",
        },
      ),
    );
    const probe = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "probe", namespace: ns.name },
      spec: { podSelector: {} },
    };
    await eventually(async () => {
      const tried = await kubectl(["create", "--dry-run=server", "-f", "-"], { input: JSON.stringify(probe) });
      return tried.code !== 0 && tried.stderr.includes("egress is managed by the platform team");
    });
    const walled = policy("walled", "none");
    await apply({ ...walled, spec: { ...walled.spec, egress: { provider: "Kubernetes", cidrs: ["10.0.0.0/8"] } } });
    const refused = await eventually(async () => {
      const p = await getJson("aap", "walled");
      return condition(p, "EgressReady")?.reason === "AdmissionRefused" ? p : undefined;
    }, 30_000);
    expect(condition(refused, "EgressReady").status).toBe("False");
    expect(condition(refused, "EgressReady").message).toContain("egress is managed by the platform team");
    expect(condition(refused, "Ready")?.status).toBe("False");
  });
});

describe("the freshness gauges", () => {
  const metrics = async () => {
    const response = await fetch(`${operator.url}/metrics`, {
      dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
    });
    return response.text();
  };
  /** The series of one metric for the policy "stale". */
  const series = (text: string, name: string) =>
    text.split("\n").filter((line) => line.startsWith(`${name}{`) && line.includes('policy="stale"'));

  it("go when the policy goes: a deleted policy's review is no longer reported overdue", async () => {
    const never = policy("stale", "none");
    const { lastReviewed: _, ...api } = never.spec.api;
    await apply({ ...never, spec: { ...never.spec, api } });
    const overdue = `aiapiguard_review_overdue{namespace="${ns.name}",policy="stale"} 1`;
    await eventually(async () => (await metrics()).includes(overdue), 30_000, "the gauge of the overdue review");
    expect(series(await metrics(), "aiapiguard_credential_age_days")).toHaveLength(1);

    expect((await kubectl(["-n", ns.name, "delete", "aap/stale", "--timeout=30s"])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await metrics();
    for (const name of [
      "aiapiguard_review_overdue",
      "aiapiguard_credential_rotation_overdue",
      "aiapiguard_credential_age_days",
    ])
      expect(series(after, name)).toEqual([]);
  });
});

describe("a refused NetworkPolicy deletion", () => {
  const name = `refuse-netpol-delete-${run}`;
  afterAll(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, "--ignore-not-found"]);
  });

  it("shows in EgressReady with the refusal and a Warning Event, and the status follows the new spec", async () => {
    const opened = {
      ...policy("opened", "none"),
      spec: { ...policy("opened", "none").spec, egress: { cidrs: ["10.0.0.0/8"] } },
    };
    await apply(opened);
    await eventually(
      async () => condition(await getJson("aap", "opened"), "EgressReady")?.reason === "NetworkPolicyApplied",
      30_000,
    );
    await apply(
      ...refusingPolicy(
        name,
        { operations: ["DELETE"], resources: ["networkpolicies"] },
        { expression: "false", message: "egress policies are removed by the platform team only" },
      ),
    );
    await eventually(async () => {
      const tried = await kubectl(["-n", ns.name, "delete", "networkpolicy", "aiapiguard-opened", "--dry-run=server"]);
      return tried.code !== 0 && tried.stderr.includes("removed by the platform team only");
    });
    const patch = JSON.stringify({ spec: { egress: null } });
    expect((await kubectl(["-n", ns.name, "patch", "aap/opened", "--type=merge", "-p", patch])).code).toBe(0);
    const refused = await eventually(async () => {
      const p = await getJson("aap", "opened");
      return condition(p, "EgressReady")?.reason === "AdmissionRefused" ? p : undefined;
    }, 30_000);
    expect(condition(refused, "EgressReady").message).toContain("removed by the platform team only");
    expect(refused.status.observedGeneration).toBe(refused.metadata.generation);
    const warnings = "involvedObject.name=opened,type=Warning";
    const events = await kubectl(["-n", ns.name, "get", "events", "--field-selector", warnings]);
    expect(events.stdout).toContain("removed by the platform team only");

    // Deleted while the NetworkPolicy cannot go: the finalizer holds the policy until it has gone.
    await kubectl(["-n", ns.name, "delete", "aap/opened", "--wait=false"]);
    await eventually(() => operator.output().includes('"error":"NetworkPolicy/aiapiguard-opened: AdmissionRefused'));
    expect((await getJson("aap", "opened"))?.metadata.deletionTimestamp).toBeDefined();
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name]);
    await eventually(async () => (await getJson("aap", "opened")) === undefined, 30_000);
    expect(await getJson("networkpolicy", "aiapiguard-opened")).toBeUndefined();
  });
});
