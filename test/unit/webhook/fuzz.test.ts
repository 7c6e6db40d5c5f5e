// Thousands of malformed, random and hostile bodies through the real server and the real rules
// engine (inject, TLS options and all): never a 5xx, never a crash; always a 400/413/415 with a JSON reason, or a well-formed
// AdmissionReview response that echoes the request's uid.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { MAX_WARNING_LENGTH } from "../../../src/webhook/messages.ts";
import { BODY_LIMIT_BYTES } from "../../../src/webhook/server.ts";
import { admissionReview, deployment } from "../../support/admission.ts";
import { webhookHarness } from "../../support/webhook.ts";

const RUNS = 6_000;

/** Every level of the review, down into a container's env: where the wrong types go. */
const PATHS: (string | number)[][] = [
  [],
  ["apiVersion"],
  ["kind"],
  ["request"],
  ["request", "uid"],
  ["request", "kind"],
  ["request", "kind", "kind"],
  ["request", "kind", "group"],
  ["request", "operation"],
  ["request", "namespace"],
  ["request", "name"],
  ["request", "subResource"],
  ["request", "dryRun"],
  ["request", "object"],
  ["request", "object", "kind"],
  ["request", "object", "metadata"],
  ["request", "object", "metadata", "name"],
  ["request", "object", "metadata", "annotations"],
  ["request", "object", "metadata", "deletionTimestamp"],
  ["request", "object", "spec"],
  ["request", "object", "spec", "template"],
  ["request", "object", "spec", "template", "metadata", "labels"],
  ["request", "object", "spec", "template", "spec"],
  ["request", "object", "spec", "template", "spec", "containers"],
  ["request", "object", "spec", "template", "spec", "containers", 0],
  ["request", "object", "spec", "template", "spec", "containers", 0, "env"],
  ["request", "object", "spec", "template", "spec", "containers", 0, "env", 0],
  ["request", "object", "spec", "template", "spec", "containers", 0, "env", 0, "value"],
  ["request", "object", "spec", "template", "spec", "containers", 0, "command"],
  ["request", "oldObject"],
];

/** A copy of `root` with `value` at `path`, creating what is missing; the root itself for []. */
function replaceAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const node = (typeof root === "object" && root !== null ? root : {}) as Record<string | number, unknown>;
  const copy = (Array.isArray(node) ? [...node] : { ...node }) as Record<string | number, unknown>;
  copy[head] = replaceAt(node[head], rest, value);
  return copy;
}

const validReview = () =>
  admissionReview(
    deployment({
      env: [{ name: "OPENAI_API_KEY", value: "sk-proj-FuZz0123456789abcdefT3BlbkFJghijklmnop0123456789" }],
    }),
    { uid: "fuzz-uid" },
  );
const validText = JSON.stringify(validReview());
const path = fc.constantFrom(...PATHS);

type Case = { category: string; payload: string; contentType?: string };
const json =
  (category: string) =>
  (value: unknown): Case => ({ category, payload: JSON.stringify(value) ?? "" });

const cases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue().map(json("random JSON")) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: "binary", maxLength: 400 }).map((payload) => ({ category: "random text", payload })),
  },
  {
    weight: 3,
    arbitrary: fc
      .nat({ max: validText.length })
      .map((n) => ({ category: "truncated JSON", payload: validText.slice(0, n) })),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(path, fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }))
      .map(([at, value]) => json("wrong type in the review")(replaceAt(validReview(), at, value))),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        operation: fc.constantFrom("CREATE", "UPDATE", "DELETE", "CONNECT"),
        kind: fc.constantFrom("Pod", "Deployment", "CronJob", "ConfigMap", "Widget"),
        namespace: fc.constantFrom("ml-team", "kube-system", "", undefined),
        subResource: fc.constantFrom(undefined, "status", "scale"),
        dryRun: fc.boolean(),
        object: fc.jsonValue({ maxDepth: 4 }),
      })
      .map(({ kind, object, ...request }) => {
        const review = admissionReview({ kind, metadata: { name: "n" } }, { uid: "fuzz-uid", ...request });
        return json("review with a random object")(replaceAt(review, ["request", "object"], object));
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        path,
        fc.oneof(
          fc.integer({ min: 0, max: 70_000 }),
          fc.integer({ min: BODY_LIMIT_BYTES - 20_000, max: BODY_LIMIT_BYTES + 20_000 }),
        ),
        fc.constantFrom("x", "sk-", "\u00e9", '"'),
      )
      .map(([at, length, unit]) =>
        json("huge string")(replaceAt(validReview(), at, unit.repeat(length / unit.length))),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(path, fc.integer({ min: 1, max: 100_000 }), fc.boolean()).map(([at, depth, arrays]) => {
      const [open, close] = arrays ? ["[", "]"] : ['{"a":', "}"];
      const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const marker = '"__deep__"';
      const payload = JSON.stringify(replaceAt(validReview(), at, "__deep__")).replace(marker, nested);
      return { category: "deep nesting", payload };
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          "text/plain",
          "application/yaml",
          "multipart/form-data",
          "application/xml",
          "",
          "application/json; charset=utf-16",
        ),
        fc.string(),
      )
      .map(([contentType, payload]) => ({ category: "content type", payload: payload || validText, contentType })),
  },
);

function uidOf(payload: string): unknown {
  try {
    return JSON.parse(payload)?.request?.uid;
  } catch {
    return undefined;
  }
}

describe("fuzzing POST /validate", () => {
  let h: Awaited<ReturnType<typeof webhookHarness>>;
  beforeAll(async () => {
    h = await webhookHarness({ evaluate });
  });
  afterAll(() => h.app.close());

  it(`answers ${RUNS} malformed and random bodies without a 5xx`, { timeout: 300_000 }, async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(cases, async ({ category, payload, contentType }) => {
        seen.set(category, (seen.get(category) ?? 0) + 1);
        const response = await h.post(payload, contentType);
        const body = response.json();
        if (response.statusCode !== 200) {
          expect([400, 413, 415]).toContain(response.statusCode);
          expect(body).toEqual({ error: expect.any(String), reason: expect.stringMatching(/\S/) });
          return;
        }
        expect(body).toMatchObject({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" });
        expect(body.response.uid).toBe(uidOf(payload));
        expect(typeof body.response.allowed).toBe("boolean");
        if (!body.response.allowed) expect(body.response.status).toMatchObject({ code: 403, reason: "Forbidden" });
        for (const warning of body.response.warnings ?? [])
          expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
      }),
      { numRuns: RUNS },
    );
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(RUNS);
    expect([...seen.keys()].sort()).toEqual(
      [
        "content type",
        "deep nesting",
        "huge string",
        "random JSON",
        "random text",
        "review with a random object",
        "truncated JSON",
        "wrong type in the review",
      ].sort(),
    );
  });
});
