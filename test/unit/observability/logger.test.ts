import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/observability/logger.ts";

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
});
