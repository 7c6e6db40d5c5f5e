import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { credentialsMountPath, endpointHost, parseAiApiPolicy, reviewState } from "../../../src/api/index.ts";
import {
  INVALID_SPECS,
  invalidPolicy,
  MINIMAL_SPEC_DEFAULTED,
  minimalPolicy,
  validPolicy,
} from "../../fixtures/policies.ts";

function parsed(raw: unknown) {
  const result = parseAiApiPolicy(raw);
  if (!result.ok) throw new Error(result.error);
  return result.policy;
}

describe("parseAiApiPolicy", () => {
  it("accepts a full policy and keeps metadata it does not model", () => {
    const raw = validPolicy("full", "team");
    const policy = parsed({ ...raw, metadata: { ...raw.metadata, uid: "u-1", finalizers: ["x"] } });
    expect(policy.spec.api.endpoint).toBe("https://api.example.com/v1");
    expect(policy.metadata.finalizers).toEqual(["x"]);
  });

  it("applies every default, as the API server does", () => {
    expect(parsed(minimalPolicy("min")).spec).toEqual(MINIMAL_SPEC_DEFAULTED);
  });

  it("accepts a status in the metav1.Condition shape", () => {
    const status = {
      observedGeneration: 2,
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "SecretNotFound",
          message: "create it",
          lastTransitionTime: "2026-11-27T10:00:00Z",
        },
      ],
      workloads: { count: 1, names: ["Deployment/caller"] },
      networkPolicy: "aiapiguard-p",
    };
    expect(parsed({ ...validPolicy("p"), status }).status).toEqual(status);
  });

  it("refuses the wrong kind or apiVersion", () => {
    expect(parseAiApiPolicy({ ...validPolicy("p"), kind: "Pod" })).toMatchObject({ ok: false, error: /^kind: / });
    expect(parseAiApiPolicy({ ...validPolicy("p"), apiVersion: "v1" })).toMatchObject({
      ok: false,
      error: /^apiVersion: /,
    });
    expect(parseAiApiPolicy(null)).toMatchObject({ ok: false, error: /^\(object\): / });
  });

  it.each(INVALID_SPECS)("refuses $name, naming $field", (c) => {
    const result = parseAiApiPolicy(invalidPolicy(c, "bad"));
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toContain(`${c.field}`);
  });

  it("accepts IPv6 CIDRs and refuses non-canonical spellings isCIDR() refuses", () => {
    const withCidrs = (cidrs: string[]) => {
      const p = validPolicy("p");
      p.spec.egress.cidrs = cidrs;
      return parseAiApiPolicy(p).ok;
    };
    expect(withCidrs(["2001:db8::/32", "10.0.0.0/8", "0.0.0.0/0"])).toBe(true);
    expect(withCidrs(["010.0.0.0/8"])).toBe(false);
    expect(withCidrs(["10.0.0.0/08"])).toBe(false);
    expect(withCidrs(["10.0.0.0"])).toBe(false);
    expect(withCidrs(["2001:db8::/129"])).toBe(false);
  });
});

describe("the examples", () => {
  const dir = new URL("../../../examples/", import.meta.url);
  const policies = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, dir), "utf8")).map((d) => ({ file: f, doc: d.toJS() })))
    .filter(({ doc }) => doc?.kind === "AiApiPolicy");

  it("cover the four common cases", () => {
    expect(policies.map((p) => p.doc.metadata.name).sort()).toEqual([
      "anthropic",
      "enrichment",
      "llm-gateway",
      "openai",
    ]);
  });

  it.each(policies)("$file is a valid policy in namespace ai-demo", ({ doc }) => {
    expect(parsed(doc).metadata.namespace).toBe("ai-demo");
  });
});

describe("derived values", () => {
  it("endpointHost is the endpoint's host name, lower case, without port", () => {
    const policy = validPolicy("p");
    policy.spec.api.endpoint = "https://API.Example.com:8443/v1";
    expect(endpointHost(parsed(policy))).toBe("api.example.com");
  });

  it("credentialsMountPath defaults to /var/run/secrets/ai-api/<policy name>", () => {
    expect(credentialsMountPath(parsed(minimalPolicy("min")))).toBe("/var/run/secrets/ai-api/min");
    expect(credentialsMountPath(parsed(validPolicy("p")))).toBe("/var/run/secrets/ai-api/caller");
  });

  describe("reviewState", () => {
    const reviewed = (lastReviewed: string | undefined, days = 90) => {
      const p = validPolicy("p");
      Object.assign(p.spec.api, { lastReviewed, reviewIntervalDays: days });
      return parsed(p);
    };
    const now = new Date("2026-06-01T12:00:00Z");

    it("is Current up to and including the due date", () => {
      expect(reviewState(reviewed("2026-03-03"), now)).toEqual({ state: "Current", due: "2026-06-01" });
    });

    it("is Overdue the day after", () => {
      expect(reviewState(reviewed("2026-03-02"), now)).toEqual({ state: "Overdue", due: "2026-05-31" });
    });

    it("is NeverReviewed without a date", () => {
      expect(reviewState(reviewed(undefined), now)).toEqual({ state: "NeverReviewed" });
    });

    it("is InFuture for a date after today in every time zone, which the API server cannot refuse", () => {
      expect(reviewState(reviewed("2026-06-03"), now)).toEqual({ state: "InFuture" });
      // At 12:00 UTC it is already 2 June at UTC+14.
      expect(reviewState(reviewed("2026-06-02"), now).state).toBe("Current");
      expect(reviewState(reviewed("2026-06-01"), now).state).toBe("Current");
    });
  });
});
