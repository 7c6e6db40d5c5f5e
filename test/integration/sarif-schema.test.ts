// scan's SARIF against the official OASIS SARIF 2.1.0 schema (from go-sarif's Go module), validated by ajv:
// the shape GitHub code scanning and other SARIF readers take, checked by what no one here wrote.
import { join } from "node:path";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { sarifSchema } from "../support/tools.ts";
import { deploymentYaml, folderWith, runCli } from "../unit/cli/run.ts";

const fake = fakeSecrets(47);

describe("scan --format sarif", () => {
  let validate: (sarif: unknown) => string[];
  beforeAll(async () => {
    // strict off: the schema is draft-04 as OASIS wrote it; its formats (uri, uri-reference, date-time) are checked.
    // CommonJS modules: each one's export is its default export's `default`.
    const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
    ajvFormats.default(ajv);
    const check = ajv.compile(await sarifSchema());
    validate = (sarif) => (check(sarif) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
  });

  it("is valid SARIF 2.1.0 with findings, an exempt one, and input errors", () => {
    const root = folderWith({
      "deploy/web.yaml": deploymentYaml("web", {
        OPENAI_API_KEY: fake.openai ?? "",
        LLM_URL: "http://api.openai.com/v1",
      }),
      "deploy/exempt.yaml": deploymentYaml(
        "exempt",
        { LLM_URL: "http://api.openai.com/v1" },
        "  annotations:\n    aiapiguard.dev/exempt: plaintext-endpoint\n",
      ),
      "deploy/broken.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: [unclosed\n",
    });
    const run = runCli(["scan", "-f", "sarif", join(root, "deploy")]);
    expect(run.code).toBe(2);
    const sarif = JSON.parse(run.stdout);
    // The run must hold what the schema is asked about, or a valid but empty file would pass.
    expect(sarif.runs[0].results.length).toBeGreaterThanOrEqual(3);
    expect(sarif.runs[0].results.some((r: { suppressions?: unknown }) => r.suppressions)).toBe(true);
    expect(sarif.runs[0].invocations[0].toolExecutionNotifications).toHaveLength(1);
    expect(validate(sarif)).toEqual([]);
  });

  it("is valid SARIF 2.1.0 for a clean scan of stdin", () => {
    const run = runCli(["scan", "-f", "sarif", "-"], deploymentYaml("clean", { LOG_LEVEL: "info" }));
    expect(run.code).toBe(0);
    const sarif = JSON.parse(run.stdout);
    expect(sarif.runs[0].results).toEqual([]);
    expect(validate(sarif)).toEqual([]);
  });

  it("the schema refuses what is not SARIF (the check can fail)", () => {
    const run = runCli(["scan", "-f", "sarif", "-"], deploymentYaml("clean", { LOG_LEVEL: "info" }));
    const sarif = JSON.parse(run.stdout);
    expect(validate({ ...sarif, version: "2.0.0" })).not.toEqual([]);
    expect(validate({ ...sarif, runs: [{ ...sarif.runs[0], originalUriBaseIds: { SRC: { uri: "a b:c" } } }] })).toEqual(
      ['/runs/0/originalUriBaseIds/SRC/uri must match format "uri-reference"'],
    );
    sarif.runs[0].results = [{ ruleId: "hardcoded-secret", locations: "deploy/web.yaml" }];
    expect(validate(sarif).join("\n")).toContain("/runs/0/results/0");
  });
});
