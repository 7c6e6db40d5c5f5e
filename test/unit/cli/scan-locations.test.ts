// Where scan says a finding is: the line (and, in SARIF, the column) a CI annotation or an editor marks.
import { describe, expect, it } from "vitest";
import { lineFinding } from "../../../src/cli/scan/locate.ts";
import { fakeSecrets, seeded } from "../../support/fake-secrets.ts";
import { folderWith, runCli } from "./run.ts";

const fake = fakeSecrets(31);
const openai = fake.openai ?? "";
const token = seeded(31)(40);

type Region = { startLine: number; startColumn?: number };

/** Each SARIF result's path and region, and the JSON report's line for it. */
function located(files: Record<string, string>): { path: string; region: Region; line: number }[] {
  const root = folderWith(files);
  const sarif = JSON.parse(runCli(["scan", "-f", "sarif", root]).stdout);
  const json = JSON.parse(runCli(["scan", "-f", "json", root]).stdout);
  return sarif.runs[0].results.map(
    (
      r: { locations: { physicalLocation: { region: Region }; logicalLocations: { name: string }[] }[] },
      i: number,
    ) => ({
      path: r.locations[0]?.logicalLocations[0]?.name,
      region: r.locations[0]?.physicalLocation.region,
      line: json.findings[i].line,
    }),
  );
}

const at = (text: string, needle: string) => {
  const lines = text.split("\n");
  const index = lines.findIndex((l) => l.includes(needle));
  return { startLine: index + 1, startColumn: (lines[index] ?? "").search(/\S/) + 1 };
};

describe("scan locates a finding in a block scalar at the line that holds it", () => {
  it("in a literal block (|), a folded one (>-), and at the key where the value is split over lines", () => {
    const configMap = `apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data:
  app.env: |
    LOG_LEVEL=info
    REGION=eu-west-1

    OPENAI_API_KEY=${openai}
    TIMEOUT=30
  tls.key: |
${(fake.pem ?? "").replace(/^/gm, "    ")}
`;
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  containers:
    - name: curl
      image: curl:8
      args:
        - >-
          curl -s https://api.example.com/v1/models
          -H "X-Key: ${openai}"
          -o /dev/null
        - >-
          curl -H "Authorization: Bearer
          ${token}" https://api.example.com/v1
`;
    const found = located({ "configmap.yaml": configMap, "pod.yaml": pod });
    // Before: every one of them at its key's line (app.env: |, - >-).
    expect(found).toEqual([
      {
        path: 'data["app.env"]',
        region: at(configMap, "OPENAI_API_KEY="),
        line: at(configMap, "OPENAI_API_KEY=").startLine,
      },
      // A private key is split over its lines: no one line holds it, so it stays at its key (the `|`).
      {
        path: 'data["tls.key"]',
        region: { startLine: at(configMap, "tls.key").startLine, startColumn: "  tls.key: |".length },
        line: at(configMap, "tls.key").startLine,
      },
      {
        path: "spec.containers[0].args[0]",
        region: at(pod, "X-Key"),
        line: at(pod, "X-Key").startLine,
      },
      // Folded, "Bearer" and its token are one value on two lines: the value's line.
      {
        path: "spec.containers[0].args[1]",
        region: { startLine: at(pod, "Bearer").startLine - 1, startColumn: 11 },
        line: at(pod, "Bearer").startLine - 1,
      },
    ]);
  });

  it("in a List's item too (kubectl get -o yaml)", () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: app}
    data:
      run.sh: |
        #!/bin/sh
        export OPENAI_API_KEY=${openai}
        exec app
`;
    expect(located({ "list.yaml": list })).toEqual([
      { path: 'items[0].data["run.sh"]', region: at(list, "export"), line: at(list, "export").startLine },
    ]);
  });
});

describe("lineFinding", () => {
  const finds = (needle: string, calls: string[]) => (text: string) => {
    calls.push(text);
    return text.includes(needle);
  };
  it("finds the first line that gives the finding, trying about 2·log2(n) texts instead of every line", () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `echo step ${i}`);
    lines[19_990] = "export KEY=abc";
    lines[19_995] = "export KEY=abc";
    const calls: string[] = [];
    expect(lineFinding(lines, finds("KEY=abc", calls))).toBe(19_990);
    expect(calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(20_000)) + 1);
  });
  it("says -1 when only lines joined give it (a value split over lines), and for one line that does not", () => {
    expect(lineFinding(["Bearer", "abc", "x", "y"], (text) => text.includes("Bearer\nabc"))).toBe(-1);
    expect(lineFinding(["nothing"], () => false)).toBe(-1);
    expect(lineFinding(["it"], (text) => text === "it")).toBe(0);
  });
});
