import { describe, expect, it, vi } from "vitest";
import { ttlCache } from "../../../src/runtime/ttl-cache.ts";

describe("ttlCache", () => {
  it("shares one call between concurrent askers, expires answers, and stays bounded", async () => {
    vi.useFakeTimers();
    try {
      const cache = ttlCache<number>({ ttlMs: 1_000, maxEntries: 2 });
      const load = vi.fn(async () => 7);
      await Promise.all([cache("a", load), cache("a", load)]);
      expect(load).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1_001);
      await cache("a", load);
      expect(load).toHaveBeenCalledTimes(2);
      await cache("b", load);
      await cache("c", load); // evicts "a"
      await cache("a", load);
      expect(load).toHaveBeenCalledTimes(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not keep a call that failed: the next asker calls again", async () => {
    const cache = ttlCache<number>({ ttlMs: 60_000 });
    const load = vi.fn().mockRejectedValueOnce(new Error("unreachable")).mockResolvedValue(7);
    await expect(cache("a", load)).rejects.toThrow("unreachable");
    expect(await cache("a", load)).toBe(7);
    expect(await cache("a", load)).toBe(7);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
