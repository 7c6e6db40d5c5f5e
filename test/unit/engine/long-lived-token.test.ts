import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { FAKE_NOW, fakeJwt, fakeSecrets, seeded } from "../../support/fake-secrets.ts";
import { deployment, envFindings, rulesOf } from "./build.ts";

const fake = fakeSecrets(2);
const nowSeconds = FAKE_NOW.getTime() / 1000;

describe("long-lived-token", () => {
  it("flags a JWT without exp, on top of the hardcoded secret", () => {
    const findings = envFindings("SERVICE_TOKEN", fake["jwt-no-exp"] ?? "");
    expect(rulesOf(findings)).toEqual(["hardcoded-secret", "long-lived-token"]);
    expect(findings[1]?.category).toBe("hardcoded-secret");
    expect(findings[1]?.message).toContain("no exp");
  });

  it("flags a lifetime over 24 h, measured from iat", () => {
    const findings = envFindings("SERVICE_TOKEN", fake["jwt-year"] ?? "");
    expect(rulesOf(findings)).toEqual(["hardcoded-secret", "long-lived-token"]);
    expect(findings[1]?.message).toContain("8760 h");
  });

  it("measures from context.now when the token has no iat", () => {
    const token = fakeJwt({ sub: "x", exp: nowSeconds + 2 * 86400 }, seeded(5));
    expect(rulesOf(envFindings("T", token, { now: FAKE_NOW }))).toEqual(["hardcoded-secret", "long-lived-token"]);
    const later = new Date(FAKE_NOW.getTime() + 36 * 3600 * 1000);
    expect(rulesOf(envFindings("T", token, { now: later }))).toEqual(["hardcoded-secret"]);
  });

  it("does not flag a token that lives 24 h or less", () => {
    expect(rulesOf(envFindings("SERVICE_TOKEN", fake["jwt-hour"] ?? ""))).toEqual(["hardcoded-secret"]);
    const day = fakeJwt({ iat: nowSeconds, exp: nowSeconds + 86400 }, seeded(6));
    expect(rulesOf(envFindings("SERVICE_TOKEN", day))).toEqual(["hardcoded-secret"]);
  });

  it("finds a JWT inside a shell string", () => {
    const script = `curl -H "Authorization: Bearer ${fake["jwt-no-exp"]}" https://api.example.com/jobs`;
    const findings = evaluate(deployment({ args: [script] }), { now: FAKE_NOW }).findings;
    expect(rulesOf(findings)).toEqual(["hardcoded-secret", "long-lived-token"]);
  });
});
