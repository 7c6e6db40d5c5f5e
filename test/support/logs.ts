// A pino logger whose lines a test can read back: to check what is logged, and that no secret is.
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: "info" }, destination), lines };
}
