// The product's pino logger: JSON lines with metadata only. Redaction is a second line of defence:
// callers log ids, names and rule ids, never values, but a header or an object that slips into a
// log call is censored instead of written out.
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

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

/** Each key at the top level, one level down, and under any request's or response's headers. */
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => {
  const identifier = /^[A-Za-z_$][\w$]*$/.test(key);
  const top = identifier ? key : `["${key}"]`;
  const nested = identifier ? `.${key}` : `["${key}"]`;
  return [top, `*${nested}`, `*.headers${nested}`];
});

export interface LoggerSettings {
  level?: LoggerOptions["level"];
  name?: string;
  /** Where lines go; stdout when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? "ai-api-guard",
    level: settings.level ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
