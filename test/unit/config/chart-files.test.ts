import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { crdYaml } from "../../../src/api/index.ts";
import {
  configurationTable,
  readmeWithTable,
  settingsEnvTemplate,
  valuesSchemaJson,
  valuesYaml,
  webhookTemplate,
} from "../../../src/config/chart-files.ts";
import { defaults, type Tree, valuesSchema, valuesTree } from "../../../src/config/chart-values.ts";
import { envName, info, SETTING_KEYS } from "../../../src/config/settings.ts";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const chart = "charts/ai-api-guard/";

describe("generated files stay in step with src/config/ (run `npm run generate` and commit when one fails)", () => {
  it.each([
    [`${chart}values.yaml`, valuesYaml],
    [`${chart}values.schema.json`, valuesSchemaJson],
    [`${chart}templates/_settings.tpl`, settingsEnvTemplate],
    [`${chart}templates/validatingwebhookconfiguration.yaml`, webhookTemplate],
    [`${chart}crds/aiapipolicies.aiapiguard.dev.yaml`, crdYaml],
  ])("%s", (path, generate) => {
    expect(read(path) === generate(), `${path} is out of date: run \`npm run generate\``).toBe(true);
  });

  it("the chart's CRD is byte for byte the top-level crds/ one", () => {
    expect(read(`${chart}crds/aiapipolicies.aiapiguard.dev.yaml`)).toBe(read("crds/aiapipolicies.aiapiguard.dev.yaml"));
  });

  it("the README's configuration table", () => {
    const readme = read("README.md");
    expect(readme === readmeWithTable(readme), "README.md's configuration table is out of date").toBe(true);
  });
});

describe("the chart's values", () => {
  it("values.yaml holds every default, and the schema accepts exactly it", () => {
    const values = parse(valuesYaml());
    expect(values).toEqual(defaults());
    expect(valuesSchema().safeParse(values).success).toBe(true);
  });

  it("every value and group is commented in values.yaml", () => {
    const paths = (tree: Tree, prefix: string): string[] =>
      Object.entries(tree).flatMap(([key, node]) => [
        `${prefix}${key}`,
        ...(node instanceof z.ZodType ? [] : paths(node.children, `${prefix}${key}.`)),
      ]);
    const commented = new Set<string>();
    const stack: string[] = [];
    const lines = valuesYaml().split("\n");
    lines.forEach((line, i) => {
      const match = /^( *)([A-Za-z]+):/.exec(line);
      if (!match) return;
      const depth = (match[1]?.length ?? 0) / 2;
      stack.length = depth;
      stack.push(match[2] ?? "");
      if ((lines[i - 1] ?? "").trimStart().startsWith("#")) commented.add(stack.join("."));
    });
    expect(paths(valuesTree, "").filter((path) => !commented.has(path))).toEqual([]);
  });

  it("the schema refuses a misspelt value and a wrong type, naming the path", () => {
    const result = valuesSchema().safeParse({ webhook: { failurePolicy: "Fial" }, replicas: 3 });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join(".") || issue.message);
    expect(paths).toEqual(expect.arrayContaining(["webhook.failurePolicy"]));
    expect(JSON.stringify(result.error?.issues)).toContain("replicas");
  });

  it("values.schema.json is draft-07 JSON Schema, as Helm reads it", () => {
    const schema = JSON.parse(valuesSchemaJson());
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.webhook.properties.failurePolicy.enum).toEqual(["Fail", "Ignore"]);
  });
});

describe("the container's environment", () => {
  it("sets every setting the chart knows, under the name the command line reads", () => {
    const names = [...settingsEnvTemplate().matchAll(/- name: (\S+)/g)].map((m) => m[1]);
    const expected = SETTING_KEYS.filter((key) => info(key).chart !== "none").map(envName);
    expect(names).toEqual(expected);
    expect(expected).not.toContain("AI_API_GUARD_KUBECONFIG");
    expect(names).toContain("POD_NAMESPACE");
  });

  it("the configuration table lists every setting once", () => {
    const table = configurationTable();
    for (const key of SETTING_KEYS) expect(table.split(new RegExp(`^\\| \`--${key}\` +\\|`, "m")).length, key).toBe(2);
  });
});

describe("the chart's webhook configuration", () => {
  it("is the out-of-cluster one with a Service target, no caBundle and templated per-install fields", () => {
    const template = webhookTemplate();
    expect(template).toContain('name: {{ include "ai-api-guard.fullname" . }}');
    expect(template).toContain("namespace: {{ .Release.Namespace }}");
    expect(template).toContain('values: {{ include "ai-api-guard.exemptNamespaces" . }}');
    expect(template).toContain("failurePolicy: {{ .Values.webhook.failurePolicy }}");
    expect(template).not.toContain("caBundle");
    expect(template).not.toContain("@@");
  });
});
