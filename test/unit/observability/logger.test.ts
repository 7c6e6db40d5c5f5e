import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { bufferedDestination, createLogger } from "../../../src/observability/logger.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

describe("createLogger", () => {
  it("writes JSON lines with the product's name", () => {
    const { lines, logger } = capture();
    logger.info({ uid: "u-1" }, "admission decision");
    expect(lines).toEqual([expect.objectContaining({ name: "ai-api-guard", uid: "u-1", msg: "admission decision" })]);
  });

  it("censors credentials in headers, secret-bearing keys and whole Kubernetes objects", () => {
    const { lines, logger } = capture();
    const secret = "sk-proj-CANARY";
    logger.warn(
      {
        req: { method: "POST", headers: { authorization: `Bearer ${secret}`, cookie: secret, "x-api-key": secret } },
        res: { headers: { "set-cookie": secret } },
        token: secret,
        password: secret,
        request: { uid: "u-1", object: { env: [{ value: secret }] }, oldObject: { value: secret } },
        object: { value: secret },
      },
      "oops",
    );
    expect(JSON.stringify(lines)).not.toContain("CANARY");
    expect(lines[0]).toMatchObject({
      req: { method: "POST", headers: { authorization: "[redacted]" } },
      request: { uid: "u-1" },
    });
  });

  it("buffers lines without blocking the caller, drops what exceeds its bound and says how many it dropped", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ai-api-guard-log-")), "out.log");
    const destination = bufferedDestination({ dest: file, maxBytes: 8 * 1024 });
    await once(destination, "ready");
    const logger = createLogger({ destination });
    // ~150 bytes a line, all in one tick: the first write is in flight while the rest wait in the buffer.
    for (let i = 0; i < 1_000; i++) logger.info({ uid: `u-${i}` }, "admission decision");
    await sleep(1_300);
    destination.flushSync();
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const written = lines.filter((line) => line.msg === "admission decision").length;
    const warning = lines.find((line) => "droppedLines" in line);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(1_000);
    expect(warning).toMatchObject({ level: 40, name: "ai-api-guard", droppedLines: 1_000 - written });
  });
});
