import { connect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import type { Evaluate } from "../../../src/engine/types.ts";
import { BODY_LIMIT_BYTES } from "../../../src/webhook/server.ts";
import { admissionReview, deployment, finding } from "../../support/admission.ts";
import { webhookHarness } from "../../support/webhook.ts";

/** Finds a key only where the test planted one: the first container's first env value. */
const fakeEngine: Evaluate = (object) => {
  const env = (object as { spec?: { template?: { spec?: { containers?: { env?: { value?: string }[] }[] } } } })?.spec
    ?.template?.spec?.containers?.[0]?.env?.[0]?.value;
  return { findings: env?.startsWith("sk-") ? [finding({ hint: `OpenAI API key ending in ${env.slice(-4)}` })] : [] };
};
const keyed = () => deployment({ env: [{ name: "OPENAI_API_KEY", value: "sk-proj-abcdefT3BlbkFJ0123456789wxyz" }] });

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function harness(options: Partial<Parameters<typeof webhookHarness>[0]> = {}) {
  const h = await webhookHarness({ evaluate: fakeEngine, ...options });
  close = () => h.app.close();
  return h;
}

describe("POST /validate", () => {
  it("refuses a Deployment with a key under Deny: 403, the uid echoed, an AdmissionDenied Event", async () => {
    const h = await harness();
    const review = admissionReview(keyed());
    const response = await h.validate(review);
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: {
        uid: review.request.uid,
        allowed: false,
        status: { code: 403, reason: "Forbidden", message: expect.stringContaining("OpenAI API key ending in wxyz") },
      },
    });
    expect(h.events).toEqual([
      {
        type: "Warning",
        reason: "AdmissionDenied",
        object: { apiVersion: "apps/v1", kind: "Deployment", namespace: "ml-team", name: "summarizer" },
        message: response.body.response.status.message,
      },
    ]);
  });

  it("admits a clean Deployment without warnings or Events", async () => {
    const h = await harness();
    const review = admissionReview(deployment());
    const response = await h.validate(review);
    expect(response.body.response).toEqual({ uid: review.request.uid, allowed: true });
    expect(h.events).toEqual([]);
  });

  it("admits with warnings under Warn", async () => {
    const h = await harness({ config: { defaultAction: "Warn" } });
    const response = await h.validate(admissionReview(keyed()));
    expect(response.body.response).toMatchObject({
      allowed: true,
      warnings: [expect.stringMatching(/^hardcoded-secret: /)],
    });
    expect(response.body.response.status).toBeUndefined();
  });

  it("admits silently under Audit, with an AdmissionAudit Event", async () => {
    const h = await harness({ config: { defaultAction: "Audit" } });
    const response = await h.validate(admissionReview(keyed()));
    expect(response.body.response).toEqual({ uid: expect.any(String), allowed: true });
    expect(h.events.map((event) => event.reason)).toEqual(["AdmissionAudit"]);
  });

  it("answers a dry run exactly like the real request, without an Event", async () => {
    const h = await harness();
    const real = await h.validate(admissionReview(keyed(), { uid: "same" }));
    const dry = await h.validate(admissionReview(keyed(), { uid: "same", dryRun: true }));
    expect(dry.body).toEqual(real.body);
    expect(h.events).toHaveLength(1);
  });

  it("answers even when the Event sink throws or rejects", async () => {
    for (const events of [
      () => {
        throw new Error("sink down");
      },
      async () => {
        throw new Error("sink down");
      },
    ]) {
      const h = await harness({ events });
      const response = await h.validate(admissionReview(keyed()));
      expect(response.body.response.allowed).toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
      expect(h.logs.some((line) => line.msg === "could not record the admission Event")).toBe(true);
      await h.app.close();
    }
  });

  it("logs one line per decision with metadata only", async () => {
    const h = await harness();
    const review = admissionReview(keyed());
    await h.validate(review);
    const decisions = h.logs.filter((line) => line.msg === "admission decision");
    expect(decisions).toEqual([
      expect.objectContaining({
        uid: review.request.uid,
        kind: "Deployment",
        namespace: "ml-team",
        name: "summarizer",
        operation: "CREATE",
        dryRun: false,
        decision: "deny",
        action: "Deny",
        rules: ["hardcoded-secret"],
        exemptRules: [],
        durationMs: expect.any(Number),
      }),
    ]);
    expect(h.logs).toHaveLength(1);
  });

  it("counts decisions, findings and durations with bounded labels", async () => {
    const h = await harness();
    await h.validate(admissionReview(keyed()));
    await h.validate(admissionReview(deployment(), { operation: "DELETE", object: null }));
    await h.validate(admissionReview({ kind: "Widget", metadata: { name: "w", namespace: "ml-team" } }));
    const text = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain(
      'aiapiguard_admission_requests_total{decision="deny",kind="Deployment",operation="CREATE"} 1',
    );
    expect(text).toContain(
      'aiapiguard_admission_requests_total{decision="skip",kind="Deployment",operation="DELETE"} 1',
    );
    expect(text).toContain('aiapiguard_admission_requests_total{decision="skip",kind="other",operation="CREATE"} 1');
    expect(text).toContain('aiapiguard_findings_total{rule="hardcoded-secret",action="Deny"} 1');
    expect(text).toContain("aiapiguard_admission_duration_seconds_count 3");
  });
});

describe("bad input", () => {
  it("answers 400 with a reason for JSON that is not an AdmissionReview", async () => {
    const h = await harness();
    const response = await h.validate({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: {} });
    expect(response.statusCode).toBe(400);
    expect(response.body).toEqual({ error: "Bad Request", reason: expect.stringContaining("apiVersion: ") });
  });

  it.each([
    ["invalid JSON", '{"apiVersion": "sk-proj-CANARY', "not valid JSON"],
    ["an empty body", "", "the body is empty"],
    ["a prototype-poisoning body", '{"__proto__": {"allowed": true}}', "not an AdmissionReview"],
  ])("answers 400 for %s without quoting it", async (_, payload, reason) => {
    const h = await harness();
    const response = await h.post(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: "Bad Request", reason: expect.stringContaining(reason) });
    expect(response.body).not.toContain("CANARY");
  });

  it("reviews a ConfigMap with a __proto__ key (the API server stores it) instead of answering 400", async () => {
    // Before, such a body got 400 ("not valid JSON"): a call failure, which failurePolicy Ignore admits unreviewed.
    const h = await harness({ evaluate });
    const configMap = (data: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "llm", namespace: "ml-team" },
      data: JSON.parse(data),
    });
    const keyed = await h.post(
      JSON.stringify(
        admissionReview(configMap('{"__proto__": "x", "OPENAI_API_KEY": "sk-proj-abcdefT3BlbkFJ0123456789wxyz"}')),
      ),
    );
    expect(keyed.statusCode).toBe(200);
    expect(keyed.json().response).toMatchObject({ allowed: false, status: { code: 403 } });
    const clean = await h.post(JSON.stringify(admissionReview(configMap('{"__proto__": "x"}'))));
    expect(clean.json().response).toEqual({ uid: expect.any(String), allowed: true });
    expect(Object.prototype).not.toHaveProperty("x");
  });

  it("answers 413 beyond what the API server can send", async () => {
    const h = await harness();
    const payload = JSON.stringify({ padding: "x".repeat(BODY_LIMIT_BYTES) });
    const response = await h.post(payload);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ error: "Payload Too Large", reason: expect.stringContaining("37 MiB") });
  });

  it("accepts a review just under the limit", async () => {
    const h = await harness();
    const object = deployment({ annotations: { big: "x".repeat(BODY_LIMIT_BYTES - 20_000) } });
    const response = await h.validate(admissionReview(object));
    expect(response.statusCode).toBe(200);
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "application/yaml"])(
    "answers 415 for %s",
    async (type) => {
      const h = await harness();
      const response = await h.post("{}", type);
      expect(response.statusCode).toBe(415);
      expect(response.json()).toEqual({
        error: "Unsupported Media Type",
        reason: expect.stringContaining("application/json"),
      });
    },
  );

  it("answers 404 in JSON for unknown routes and methods", async () => {
    const h = await harness();
    for (const [method, url] of [
      ["GET", "/nope"],
      ["GET", "/validate"],
    ] as const) {
      const response = await h.app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expect(response.json().reason).toContain("POST /validate");
    }
  });

  it("counts and logs refused bodies by status", async () => {
    const h = await harness();
    await h.validate({});
    await h.post("x", "text/plain");
    const text = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain('aiapiguard_admission_rejected_requests_total{code="400"} 1');
    expect(text).toContain('aiapiguard_admission_rejected_requests_total{code="415"} 1');
    expect(h.logs.map((line) => [line.level, line.statusCode, line.msg])).toEqual([
      [40, 400, "refused a request before reviewing it"],
      [40, 415, "refused a request before reviewing it"],
    ]);
  });
});

describe("health, readiness and metrics", () => {
  it("is healthy, and ready only once isReady says so", async () => {
    let ready = false;
    const h = await harness({ isReady: () => ready });
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const notReady = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().reason).toContain("not loaded");
    ready = true;
    expect((await h.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("serves the Prometheus text exposition of its own registry", async () => {
    const h = await harness();
    const response = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(response.headers["content-type"]).toContain("text/plain");
    expect(response.body).toContain("# TYPE aiapiguard_admission_requests_total counter");
    expect(response.body).toContain("# TYPE aiapiguard_admission_duration_seconds histogram");
  });
});

describe("TLS", () => {
  it("speaks TLS 1.3 and refuses TLS 1.2", async () => {
    const h = await harness();
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.app.server.address() as { port: number };
    const handshake = (maxVersion: "TLSv1.2" | "TLSv1.3") =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, ca: h.caPem, maxVersion }, () => {
          resolve(socket.getProtocol() ?? "");
          socket.end();
        });
        socket.on("error", reject);
      });
    await expect(handshake("TLSv1.3")).resolves.toBe("TLSv1.3");
    await expect(handshake("TLSv1.2")).rejects.toThrow();
  });
});

describe("close", () => {
  it("closes a connection that never carried a request (the API server keeps spares 90 s) instead of waiting on it", async () => {
    const h = await webhookHarness({ evaluate: fakeEngine });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.app.server.address() as { port: number };
    const socket = connect({ host: "127.0.0.1", port, ca: h.caPem });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    const socketClosed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await h.app.close();
    await socketClosed;
  });
});
