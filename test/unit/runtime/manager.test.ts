import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/observability/logger.ts";
import { type Runnable, runManager } from "../../../src/runtime/manager.ts";

const logger = createLogger({ destination: new Writable({ write: (_c, _e, done) => done() }) });

function recorded(log: string[], name: string, needsLeader = false, fail?: Error): Runnable {
  return {
    name,
    needsLeader,
    async start() {
      log.push(`start ${name}`);
      if (fail) throw fail;
    },
    async stop() {
      log.push(`stop ${name}`);
    },
  };
}

describe("runManager", () => {
  it("stops a runnable whose start failed (what it set up is released) and those before it, in reverse", async () => {
    const log: string[] = [];
    const runnables = [
      recorded(log, "informers"),
      recorded(log, "webhook server", false, new Error("listen EADDRINUSE")),
      recorded(log, "registration"),
    ];
    await expect(runManager(new AbortController().signal, { logger, runnables })).rejects.toThrow("EADDRINUSE");
    expect(log).toEqual(["start informers", "start webhook server", "stop webhook server", "stop informers"]);
  });

  it("starts leader runnables once leading, and stops everything in reverse when the signal aborts", async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const runnables = [recorded(log, "informers"), recorded(log, "controller", true)];
    const running = runManager(stop.signal, { logger, runnables, onStarted: () => log.push("started") });
    await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await running;
    expect(log).toEqual(["start informers", "started", "start controller", "stop controller", "stop informers"]);
  });
});
