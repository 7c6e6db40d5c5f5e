import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAiApiPolicy } from "../../../src/api/index.ts";
import { formatCsv, formatJson, formatMarkdown } from "../../../src/inventory/format.ts";
import { reviewStatus } from "../../../src/inventory/inventory.ts";
import { inventoryFromFiles } from "../../../src/inventory/sources.ts";
import { folderWith, MAIN, runCli } from "../cli/run.ts";

const EXAMPLES = join(import.meta.dirname, "../../../examples");
const NOW = new Date("2026-11-29T12:00:00Z");
const HEADER =
  "API Name,Endpoint,Auth Type,Data Sensitivity,Owner,Last Reviewed,Review Status,Namespace,Policy,Workloads";

describe("ai-api-guard inventory -f examples/", () => {
  it("prints the CSV with the contract's columns, then namespace, policy and workloads, one row per policy", () => {
    const run = runCli(["inventory", "-f", EXAMPLES]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    const [header, ...rows] = run.stdout.trimEnd().split("\r\n");
    expect(header).toBe(HEADER);
    expect(rows).toHaveLength(4);
    expect(rows).toContainEqual(
      expect.stringMatching(
        /^OpenAI API,https:\/\/api\.openai\.com\/v1,APIKey,High,ML Platform,2026-10-01,(ok|due in \d+ days|overdue by \d+ days),ai-demo,openai,Deployment\/summarizer$/,
      ),
    );
  });

  it("gives every policy its owner, review status and the workloads it selects", async () => {
    const { inventory, errors } = await inventoryFromFiles([EXAMPLES], NOW);
    expect(errors).toEqual([]);
    expect(formatCsv(inventory)).toBe(
      [
        HEADER,
        "Anthropic Messages API,https://api.anthropic.com/v1/messages,APIKey,Critical,Support Engineering,2026-09-15,due in 15 days,ai-demo,anthropic,Deployment/assistant",
        "Company enrichment API,https://api.enrichment.example.com/v2/companies,OAuth2,Low,Growth Team,2026-08-20,overdue by 11 days,ai-demo,enrichment,Deployment/enrichment",
        "In-cluster LLM gateway,https://llm-gateway.ai-demo.svc.cluster.local/v1,JWT,Medium,Platform Team,2026-11-01,ok,ai-demo,llm-gateway,Deployment/rag",
        "OpenAI API,https://api.openai.com/v1,APIKey,High,ML Platform,2026-10-01,ok,ai-demo,openai,Deployment/summarizer",
        "",
      ].join("\r\n"),
    );
    expect(inventory.apis.map((e) => [e.policy, e.workloads])).toEqual([
      ["anthropic", ["Deployment/assistant"]],
      ["enrichment", ["Deployment/enrichment"]],
      ["llm-gateway", ["Deployment/rag"]],
      ["openai", ["Deployment/summarizer"]],
    ]);
    expect(inventory.unregistered).toEqual([]);
  });

  it("prints JSON and markdown with namespaces and workloads", () => {
    const json = JSON.parse(runCli(["inventory", "-f", EXAMPLES, "--format", "json"]).stdout);
    expect(json.apis[3]).toMatchObject({
      namespace: "ai-demo",
      policy: "openai",
      apiName: "OpenAI API",
      workloads: ["Deployment/summarizer"],
    });
    expect(json.unregistered).toEqual([]);
    const markdown = runCli(["inventory", "-f", EXAMPLES, "--format", "markdown"]).stdout.split("\n");
    expect(markdown[0]).toBe(
      "| API Name | Endpoint | Auth Type | Data Sensitivity | Owner | Last Reviewed | Review Status | Namespace | Policy | Workloads |",
    );
    expect(markdown[4]).toMatch(/^\| In-cluster LLM gateway \| .* \| ai-demo \| llm-gateway \| Deployment\/rag \|$/);
  });
});

describe("inventory", () => {
  const policyAt = (lastReviewed: string | undefined, reviewIntervalDays = 90) => {
    const parsed = parseAiApiPolicy({
      apiVersion: "aiapiguard.dev/v1alpha1",
      kind: "AiApiPolicy",
      metadata: { name: "p", namespace: "ml" },
      spec: {
        api: {
          endpoint: "https://api.openai.com/v1",
          authType: "APIKey",
          sensitivity: "Low",
          lastReviewed,
          reviewIntervalDays,
        },
        selector: {},
      },
    });
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.policy;
  };

  it("says ok, due in N days (within 30) or overdue by N days", () => {
    expect(reviewStatus(policyAt("2026-11-01"), NOW)).toBe("ok");
    expect(reviewStatus(policyAt("2026-09-30"), NOW)).toBe("due in 30 days");
    expect(reviewStatus(policyAt("2026-09-01"), NOW)).toBe("due in 1 days");
    expect(reviewStatus(policyAt("2026-08-31"), NOW)).toBe("due in 0 days");
    expect(reviewStatus(policyAt("2026-08-30"), NOW)).toBe("overdue by 1 days");
    expect(reviewStatus(policyAt("2025-11-29", 365), NOW), "an interval of a year").toBe("due in 0 days");
    expect(reviewStatus(policyAt(undefined), NOW)).toBe("never reviewed");
  });

  it("does not call a review dated in the future ok: the date is a typo, as the policy's condition says", () => {
    expect(reviewStatus(policyAt("2062-11-01"), NOW)).toBe("review date in the future");
    // The reviewer's own today at UTC+14 is not in the future.
    expect(reviewStatus(policyAt("2026-11-30"), NOW)).toBe("ok");
  });

  it("lists AI APIs called with no policy, with the workloads that call them, as unregistered rows", async () => {
    const root = folderWith({
      "app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: ml}
spec:
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers: [{name: app, image: chat:1, env: [{name: U, value: "https://api.groq.com/openai/v1"}]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ml}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: j:1, args: ["--url", "https://api.groq.com"]}]
`,
    });
    const { inventory } = await inventoryFromFiles([root], NOW);
    expect(inventory.unregistered).toEqual([
      { namespace: "ml", host: "api.groq.com", provider: "Groq", workloads: ["CronJob/nightly", "Deployment/chat"] },
    ]);
    expect(formatCsv(inventory).split("\r\n")[1]).toBe(
      'Groq,api.groq.com,,,,,unregistered,ml,,"CronJob/nightly, Deployment/chat"',
    );
    expect(formatMarkdown(inventory)).toContain(
      "| Groq | api.groq.com |  |  |  |  | unregistered | ml |  | CronJob/nightly, Deployment/chat |",
    );
    expect(JSON.parse(formatJson(inventory)).unregistered[0].provider).toBe("Groq");
  });

  it("reads a kustomization's generator env files, as scan does: an AI API named only there is in the inventory", async () => {
    const root = folderWith({
      "kustomization.yaml": `namespace: ml
resources: [deployment.yaml]
configMapGenerator:
  - name: llm
    envs: [llm.env]
`,
      "llm.env": "MISTRAL_BASE_URL=https://api.mistral.ai/v1\n",
      "deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: ml}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers: [{name: app, image: chat:1, envFrom: [{configMapRef: {name: llm}}]}]
`,
    });
    const { inventory, errors } = await inventoryFromFiles([root], NOW);
    expect(errors).toEqual([]);
    expect(inventory.unregistered).toEqual([
      { namespace: "ml", host: "api.mistral.ai", provider: "Mistral AI", workloads: ["Deployment/chat"] },
    ]);
  });

  it("orders rows the same whatever the machine's locale (a Danish one sorts aa after z)", () => {
    const policy = (namespace: string) => `apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: openai, namespace: ${namespace}}
spec:
  api: {endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: Low}
  selector: {}
`;
    const root = folderWith({ "a.yaml": policy("zz-team"), "b.yaml": policy("aa-team") });
    const namespaces = (locale: string) => {
      const run = spawnSync(process.execPath, [MAIN, "inventory", "-f", root, "--format", "json"], {
        encoding: "utf8",
        env: { ...process.env, LANG: locale, LC_ALL: locale },
      });
      return JSON.parse(run.stdout).apis.map((e: { namespace: string }) => e.namespace);
    };
    expect(namespaces("da_DK.UTF-8")).toEqual(["aa-team", "zz-team"]);
    expect(namespaces("en_US.UTF-8")).toEqual(["aa-team", "zz-team"]);
  });

  it("quotes CSV fields and defuses spreadsheet formulas", async () => {
    const root = folderWith({
      "p.yaml": `apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: p, namespace: ml}
spec:
  api: {displayName: 'Chat, "v2"', endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: Low, owner: "=HYPERLINK(1)"}
  selector: {}
`,
    });
    const { inventory } = await inventoryFromFiles([root], NOW);
    expect(formatCsv(inventory).split("\r\n")[1]).toBe(
      `"Chat, ""v2""",https://api.openai.com/v1,APIKey,Low,'=HYPERLINK(1),,never reviewed,ml,p,`,
    );
  });

  it("defuses formulas after a semicolon, the separator spreadsheets use in many locales", async () => {
    // Excel in a German or French locale opens a .csv with ";" between cells: before, the owner below was
    // written as is, and its second cell ran a DDE command when the inventory was opened.
    const root = folderWith({
      "p.yaml": `apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: p, namespace: ml}
spec:
  api: {displayName: "Chat;+1", endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: Low, owner: "ML;=cmd|' /C calc'!A0"}
  selector: {}
`,
    });
    const { inventory } = await inventoryFromFiles([root], NOW);
    const row = formatCsv(inventory).split("\r\n")[1] ?? "";
    for (const separator of [",", ";", "\t"]) {
      const cells = spreadsheetCells(row, separator);
      expect(
        cells.filter((cell) => /^[=+\-@]/.test(cell)),
        `cells split at ${JSON.stringify(separator)}`,
      ).toEqual([]);
    }
    expect(spreadsheetCells(row, ",").slice(0, 5)).toEqual([
      "Chat;'+1",
      "https://api.openai.com/v1",
      "APIKey",
      "Low",
      "ML;'=cmd|' /C calc'!A0",
    ]);
  });

  it("names an invalid policy and exits 2, still printing the rest", () => {
    const root = folderWith({
      "bad.yaml":
        "apiVersion: aiapiguard.dev/v1alpha1\nkind: AiApiPolicy\nmetadata: {name: bad, namespace: ml}\nspec: {api: {endpoint: 'http://x'}}\n",
    });
    const run = runCli(["inventory", "-f", root, "-f", EXAMPLES]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.yaml: AiApiPolicy ml\/bad: spec\.api\.endpoint: must start with https:\/\//);
    expect(run.stdout.split("\r\n")).toHaveLength(6);
  });

  it("names an invalid policy and its namespace named with keys by their hints", () => {
    // Made at run time: a DeepSeek key is a valid namespace and policy name.
    const [namespace, name] = [0, 1].map(() => `sk-${randomBytes(16).toString("hex")}`) as [string, string];
    const root = folderWith({
      "bad.yaml": `apiVersion: aiapiguard.dev/v1alpha1\nkind: AiApiPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: {api: {endpoint: 'http://x'}}\n`,
    });
    const run = runCli(["inventory", "-f", root]);
    const hint = (key: string) => `<DeepSeek API key ending …${key.slice(-4)}>`;
    expect(run.stderr).toContain(`bad.yaml: AiApiPolicy ${hint(namespace)}/${hint(name)}: spec.api.endpoint`);
    for (const key of [namespace, name]) expect(run.stderr).not.toContain(key.slice(3, -4));
  });

  it("refuses usage errors and unreadable paths with exit 2", () => {
    expect(runCli(["inventory", "-f", EXAMPLES, "--format", "xml"]).stderr).toContain('unknown format "xml"');
    expect(runCli(["inventory", "-f", EXAMPLES, "-n", "x"]).code).toBe(2);
    expect(runCli(["inventory", "-f", "/nonexistent"]).stderr).toContain(
      "/nonexistent: cannot read: no such file or folder",
    );
  });
});

/** A CSV line's cells as a spreadsheet reads them with `separator`: RFC 4180 quotes honoured. */
function spreadsheetCells(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
