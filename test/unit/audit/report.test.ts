import { describe, expect, it } from "vitest";
import {
  type AuditFinding,
  announcedIn,
  buildReport,
  LEFT_OUT_DIGESTS,
  MAX_LEFT_OUT_DIGESTS,
  MAX_REPORT_BYTES,
  MAX_RESULTS,
  RESULTS_LEFT_OUT,
  reportChanged,
} from "../../../src/audit/report.ts";
import { inLocale } from "../locale.ts";

const finding = (name: string, over: Partial<AuditFinding> = {}): AuditFinding => ({
  rule: "hardcoded-secret",
  category: "hardcoded-secret",
  severity: "critical",
  resource: `Deployment/ml/${name}`,
  kind: "Deployment",
  namespace: "ml",
  name,
  container: "app",
  path: "spec.template.spec.containers[0].env[0].value",
  provider: "OpenAI API key",
  hint: 'OpenAI API key ending "…a1B2"',
  message: 'container "app" env KEY: hardcoded OpenAI API key ending "…a1B2"',
  fix: "Store it in a Secret.",
  exempt: false,
  apiVersion: "apps/v1",
  uid: `uid-${name}`,
  policies: [],
  ...over,
});

const T1 = new Date("2026-11-29T10:00:00Z");
const T2 = new Date("2026-11-29T10:10:00Z");

describe("audit reports", () => {
  it("are OpenReports Reports with a result per finding and a summary; exempt findings are skipped", () => {
    const report = buildReport("openreports", "ml", [finding("b"), finding("a", { exempt: true })], T1);
    expect(report).toMatchObject({
      apiVersion: "openreports.io/v1alpha1",
      kind: "Report",
      metadata: { name: "ai-api-guard", namespace: "ml", labels: { "app.kubernetes.io/managed-by": "ai-api-guard" } },
      summary: { pass: 0, fail: 1, warn: 0, error: 0, skip: 1 },
    });
    expect(report.results.map((r) => [r.resources[0]?.name, r.result])).toEqual([
      ["a", "skip"],
      ["b", "fail"],
    ]);
    expect(report.results[1]).toMatchObject({
      source: "ai-api-guard",
      policy: "hardcoded-secret",
      properties: {
        path: "spec.template.spec.containers[0].env[0].value",
        container: "app",
        provider: "OpenAI API key",
      },
      resources: [{ apiVersion: "apps/v1", kind: "Deployment", namespace: "ml", name: "b", uid: "uid-b" }],
      timestamp: { seconds: T1.getTime() / 1000, nanos: 0 },
    });
  });

  it("are wgpolicyk8s PolicyReports with reports.format wgpolicyk8s", () => {
    const report = buildReport("wgpolicyk8s", "ml", [finding("a")], T1);
    expect([report.apiVersion, report.kind]).toEqual(["wgpolicyk8s.io/v1alpha2", "PolicyReport"]);
  });

  it("keep a finding's first timestamp, so an unchanged namespace is not rewritten", () => {
    const first = buildReport("openreports", "ml", [finding("a")], T1);
    const again = buildReport("openreports", "ml", [finding("a")], T2, first);
    expect(again.results[0]?.timestamp.seconds).toBe(T1.getTime() / 1000);
    expect(reportChanged(again, first)).toBe(false);
    const added = buildReport("openreports", "ml", [finding("a"), finding("b")], T2, first);
    expect(reportChanged(added, first)).toBe(true);
    expect(added.results[1]?.timestamp.seconds).toBe(T2.getTime() / 1000);
  });

  it("compare as the API server hands them back: keys in any order, zero counts left out", () => {
    const desired = buildReport("openreports", "ml", [finding("a")], T1);
    const fromServer = JSON.parse(JSON.stringify({ ...desired, summary: { fail: 1 } }), (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    );
    expect(reportChanged(desired, fromServer)).toBe(false);
    expect(reportChanged(desired, undefined)).toBe(true);
  });

  it("keep at most MAX_RESULTS results, and count every finding in the summary", () => {
    const many = Array.from({ length: MAX_RESULTS + 5 }, (_, i) => finding(`w${String(i).padStart(5, "0")}`));
    const report = buildReport("openreports", "ml", many, T1);
    expect(report.results).toHaveLength(MAX_RESULTS);
    expect(report.summary.fail).toBe(MAX_RESULTS + 5);
    expect(report.metadata.annotations?.[RESULTS_LEFT_OUT], "says how many it left out").toBe("5");
    expect(buildReport("openreports", "ml", many.slice(0, 3), T1).metadata.annotations).toBeUndefined();
  });

  it("remember the enforced findings they left out, so that one is announced once and a new one is not missed", () => {
    const many = Array.from({ length: MAX_RESULTS }, (_, i) => finding(`w${String(i).padStart(5, "0")}`));
    const [left, other] = [finding("x-left-out"), finding("y-new")];
    const first = buildReport("openreports", "ml", [...many, left], T1);
    expect(first.results.map((r) => r.resources[0]?.name)).not.toContain("x-left-out");
    expect(announcedIn(first)(left), "a finding past the cap").toBe(true);
    expect(announcedIn(first)(other)).toBe(false);
    // The finding past the cap is fixed and another comes: same results, same counts, yet a new finding.
    // Before, the report compared equal, was not written, and the new finding was never announced.
    const next = buildReport("openreports", "ml", [...many, other], T2, first);
    expect(reportChanged(next, first)).toBe(true);
    expect(announcedIn(next)(other)).toBe(true);
    // Exempt findings are not announced: none of their digests.
    const exempt = buildReport("openreports", "ml", [...many, finding("z", { exempt: true })], T1);
    expect(exempt.metadata.annotations).toEqual({ [RESULTS_LEFT_OUT]: "1" });
  });

  it("stay below etcd's 1.5 MiB object limit however long the names a namespace's findings carry", () => {
    // Legal and plausible: 253-character names, a long env var name in the message, three selecting
    // policies with long names. Before, 1000 such results made a 2 MiB report: its write failed every run.
    const long = (prefix: string, n: number) => prefix.padEnd(n, "x");
    const policies = [long("a-", 253), long("b-", 253), long("c-", 253)];
    const many = Array.from({ length: MAX_RESULTS }, (_, i) => {
      const name = long(`w${String(i).padStart(5, "0")}-`, 253);
      const env = long(`OPENAI_API_KEY_${i}_`, 300);
      return finding(name, {
        message: `container "app" env ${env}: hardcoded OpenAI API key ending "…a1B2"`,
        policies,
      });
    });
    const pastTheCap = Array.from({ length: MAX_LEFT_OUT_DIGESTS + 10 }, (_, i) => finding(long(`y${i}-`, 253)));
    const report = buildReport("openreports", "ml", [...many, ...pastTheCap], T1);
    const digests = report.metadata.annotations?.[LEFT_OUT_DIGESTS] ?? "";
    expect(digests.length, "the digests stay within the 256 KiB annotations may hold").toBe(128 * 1024);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThanOrEqual(MAX_REPORT_BYTES + 129 * 1024);
    expect(MAX_REPORT_BYTES + 129 * 1024).toBeLessThan(1.5 * 1024 * 1024 - 256 * 1024);
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.summary.fail, "the summary still counts every finding").toBe(many.length + pastTheCap.length);
    // A single finding larger than the whole budget is left out rather than failing the write.
    const huge = finding("huge", { message: "m".repeat(MAX_REPORT_BYTES) });
    const alone = buildReport("openreports", "ml", [huge, finding("small")], T1);
    expect(alone.results.map((r) => r.resources[0]?.name)).toEqual(["small"]);
    expect(alone.summary.fail).toBe(2);
  });

  it("are in code-point order whatever the machine's locale: web before web-2, aa- before zz-", () => {
    // Before, localeCompare: ICU skips the "\0" between a key's parts, so web-2 (path spec.a) came before
    // web (path spec.z) in en_US, and a Danish locale put aa- after zz-: replicas disagreed on the order.
    const findings = [
      finding("zz-api"),
      finding("web-2", { path: "spec.a" }),
      finding("web", { path: "spec.z" }),
      finding("aa-api"),
    ];
    const body = `const { buildReport } = await load("audit/report.ts");
      return buildReport("openreports", "ml", ${JSON.stringify(findings)}, new Date(0)).results.map((r) => r.resources[0].name);`;
    for (const locale of ["C.UTF-8", "en_US.UTF-8", "da_DK.UTF-8"])
      expect(inLocale(locale, body), locale).toEqual(["aa-api", "web", "web-2", "zz-api"]);
  });
});
