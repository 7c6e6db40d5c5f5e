import { describe, expect, it } from "vitest";
import { workQueue } from "../../../src/controller/queue.ts";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe("the work queue", () => {
  it("runs a key added many times while waiting once, and one added while in progress once more after", async () => {
    const runs: string[] = [];
    let release: () => void = () => undefined;
    const queue = workQueue({
      name: "t",
      workers: 2,
      reconcile: async (key) => {
        runs.push(key);
        if (key === "a" && runs.length === 1) await new Promise<void>((r) => (release = r));
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = queue.run(stop.signal);
    queue.add("a");
    await tick();
    queue.add("a"); // in progress: once more after
    queue.add("a");
    queue.add("b");
    queue.add("b"); // waiting: once
    await tick();
    release();
    await tick(10);
    stop.abort();
    await running;
    expect(runs.sort()).toEqual(["a", "a", "b"]);
  });

  it("never works on one key in two workers at once", async () => {
    let inFlight = 0;
    let most = 0;
    const queue = workQueue({
      name: "t",
      workers: 4,
      reconcile: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await tick(2);
        inFlight -= 1;
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = queue.run(stop.signal);
    for (let i = 0; i < 20; i += 1) {
      queue.add("same");
      await tick(1);
    }
    await tick(20);
    stop.abort();
    await running;
    expect(most).toBe(1);
  });

  it("retries a failing key with doubling delays, and forgets its failures once it succeeds", async () => {
    const delays: number[] = [];
    let calls = 0;
    const queue = workQueue({
      name: "t",
      baseDelayMs: 2,
      reconcile: async () => {
        calls += 1;
        if (calls <= 4 || calls === 6) throw new Error("refused");
        return undefined;
      },
      onError: (_key, _error, retryInMs) => delays.push(retryInMs),
    });
    const stop = new AbortController();
    const running = queue.run(stop.signal);
    queue.add("k");
    await tick(200); // 2 + 4 + 8 + 16 ms of backoff, then a success
    queue.add("k"); // fails again: backoff starts over
    await tick(30);
    stop.abort();
    await running;
    expect(delays).toEqual([2, 4, 8, 16, 2]);
    expect(calls).toBe(7);
  });

  it("lets the reconcile in flight see the abort and stops taking keys", async () => {
    const seen: boolean[] = [];
    const queue = workQueue({
      name: "t",
      reconcile: async (_key, signal) => {
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        seen.push(signal.aborted);
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = queue.run(stop.signal);
    queue.add("a");
    await tick();
    stop.abort();
    await running;
    queue.add("b");
    await tick(5);
    expect(seen).toEqual([true]);
  });
});
