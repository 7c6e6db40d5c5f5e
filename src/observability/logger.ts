// The product's pino logger: JSON lines with metadata only. Redaction is a second line of defence:
// callers log ids, names and rule ids, never values, but a header or an object that slips into a
// log call is censored instead of written out.
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { shownName } from "../engine/shown.ts";

export type { Logger } from "pino";

/** Keys that carry credentials or whole Kubernetes objects (whose env values may be secrets). */
const SECRET_KEYS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "apiKey",
  "api_key",
  "token",
  "accessToken",
  "refreshToken",
  "password",
  "secret",
  "clientSecret",
  "privateKey",
  "object",
  "oldObject",
];

/** Where such keys turn up: top level, HTTP headers, and an AdmissionReview's request. */
const PARENTS = ["", "req.headers", "res.headers", "headers", "request"];

/**
 * Explicit paths only: pino's wildcard paths ("*.token") cost microseconds per line each, which the
 * admission path cannot afford (measured: 75 µs a line with 48 of them, 4 µs with 80 explicit ones).
 */
export const REDACTED_PATHS = PARENTS.flatMap((parent) =>
  SECRET_KEYS.map((key) => {
    const property = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
    return parent ? `${parent}${property}` : property.replace(/^\./, "");
  }),
);

export interface LoggerSettings {
  level?: LoggerOptions["level"];
  name?: string;
  /** Where lines go; stdout through `bufferedDestination` when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? "ai-api-guard",
    level: settings.level ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    formatters: { log: shownNames },
  };
  return pino(options, settings.destination ?? bufferedDestination());
}

/**
 * Each string field, list of strings and error as shownName shows it: a namespace, a policy, an object, a service
 * account's user name (system:serviceaccount:<namespace>:...) or an API server's error quoting one can be a key
 * (a DeepSeek key is a valid name). A field with no keyword is returned unread: the decision line stays cheap.
 */
function shownNames(fields: Record<string, unknown>): Record<string, unknown> {
  let shown: Record<string, unknown> | undefined;
  for (const field in fields) {
    const value = fields[field];
    const replaced =
      typeof value === "string"
        ? shownName(value)
        : Array.isArray(value)
          ? shownList(value)
          : value instanceof Error
            ? shownError(value)
            : value;
    if (replaced === value) continue;
    // A copy: the caller's object stays as it was.
    shown ??= { ...fields };
    shown[field] = replaced;
  }
  return shown ?? fields;
}

/** The error itself when neither its message nor its stack changes; else what pino would write of it, shown. */
function shownError(error: Error): unknown {
  const message = shownName(error.message);
  const stack = error.stack === undefined ? undefined : shownName(error.stack);
  return message === error.message && stack === error.stack ? error : { type: error.name, message, stack };
}

/** The list itself when no item changes. */
function shownList(list: unknown[]): unknown[] {
  const shown = list.map((v) => (typeof v === "string" ? shownName(v) : v));
  return shown.every((v, i) => v === list[i]) ? list : shown;
}

/** Log bytes held while the reader of stdout is behind; past it lines are dropped, and counted. */
export const MAX_BUFFERED_LOG_BYTES = 16 * 2 ** 20;

/**
 * Asynchronous and bounded. A write never waits for whoever reads the file (a stalled log collector must
 * not stall admission, whose timeouts would refuse every write under failurePolicy Fail), and the lines
 * written while one write is in flight go out together: one system call for many decisions under load.
 * At most `maxBytes` wait in memory; lines past that are dropped and a warning line says how many, once
 * there is room again. pino flushes what waits when the process exits.
 */
export function bufferedDestination({
  dest = 1,
  maxBytes = MAX_BUFFERED_LOG_BYTES,
}: {
  dest?: number | string;
  maxBytes?: number;
} = {}) {
  const stream = pino.destination({ dest, sync: false, maxLength: maxBytes });
  let dropped = 0;
  const report = () => {
    const line = {
      level: 40,
      name: "ai-api-guard",
      time: Date.now(),
      droppedLines: dropped,
      msg: "log lines dropped: the log reader fell behind",
    };
    dropped = 0;
    stream.write(`${JSON.stringify(line)}\n`);
  };
  stream.on("drop", () => {
    if (dropped++ === 0) setTimeout(report, 1_000).unref();
  });
  return stream;
}
