// Kubernetes Events for what ai-api-guard decides and does. Fire-and-forget: an Event that cannot be
// written is logged, never allowed to fail the admission or the reconcile that caused it.
// Like client-go's EventCorrelator: a repeat of the same Event (object, type, reason, message) within
// the aggregation window updates the first one's count and lastTimestamp instead of creating another,
// and each object has a token bucket (burst 25, one token per 5 minutes) so a ReplicaSet retrying a
// refused Pod, or a failing reconcile, cannot flood etcd with Events.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { shownName } from "../engine/shown.ts";
import { describeError } from "./errors.ts";
import { collectionPath, objectPath, resources } from "./resources.ts";
import { isStatus, type KubeRest } from "./rest.ts";

export const COMPONENT = "ai-api-guard";
const MAX_MESSAGE = 1024;
/** The log line of an Event not written because the object's name holds a key. */
export const WITHHELD = "no Event written about the object: its name holds a key, which an Event would keep";

export interface EventInput {
  type: "Normal" | "Warning";
  reason: string;
  object: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  /** Already redacted by whoever built it. */
  message: string;
}

export type RecordEvent = (event: EventInput) => void;

export interface RecorderOptions {
  burst?: number;
  refillMs?: number;
  /** Repeats within this window update the first Event. */
  windowMs?: number;
  /** How many distinct Events and objects are remembered (least recently used are forgotten). */
  maxKeys?: number;
  /** Counts Events not written: result = dropped (rate limit) or failed. */
  outcomes?: Counter<"result">;
  now?: () => number;
}

interface Written {
  /** Settles when the Event exists (or could not be written): repeats wait for it. */
  created: Promise<unknown>;
  name: string;
  namespace: string;
  count: number;
  first: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function eventRecorder(rest: KubeRest, logger: Logger, options: RecorderOptions = {}): RecordEvent {
  const burst = options.burst ?? 25;
  const refillMs = options.refillMs ?? 5 * 60_000;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxKeys = options.maxKeys ?? 4096;
  const now = options.now ?? Date.now;
  const written = new Map<string, Written>();
  const buckets = new Map<string, Bucket>();

  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > maxKeys) map.delete(map.keys().next().value as string);
  };

  const allow = (objectKey: string): boolean => {
    const t = now();
    const bucket = buckets.get(objectKey) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + (t - bucket.at) / refillMs);
    bucket.at = t;
    const ok = bucket.tokens >= 1;
    if (ok) bucket.tokens -= 1;
    remember(buckets, objectKey, bucket);
    return ok;
  };

  const fail = (event: EventInput, error: unknown) => {
    options.outcomes?.inc({ result: "failed" });
    logger.warn(
      { reason: event.reason, kind: event.object.kind, name: event.object.name, error: describeError(error) },
      "could not record event",
    );
  };

  const create = async (key: string, event: EventInput, message: string) => {
    const t = new Date(now());
    const name = `${event.object.name || event.object.kind.toLowerCase()}.${randomBytes(6).toString("hex")}`;
    // A cluster-scoped object's Events go to "default", where Kubernetes' own recorders put them.
    const namespace = event.object.namespace || "default";
    const created = rest.request(collectionPath(resources.event, namespace), {
      method: "POST",
      body: {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: { ...event.object },
        type: event.type,
        reason: event.reason,
        message,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: COMPONENT,
        firstTimestamp: t.toISOString(),
        lastTimestamp: t.toISOString(),
        count: 1,
      },
    });
    remember(written, key, { created: created.catch(() => undefined), name, namespace, count: 1, first: t.getTime() });
    await created;
  };

  /** Count updates of one Event are chained, so they reach the server in order. */
  const repeat = async (key: string, previous: Written, event: EventInput, message: string) => {
    previous.count += 1;
    const count = previous.count;
    const patch = previous.created.then(() =>
      rest.request(objectPath(resources.event, previous.namespace, previous.name), {
        method: "PATCH",
        contentType: "application/merge-patch+json",
        body: { count, lastTimestamp: new Date(now()).toISOString() },
      }),
    );
    previous.created = patch.catch(() => undefined);
    try {
      await patch;
    } catch (error) {
      // The Event expired (the API server keeps them an hour): start a new one.
      if (!isStatus(error, 404)) throw error;
      await create(key, event, message);
    }
  };

  return (event) => {
    const { object } = event;
    // An Event keeps the name of what it is about (involvedObject and its own name): an object named with
    // a key (a DeepSeek key is a valid name) gets none, and the log line names it by its hint.
    const shown = shownName(object.name);
    if (shown !== object.name) {
      logger.info({ reason: event.reason, namespace: object.namespace, kind: object.kind, name: shown }, WITHHELD);
      return;
    }
    const objectKey = `${object.namespace}/${object.kind}/${object.name}/${object.uid ?? ""}`;
    const message = event.message.length > MAX_MESSAGE ? `${event.message.slice(0, MAX_MESSAGE - 1)}…` : event.message;
    if (!allow(objectKey)) {
      options.outcomes?.inc({ result: "dropped" });
      return;
    }
    const key = `${objectKey}\u0000${event.type}\u0000${event.reason}\u0000${message}`;
    const previous = written.get(key);
    const write =
      previous && now() - previous.first < windowMs
        ? repeat(key, previous, event, message)
        : create(key, event, message);
    write.catch((error: unknown) => fail(event, error));
  };
}
