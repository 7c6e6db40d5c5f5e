import { describe, expect, it } from "vitest";
import { defaults } from "../../../src/config/chart-values.ts";
import { BODY_LIMIT_BYTES, bodyBytesInFlight } from "../../../src/webhook/limits.ts";

const MiB = 2 ** 20;

describe("the request bodies the webhook reads at once", () => {
  it("are a quarter of the container's memory limit, so that a flood of large reviews cannot get it OOM-killed", () => {
    // Measured (npm run bench:webhook -- load memory): 256 MiB of bodies under a 256Mi limit was a kill within a second.
    expect(bodyBytesInFlight(512 * MiB)).toBe(128 * MiB);
    const chartLimit = (defaults() as { resources: { limits: { memory: string } } }).resources.limits.memory;
    expect(chartLimit).toBe("512Mi");
  });

  it("always fit one largest review the API server can send, and are 256 MiB at most", () => {
    expect(bodyBytesInFlight(64 * MiB)).toBe(BODY_LIMIT_BYTES);
    expect(bodyBytesInFlight(8 * 1024 * MiB)).toBe(256 * MiB);
    // No limit: the cgroup says 0, or a number near 2^64.
    expect(bodyBytesInFlight(0)).toBe(256 * MiB);
    expect(bodyBytesInFlight(2 ** 64)).toBe(256 * MiB);
  });
});
