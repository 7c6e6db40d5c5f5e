import { describe, expect, it } from "vitest";
import { createWebhookMetrics } from "../../../src/webhook/metrics.ts";

describe("createWebhookMetrics", () => {
  it("counts every answered review by the time the registry is read, across batches and scrapes", async () => {
    const metrics = createWebhookMetrics();
    const allow = { decision: "allow", kind: "Deployment", operation: "CREATE" };
    const deny = { decision: "deny", kind: "Pod", operation: "UPDATE" };
    for (let i = 0; i < 2_500; i++) metrics.answered(i % 5 === 0 ? deny : allow, 0.0002);
    metrics.answered(allow, 0.003);
    let text = await metrics.registry.metrics();
    expect(text).toContain(
      'aiapiguard_admission_requests_total{decision="allow",kind="Deployment",operation="CREATE"} 2001',
    );
    expect(text).toContain('aiapiguard_admission_requests_total{decision="deny",kind="Pod",operation="UPDATE"} 500');
    expect(text).toContain("aiapiguard_admission_duration_seconds_count 2501");
    expect(text).toContain('aiapiguard_admission_duration_seconds_bucket{le="0.0005"} 2500');
    expect(text).toContain('aiapiguard_admission_duration_seconds_bucket{le="0.005"} 2501');

    metrics.answered(deny, 0.02);
    text = await metrics.registry.metrics();
    expect(text).toContain(
      'aiapiguard_admission_requests_total{decision="allow",kind="Deployment",operation="CREATE"} 2001',
    );
    expect(text).toContain('aiapiguard_admission_requests_total{decision="deny",kind="Pod",operation="UPDATE"} 501');
    expect(text).toContain("aiapiguard_admission_duration_seconds_count 2502");
  });

  it("counts refused dry runs by user, the first 200 users by name and the rest as (other)", async () => {
    const metrics = createWebhookMetrics();
    for (let i = 0; i < 3; i++) metrics.dryRunRefused("prober");
    for (let i = 0; i < 250; i++) metrics.dryRunRefused(`user-${i}`);
    metrics.dryRunRefused("prober");
    const text = await metrics.registry.metrics();
    expect(text).toContain('aiapiguard_admission_dry_run_refusals_total{user="prober"} 4');
    expect(text).toContain('aiapiguard_admission_dry_run_refusals_total{user="user-198"} 1');
    expect(text).not.toContain('user="user-199"');
    expect(text).toContain('aiapiguard_admission_dry_run_refusals_total{user="(other)"} 51');
    expect(text.match(/aiapiguard_admission_dry_run_refusals_total\{/g)).toHaveLength(201);
  });
});
