import { describe, expect, it } from "vitest";
import { formatJson } from "../../../src/cli/scan/format-json.ts";
import { formatSarif } from "../../../src/cli/scan/format-sarif.ts";
import { formatText } from "../../../src/cli/scan/format-text.ts";
import type { ScanReport } from "../../../src/cli/scan/report.ts";
import { EXEMPT_ANNOTATION, evaluate } from "../../../src/engine/index.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";

const fake = fakeSecrets(21);

function report(): ScanReport {
  const deployment = {
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", annotations: { [EXEMPT_ANNOTATION]: "plaintext-endpoint" } },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "app",
              env: [
                { name: "GROQ_API_KEY", value: fake.groq },
                { name: "U", value: "http://api.example.com" },
              ],
            },
          ],
        },
      },
    },
  };
  const findings = evaluate(deployment).findings.map((f, i) => ({ ...f, file: "deploy/web.yaml", line: 10 + i }));
  const errors = [{ file: "deploy/bad.yaml", line: 3, message: "invalid YAML: x" }];
  return { findings, errors, notes: [], files: 2, objects: 1 };
}

describe("JSON report", () => {
  it("has the PRODUCT.md shape", () => {
    const out = JSON.parse(formatJson(report()));
    expect(Object.keys(out)).toEqual(["findings", "summary"]);
    expect(out.findings[0]).toEqual({
      file: "deploy/web.yaml",
      resource: "Deployment/shop/web",
      container: "app",
      path: "spec.template.spec.containers[0].env[0].value",
      rule: "hardcoded-secret",
      category: "hardcoded-secret",
      severity: "critical",
      message: expect.stringContaining("Groq API key ending"),
      fix: expect.stringContaining("secretKeyRef"),
      exempt: false,
      line: 10,
    });
    expect(out.summary).toEqual({
      files: 2,
      objects: 1,
      findings: 1,
      exempt: 1,
      byRule: { "hardcoded-secret": 1 },
      bySeverity: { critical: 1 },
      errors: [{ file: "deploy/bad.yaml", line: 3, message: "invalid YAML: x" }],
    });
  });
});

describe("SARIF report", () => {
  const sarif = JSON.parse(formatSarif(report()));
  const run = sarif.runs[0];

  it("is SARIF 2.1.0 with metadata for every rule, help being the fix", () => {
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toContain("sarif-2.1.0");
    expect(run.tool.driver.name).toBe("ai-api-guard");
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual([
      "hardcoded-secret",
      "credentials-in-url",
      "plaintext-endpoint",
      "long-lived-token",
      "unregistered-ai-api",
    ]);
    for (const rule of run.tool.driver.rules) {
      expect(rule.help.text.length).toBeGreaterThan(20);
      expect(rule.properties["security-severity"]).toMatch(/^\d+\.\d$/);
    }
  });

  it("locates each result by file and line, and suppresses exempt ones", () => {
    expect(run.results).toHaveLength(2);
    const [secret, endpoint] = run.results;
    expect(secret).toMatchObject({ ruleId: "hardcoded-secret", ruleIndex: 0, level: "error" });
    expect(secret.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "deploy/web.yaml" },
      region: { startLine: 10 },
    });
    expect(secret.suppressions).toBeUndefined();
    expect(endpoint).toMatchObject({ ruleId: "plaintext-endpoint", ruleIndex: 2, level: "warning" });
    expect(endpoint.suppressions).toEqual([{ kind: "inSource", justification: "aiapiguard.dev/exempt annotation" }]);
  });

  it("carries input errors as the invocation's notifications, and says the execution was not successful", () => {
    // Before: no invocations at all, so a CI that uploads only SARIF showed a broken file as a clean scan.
    expect(run.invocations).toEqual([
      {
        executionSuccessful: false,
        toolExecutionNotifications: [
          {
            level: "error",
            message: { text: "invalid YAML: x" },
            locations: [
              { physicalLocation: { artifactLocation: { uri: "deploy/bad.yaml" }, region: { startLine: 3 } } },
            ],
          },
        ],
      },
    ]);
    const clean = JSON.parse(formatSarif({ ...report(), errors: [] }));
    expect(clean.runs[0].invocations).toEqual([{ executionSuccessful: true, toolExecutionNotifications: [] }]);
  });

  it("turns absolute paths into file URIs and names stdin", () => {
    const base = report();
    const uris = (file: string) => {
      const out = JSON.parse(formatSarif({ ...base, findings: base.findings.map((f) => ({ ...f, file })) }));
      return out.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri;
    };
    expect(uris("/srv/k8s/my app.yaml")).toBe("file:///srv/k8s/my%20app.yaml");
    expect(uris("<stdin>")).toBe("stdin");
  });

  it("escapes # and ? in a relative path, which would otherwise end the URI's path", () => {
    const base = report();
    const out = JSON.parse(
      formatSarif({ ...base, findings: base.findings.map((f) => ({ ...f, file: "ci #1?/a%b.yaml" })) }),
    );
    // Before: "ci%20#1?/a%25b.yaml", a path "ci%20" with a fragment.
    expect(out.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe("ci%20%231%3F/a%25b.yaml");
  });
});

describe("text report", () => {
  it("groups by file and resource, with the fix for each finding", () => {
    const text = formatText(report(), { color: false });
    const lines = text.split("\n");
    expect(lines[0]).toBe("deploy/web.yaml");
    expect(lines[1]).toBe("  Deployment/shop/web");
    expect(lines[2]).toMatch(
      /^ {4}critical hardcoded-secret: container "app" env GROQ_API_KEY: hardcoded Groq API key ending/,
    );
    expect(lines[3]).toBe("      at line 10, spec.template.spec.containers[0].env[0].value");
    expect(lines[4]).toMatch(/^ {6}fix: Store it in a Secret/);
    expect(lines[5]).toMatch(/^ {4}exempt plaintext-endpoint: /);
    expect(text).toContain("1 finding (1 hardcoded-secret) in 1 object in 2 files, 1 exempt, 1 input error");
    expect(text).not.toContain("\u001b[");
  });

  it("colours only when asked", () => {
    expect(formatText(report(), { color: true })).toContain("\u001b[");
  });

  it("says so when there is nothing to report", () => {
    expect(formatText({ findings: [], errors: [], notes: [], files: 3, objects: 7 }, { color: false })).toBe(
      "no findings in 7 objects in 3 files\n",
    );
  });
});
