import { describe, expect, it } from "vitest";
import { parseAdmissionReview, reviewResponse } from "../../../src/webhook/admission-review.ts";
import { admissionReview, deployment } from "../../support/admission.ts";

describe("parseAdmissionReview", () => {
  it("accepts what the API server sends and keeps the object as is", () => {
    const body = admissionReview(deployment(), { dryRun: true });
    const parsed = parseAdmissionReview(body);
    expect(parsed).toMatchObject({ ok: true, request: { uid: body.request.uid, operation: "CREATE", dryRun: true } });
    expect(parsed.ok && parsed.request.object).toBe(body.request.object);
  });

  it("accepts a DELETE with a null object", () => {
    const parsed = parseAdmissionReview(admissionReview(deployment(), { operation: "DELETE", object: null }));
    expect(parsed.ok).toBe(true);
  });

  const valid = () => admissionReview(deployment()) as Record<string, unknown> & { request: Record<string, unknown> };

  it.each<[string, () => unknown, string]>([
    ["a body that is not an object", () => [1, 2], "body: "],
    ["admission.k8s.io/v1beta1", () => ({ ...valid(), apiVersion: "admission.k8s.io/v1beta1" }), "apiVersion: "],
    ["another kind", () => ({ ...valid(), kind: "TokenReview" }), "kind: "],
    ["no request", () => ({ ...valid(), request: undefined }), "request: "],
    ["a request that is a string", () => ({ ...valid(), request: "x" }), "request: "],
    ["no uid", () => ({ ...valid(), request: { ...valid().request, uid: undefined } }), "request.uid: "],
    ["an empty uid", () => ({ ...valid(), request: { ...valid().request, uid: "" } }), "request.uid: "],
    [
      "a uid of 10 KB",
      () => ({ ...valid(), request: { ...valid().request, uid: "u".repeat(10_000) } }),
      "request.uid: ",
    ],
    [
      "an unknown operation",
      () => ({ ...valid(), request: { ...valid().request, operation: "PATCH" } }),
      "request.operation: ",
    ],
    [
      "a kind without a name",
      () => ({ ...valid(), request: { ...valid().request, kind: { group: "", version: "v1" } } }),
      "request.kind.kind: ",
    ],
    [
      "a name longer than Kubernetes allows",
      () => ({ ...valid(), request: { ...valid().request, name: "n".repeat(254) } }),
      "request.name: ",
    ],
    [
      "a numeric namespace",
      () => ({ ...valid(), request: { ...valid().request, namespace: 7 } }),
      "request.namespace: ",
    ],
    ["a string dryRun", () => ({ ...valid(), request: { ...valid().request, dryRun: "true" } }), "request.dryRun: "],
  ])("refuses %s with a reason naming the field", (_, body, where) => {
    const parsed = parseAdmissionReview(body());
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^not an AdmissionReview admission\.k8s\.io\/v1: /);
    expect(!parsed.ok && parsed.reason).toContain(where);
  });

  it("never quotes a field's value in its reason", () => {
    const canary = "sk-proj-CANARY0123456789T3BlbkFJabcdefghij0123456789";
    const parsed = parseAdmissionReview({
      ...valid(),
      apiVersion: canary,
      request: { uid: canary, operation: canary },
    });
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain("CANARY");
  });
});

describe("reviewResponse", () => {
  it("wraps a response in an AdmissionReview v1", () => {
    expect(reviewResponse({ uid: "u-1", allowed: true })).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u-1", allowed: true },
    });
  });
});
