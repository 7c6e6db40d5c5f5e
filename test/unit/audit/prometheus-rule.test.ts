import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createAuditMetrics } from "../../../src/audit/metrics.ts";

const RULE = new URL("../../../deploy/prometheus-rule.yaml", import.meta.url);

describe("deploy/prometheus-rule.yaml", () => {
  it("alerts only on metrics the audit exports, with a severity and a summary each", async () => {
    const rule = parse(readFileSync(RULE, "utf8"));
    expect(rule.kind).toBe("PrometheusRule");
    const metrics = createAuditMetrics();
    metrics.publish();
    const exported = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    const alerts = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as {
      alert: string;
      expr: string;
      labels: { severity: string };
      annotations: { summary: string };
    }[];
    expect(alerts.map((a) => a.alert)).toContain("AiApiGuardCredentialExposed");
    for (const alert of alerts) {
      const used = alert.expr.match(/aiapiguard_[a-z_]+/g) ?? [];
      expect(used.length, alert.alert).toBeGreaterThan(0);
      for (const metric of used) expect(exported, `${alert.alert} uses ${metric}`).toContain(metric);
      expect(["critical", "warning"]).toContain(alert.labels.severity);
      expect(alert.annotations.summary.length).toBeGreaterThan(10);
    }
  });
});
