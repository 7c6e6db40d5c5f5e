// The server with the real rules engine: what a developer sees for the manifests of the product's
// own examples, through POST /validate.
import { afterEach, describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { EXEMPT_ANNOTATION } from "../../../src/engine/types.ts";
import { MAX_WARNING_LENGTH } from "../../../src/webhook/messages.ts";
import { admissionReview, deployment, podWithVolumes, policyView } from "../../support/admission.ts";
import { configMapLookups, type HarnessOptions, webhookHarness } from "../../support/webhook.ts";

const KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRsT3BlbkFJuV8wXy1zAb4cDe7fGh";
const keyed = (annotations: Record<string, string> = {}) =>
  deployment({ env: [{ name: "OPENAI_API_KEY", value: KEY }], annotations });

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function harness(options: Partial<HarnessOptions> = {}) {
  const h = await webhookHarness({ evaluate, ...options });
  close = () => h.app.close();
  return h;
}

describe("with the rules engine", () => {
  it("refuses a Deployment with a hardcoded key, naming container, path, rule, hint and fix", async () => {
    const h = await harness();
    const { body } = await h.validate(admissionReview(keyed()));
    expect(body.response).toMatchObject({ allowed: false, status: { code: 403, reason: "Forbidden" } });
    const [header, line, ...rest] = body.response.status.message.split("\n");
    expect(header).toBe("Deployment ml-team/summarizer has 1 finding (default action Deny):");
    expect(line).toMatch(
      /^- hardcoded-secret in container "app" at spec\.template\.spec\.containers\[0\]\.env\[0\]\.value: OpenAI API key ending "…7fGh"\. Fix: .*Secret.*secretKeyRef/,
    );
    expect(rest).toEqual([]);
    expect(h.events.map((event) => event.reason)).toEqual(["AdmissionDenied"]);
  });

  it("names the volume a key sits in, as it names a container", async () => {
    const h = await harness();
    const pod = podWithVolumes([
      { name: "cache", emptyDir: {} },
      { name: "models", csi: { driver: "s3.csi.example.com", volumeAttributes: { secretKey: KEY } } },
    ]);
    const { body } = await h.validate(admissionReview(pod));
    // Before: "- hardcoded-secret at spec.volumes[1]...", the index the only way to tell which volume.
    expect(body.response.status.message.split("\n")[1]).toMatch(
      /^- hardcoded-secret in volume "models" at spec\.volumes\[1\]\.csi\.volumeAttributes\.secretKey: .+ ending "…7fGh"\. Fix: Use the volume driver's secret reference/,
    );
  });

  it("admits under Warn with warnings under 120 characters", async () => {
    const h = await harness({ policies: [policyView({ action: "Warn" })], config: { actionFloor: "Audit" } });
    const object = deployment({
      env: [
        { name: "OPENAI_API_KEY", value: KEY },
        { name: "LLM_URL", value: "http://api.example.com/v1/generate" },
      ],
    });
    const { body } = await h.validate(admissionReview(object));
    expect(body.response.allowed).toBe(true);
    expect(body.response.warnings).toEqual([
      'hardcoded-secret: Deployment/summarizer container app env[0].value (OpenAI API key ending "…7fGh")',
      "plaintext-endpoint: Deployment/summarizer container app env[1].value (http://api.example.com)",
    ]);
    for (const warning of body.response.warnings) expect(warning.length).toBeLessThan(120);
    expect(h.events).toEqual([]);
  });

  it("admits under Audit silently, but counts, logs and records it", async () => {
    const h = await harness({ policies: [policyView({ action: "Audit" })], config: { actionFloor: "Audit" } });
    const { body } = await h.validate(admissionReview(keyed()));
    expect(body.response).toEqual({ uid: expect.any(String), allowed: true });
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(
      'aiapiguard_admission_requests_total{decision="audit",kind="Deployment",operation="CREATE"} 1',
    );
    expect(metrics).toContain('aiapiguard_findings_total{rule="hardcoded-secret",action="Audit"} 1');
    expect(h.logs.find((line) => line.msg === "admission decision")).toMatchObject({
      decision: "audit",
      rules: ["hardcoded-secret"],
    });
    expect(h.events).toEqual([expect.objectContaining({ reason: "AdmissionAudit" })]);
  });

  it("admits objects in exempt namespaces and DELETEs without review", async () => {
    const h = await harness();
    const inKubeSystem = await h.validate(admissionReview(keyed(), { namespace: "kube-system" }));
    const deletion = await h.validate(
      admissionReview(keyed(), { operation: "DELETE", object: null, oldObject: keyed() }),
    );
    expect(inKubeSystem.body.response.allowed).toBe(true);
    expect(deletion.body.response.allowed).toBe(true);
    expect(h.logs.map((line) => line.note)).toEqual(["exempt namespace", "operation DELETE"]);
  });

  it("refuses a plaintext URL to a policy's endpoint host even in-cluster, and admits it without the policy", async () => {
    const object = deployment({ env: [{ name: "LLM_URL", value: "http://llm-gateway.ml-team.svc/v1" }] });
    const without = await harness();
    expect((await without.validate(admissionReview(object))).body.response.allowed).toBe(true);
    await without.app.close();
    const h = await harness({
      policies: [policyView({ namespace: "other-team", endpointHost: "llm-gateway.ml-team.svc", action: "Warn" })],
    });
    const { body } = await h.validate(admissionReview(object));
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toContain("plaintext-endpoint");
  });

  it("admits an exempted finding when the requester may grant it, with a warning, an Event and a log line", async () => {
    const asked: [string, string][] = [];
    const lookups = {
      mayExempt: async (user: { username: string }, namespace: string) => {
        asked.push([user.username, namespace]);
        return true;
      },
      namespaceFloor: async () => undefined,
    };
    const h = await harness({ lookups });
    const { body } = await h.validate(admissionReview(keyed({ [EXEMPT_ANNOTATION]: "hardcoded-secret" })));
    expect(body.response.allowed).toBe(true);
    expect(body.response.warnings).toEqual([expect.stringMatching(/exempted by annotation aiapiguard\.dev\/exempt$/)]);
    for (const warning of body.response.warnings) expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(asked).toEqual([["kubernetes-admin", "ml-team"]]);
    expect(h.events.map((event) => event.reason)).toEqual(["AdmissionExempted"]);
    const line = h.logs.find((l) => l.msg === "admission decision");
    expect(line).toMatchObject({ exemptRules: ["hardcoded-secret"], exemptionGranted: true, user: "kubernetes-admin" });
  });

  it("follows the ConfigMaps a workload reads: an AI API host in one is unregistered-ai-api at admission", async () => {
    const asked: string[] = [];
    const lookups = configMapLookups(
      async (_namespace, name) => (name === "llm" ? { OPENAI_BASE_URL: "api.openai.com" } : undefined),
      asked,
    );
    const h = await harness({ lookups, config: { unregisteredAction: "Deny" } });
    const object = deployment();
    const { containers } = (object.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template
      .spec;
    (containers[0] as Record<string, unknown>).envFrom = [{ configMapRef: { name: "llm" } }];
    const { body } = await h.validate(admissionReview(object));
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toContain(
      'unregistered-ai-api in container "app" at spec.template.spec.containers[0].envFrom[0].configMapRef: api.openai.com',
    );
    expect(asked.sort()).toEqual(["ml-team/llm", "ml-team/summarizer-config"]);
    const exempt = await webhookHarness({ evaluate, lookups, config: { exemptNamespaces: ["ml-team"] } });
    expect((await exempt.validate(admissionReview(object))).body.response.allowed).toBe(true);
    await exempt.app.close();
    expect(asked).toHaveLength(2);
  });

  it("says so when a workload reads more ConfigMaps than it follows a review, and reads only the bound", async () => {
    const asked: string[] = [];
    const lookups = configMapLookups(async () => ({ OPENAI_BASE_URL: "api.openai.com" }), asked);
    const h = await harness({ lookups, config: { unregisteredAction: "Warn" } });
    const object = deployment();
    const { containers } = (object.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template
      .spec;
    (containers[0] as Record<string, unknown>).envFrom = Array.from({ length: 19 }, (_, i) => ({
      configMapRef: { name: `settings-${i}` },
    }));
    const { body } = await h.validate(admissionReview(object));
    // 19 in envFrom and the volume's summarizer-config: 20 read, 16 followed.
    expect(asked).toHaveLength(16);
    expect(body.response.allowed).toBe(true);
    expect(body.response.warnings).toContainEqual(
      "ai-api-guard did not read 4 more ConfigMaps Deployment/summarizer reads at admission: the audit reads them",
    );
    expect(h.logs.find((l) => l.msg === "admission decision")).toMatchObject({ configMapsNotFollowed: 4 });
    // A clean object too: the notice is no finding's, so it comes without any.
    const clean = await harness({ lookups: configMapLookups(async () => undefined) });
    const admitted = (await clean.validate(admissionReview(object))).body.response;
    expect(admitted.allowed).toBe(true);
    expect(admitted.warnings).toEqual([expect.stringContaining("did not read 4 more ConfigMaps")]);
  });

  it("refuses an exempted finding when nobody granted it (no lookups: no exemptions)", async () => {
    const h = await harness();
    const { body } = await h.validate(admissionReview(keyed({ [EXEMPT_ANNOTATION]: "hardcoded-secret" })));
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toContain("was not honoured");
  });

  it("refuses an object it cannot read under Deny, saying so", async () => {
    const h = await harness();
    const object = deployment();
    (object.spec as { template: { spec: Record<string, unknown> } }).template.spec.containers = "app";
    const { body } = await h.validate(admissionReview(object));
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toMatch(/could not be read \(.*containers is a string, not a list\)/);
  });

  it.each([
    ["Deployment", deployment()],
    [
      "Pod",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "ml-team" },
        spec: { containers: [{ name: "a", image: "x", env: [{ name: "LOG_LEVEL", value: "info" }] }] },
      },
    ],
    [
      "ConfigMap",
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", namespace: "ml-team" },
        data: { LLM_ENDPOINT: "https://api.example.com/v1" },
      },
    ],
    [
      "CronJob",
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "nightly", namespace: "ml-team" },
        spec: {
          schedule: "0 1 * * *",
          jobTemplate: {
            spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "job", image: "x" }] } } },
          },
        },
      },
    ],
  ])("admits a clean %s", async (_, object) => {
    const h = await harness();
    const { body } = await h.validate(admissionReview(object as Record<string, unknown>));
    expect(body.response).toEqual({ uid: expect.any(String), allowed: true });
    expect(h.logs.find((line) => line.msg === "admission decision")).toMatchObject({ decision: "allow" });
  });
});
