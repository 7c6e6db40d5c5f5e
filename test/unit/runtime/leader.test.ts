import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KubeRest } from "../../../src/kube/rest.ts";
import { leaseElector } from "../../../src/runtime/leader.ts";

/** An API server that hands out a free Lease, then stops answering: every later request waits for its signal. */
function stallingAfterAcquire(): KubeRest {
  let calls = 0;
  const lease = { metadata: { name: "l", namespace: "ns", resourceVersion: "1" }, spec: { holderIdentity: "" } };
  const request = (_path: string, options: { method?: string; body?: unknown; signal?: AbortSignal } = {}) => {
    calls++;
    if (calls === 1) return Promise.resolve(lease);
    if (calls === 2) return Promise.resolve(options.body);
    return new Promise((_resolve, reject) =>
      options.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true }),
    );
  };
  return { request } as unknown as KubeRest;
}

describe("leader election", () => {
  it("stops within the renew deadline when the Lease cannot be released (an API server that does not answer)", async () => {
    const elect = leaseElector({
      rest: stallingAfterAcquire(),
      namespace: "ns",
      name: "l",
      identity: "me",
      logger: pino({ level: "silent" }),
      leaseDurationMs: 1_500,
      renewDeadlineMs: 1_000,
      retryPeriodMs: 60_000,
    });
    const stop = new AbortController();
    let leading = false;
    const running = elect(stop.signal, async () => {
      leading = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(leading).toBe(true);
    const stoppedAt = Date.now();
    stop.abort();
    // Before, the release waited for undici's own timeouts (300 s) and the process past the kubelet's grace period.
    const outcome = await Promise.race([
      running.then(() => "stopped"),
      new Promise((r) => setTimeout(() => r("still releasing"), 4_000)),
    ]);
    expect(outcome).toBe("stopped");
    expect(Date.now() - stoppedAt).toBeLessThan(3_000);
  });
});
