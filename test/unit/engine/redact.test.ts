import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { redactedHint } from "../../../src/engine/redact.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { deployment } from "./build.ts";

describe("redaction", () => {
  it("shows the label and at most the last 4 characters", () => {
    expect(redactedHint("OpenAI API key", "abcdefghijklmnopqrstuvwxyza1B2")).toBe('OpenAI API key ending "…a1B2"');
  });

  it("shows no characters of short values", () => {
    expect(redactedHint("password in DB_PASSWORD", "Winter2024!")).toBe("password in DB_PASSWORD (redacted)");
  });

  it("never puts a value, or its start, into a finding", () => {
    const secrets = Object.values(fakeSecrets(4));
    const env = secrets.map((value, i) => ({ name: `SECRET_${i}_TOKEN`, value }));
    const { findings } = evaluate(deployment({ env }));
    expect(findings.length).toBeGreaterThanOrEqual(secrets.length);
    const text = JSON.stringify(findings);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 8));
      expect(text).not.toContain(secret.slice(-8));
    }
  });
});
