import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAdmissionReview, parseWithSchema, reviewResponse } from "../../../src/webhook/admission-review.ts";
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

describe("parseAdmissionReview's checks written out for speed", () => {
  const REQUEST_FIELDS = ["uid", "kind", "subResource", "name", "namespace", "operation", "dryRun"];
  const ENVELOPE_PATHS: string[][] = [
    [],
    ...["apiVersion", "kind", "request"].map((key) => [key]),
    ...REQUEST_FIELDS.map((key) => ["request", key]),
    ...["group", "version", "kind"].map((key) => ["request", "kind", key]),
  ];
  const values = fc.oneof(
    fc.anything(),
    fc.constantFrom("", "CREATE", "DELETE", "AdmissionReview", "admission.k8s.io/v1", null, true, [], {}),
    fc.string({ maxLength: 300 }),
    fc.integer({ min: 0, max: 300 }).map((n) => "n".repeat(n)),
  );

  it("accept and refuse exactly what the schema does, and pass the request through", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...ENVELOPE_PATHS), values), { maxLength: 3 }), (edits) => {
        let body: unknown = structuredClone(admissionReview(deployment()));
        for (const [path, value] of edits) {
          if (path.length === 0) body = value;
          else {
            let node = body as Record<string, unknown>;
            for (const key of path.slice(0, -1)) {
              if (typeof node !== "object" || node === null) break;
              node = node[key] as Record<string, unknown>;
            }
            if (typeof node === "object" && node !== null) node[path.at(-1) as string] = value;
          }
        }
        const fast = parseAdmissionReview(body);
        const schema = parseWithSchema(body);
        expect(fast.ok).toBe(schema.ok);
        if (fast.ok && schema.ok) expect(fast.request).toMatchObject(schema.request);
        if (!fast.ok) expect(fast).toEqual(schema);
      }),
      { numRuns: 3_000 },
    );
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
