// Every pattern must stay linear on hostile input: 1 MB values built to make a backtracking regex
// blow up (long runs of token characters, repeated prefixes with no end) must each finish quickly.
// The bound is generous on purpose: it catches exponential or quadratic blow-ups, not slow machines.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { deployment } from "./build.ts";

const MB = 1 << 20;
const fill = (unit: string, prefix = "", suffix = "") =>
  prefix + unit.repeat(Math.ceil((MB - prefix.length - suffix.length) / unit.length)) + suffix;

const HOSTILE: Record<string, string> = {
  "one character": fill("a"),
  "hex digits": fill("0f"),
  "OpenAI prefixes": fill("sk-proj-"),
  "OpenAI prefix, no marker": fill("A", "sk-proj-"),
  "OpenAI marker runs": fill("T3BlbkFJ", "sk-proj-"),
  "Anthropic prefixes": fill("sk-ant-api03-"),
  "AWS key id prefixes": fill("AKIA"),
  "GitHub prefixes": fill("ghp_"),
  "Slack prefixes": fill("xoxb-"),
  "Slack webhook": fill("T0000000/", "hooks.slack.com/services/"),
  "JWT starts": fill("eyJ"),
  "JWT, no second dot": fill("a", "eyJhbGciOiJIUzI1NiJ9.eyJ"),
  "JWT dots": fill("eyJa."),
  "PEM header then spaces": fill(" ", "-----BEGIN RSA PRIVATE KEY-----"),
  "PEM headers": fill("-----BEGIN PRIVATE KEY-----"),
  "base64 PEM": fill("A", "LS0tLS1CRUdJTi"),
  "URL schemes": fill("http://"),
  "lenient URL slashes": fill("http:\\/"),
  "lenient URL schemes": fill("http:/"),
  "URL, no path end": fill("a", "http://"),
  "userinfo without host": fill("a:a", "postgres://"),
  "scheme-like runs": fill("a+b.c-"),
  "bearer headers": fill("Bearer "),
  "bearer token run": fill("A", "Authorization: Bearer "),
  assignments: fill("key="),
  "chained assignments": fill("a=a:"),
  "one long assignment line": fill("Zq8", "api_key: "),
  "JSON keys": fill('"apiKey":'),
  "JSON pair, no end quote": fill("a", '"apiKey": "'),
  flags: fill("--api-key "),
  "header names": fill("X-Api-Key: "),
  references: fill("$("),
  "subscript assignments": fill('["api_key"]="'),
  "setdefault, no end quote": fill("a", 'os.environ.setdefault("API_KEY", "'),
  "references to a literal var": fill("$(API_TOKEN)"),
  "URLs to a literal host var": fill("http://$(API_TOKEN)/"),
  templates: fill("{{"),
  "angle brackets": fill("<a"),
  "repeated character groups": fill("ab"),
  "path segments": fill("a/"),
  "many lines": fill("token = Zq8Lw3Nv7Tx2Kp5R\n"),
  "YAML names with nothing below": fill("  api_key: >-\n\n\n\n"),
};

describe("linear-time patterns", () => {
  for (const [name, value] of Object.entries(HOSTILE)) {
    it(`finishes on 1 MB of ${name}`, () => {
      const started = performance.now();
      const env = evaluate(deployment({ env: [{ name: "API_TOKEN", value }], args: [value] }));
      const data = evaluate({ kind: "ConfigMap", metadata: { name: "c" }, data: { "app.env": value } });
      const elapsed = performance.now() - started;
      expect(env.unreadable ?? data.unreadable).toBeUndefined();
      expect(elapsed).toBeLessThan(5_000);
    });
  }
});
