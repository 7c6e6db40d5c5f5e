// A list-and-watch cache of one resource, written for a long-running operator rather than taken
// from client-node, whose informer (a) counts the abort of its own stop() as an error, (b) stores
// whole objects (managedFields, status, env values: memory grows with the cluster), (c) hands
// change callbacks no old object, and (d) goes silent or stops without notice
// (kubernetes-client/javascript#596, #958; restarting it from its error callback storms the
// server, #1933). Here:
// - objects pass through `transform` before they are cached: readers get only the fields they need;
// - handlers receive the event type, the object and the old one; the cache is indexed by namespace;
// - a resync replays the cache to the handlers (type "resync") and never re-lists;
// - a watch that ends is resumed from the last resourceVersion; 410 Gone re-lists; only errors it
//   did not cause itself are failures, retried with capped exponential backoff and jitter, which starts
//   over once a watch has served a while;
// - a watch that receives no byte (bookmarks included, asked for every watch) for `silentMs` is
//   presumed dead and resumed: the silent-watch detector.
import type { Logger } from "pino";
import { delay as pause } from "../runtime/manager.ts";
import { describeError } from "./errors.ts";
import { collectionPath, type Resource, resourceKey } from "./resources.ts";
import { isStatus, type KubeRest, METADATA_ONLY, type RawList, type RawObject, type WatchEvent } from "./rest.ts";

export type InformerEventType = "add" | "update" | "delete" | "resync";

export interface InformerEvent<T> {
  type: InformerEventType;
  object: T;
  /** The cached object before an update. */
  old?: T;
}

export type InformerHandler<T> = (event: InformerEvent<T>) => void;

/** What every cached object keeps; the transform decides the rest. */
export interface Cached {
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export type RestartReason = "error" | "silent" | "gone";

export interface InformerOptions<T extends Cached> {
  rest: KubeRest;
  resource: Resource;
  /** Keeps what readers need from a listed or watched object. */
  transform: (raw: RawObject) => T;
  logger: Logger;
  /** Watch these namespaces only (one list and watch each); every namespace when absent. */
  namespaces?: readonly string[];
  /** Only objects with these labels, e.g. app.kubernetes.io/managed-by=ai-api-guard. */
  labelSelector?: string;
  /** List and watch metadata only (PartialObjectMetadata): enough for Secrets. */
  metadataOnly?: boolean;
  resyncMs?: number;
  /** No byte on a watch for this long: it is presumed dead and resumed. Bookmarks come about every minute. */
  silentMs?: number;
  maxBackoffMs?: number;
  pageSize?: number;
  onRestart?: (reason: RestartReason) => void;
}

export interface Informer<T extends Cached> {
  readonly resource: Resource;
  on(handler: InformerHandler<T>): () => void;
  get(namespace: string, name: string): T | undefined;
  /** Every cached object, or those of one namespace (the index). */
  list(namespace?: string): T[];
  /** True once every watched scope has been listed. */
  synced(): boolean;
  /** Resolves once synced, or when the signal aborts. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** Begins listing and watching; returns at once. */
  start(): void;
  /** Ends every watch; its own abort is not a failure. */
  stop(): Promise<void>;
}

const STOP = "informer stopped";
/** A watch that lasted this many longest backoffs before it failed was healthy: its failure is the first. */
const STABLE_BACKOFFS = 4;

class SilentWatch extends Error {}
class Gone extends Error {}

export function informer<T extends Cached>(options: InformerOptions<T>): Informer<T> {
  const { rest, resource, transform, logger } = options;
  const resyncMs = options.resyncMs ?? 10 * 60_000;
  const silentMs = options.silentMs ?? 3 * 60_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const pageSize = options.pageSize ?? 500;
  const scopes: (string | undefined)[] = options.namespaces ? [...options.namespaces] : [undefined];
  const log = logger.child({ resource: resourceKey(resource) });

  const store = new Map<string, Map<string, T>>();
  const handlers = new Set<InformerHandler<T>>();
  const listedScopes = new Set<string | undefined>();
  const syncWaiters = new Set<() => void>();
  let controller: AbortController | undefined;
  let loops: Promise<void>[] = [];
  let resyncTimer: NodeJS.Timeout | undefined;

  const emit = (event: InformerEvent<T>) => {
    for (const handler of handlers) {
      try {
        handler(event);
      } catch (error) {
        log.error({ error: describeError(error) }, "an informer handler threw; the cache is unaffected");
      }
    }
  };

  const namespaceOf = (object: Cached) => object.metadata.namespace ?? "";

  const upsert = (object: T) => {
    const namespace = namespaceOf(object);
    const byName = store.get(namespace) ?? new Map<string, T>();
    store.set(namespace, byName);
    const old = byName.get(object.metadata.name);
    byName.set(object.metadata.name, object);
    if (!old) emit({ type: "add", object });
    else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) emit({ type: "update", object, old });
  };

  const remove = (namespace: string, name: string) => {
    const byName = store.get(namespace);
    const old = byName?.get(name);
    if (!byName || !old) return;
    byName.delete(name);
    if (byName.size === 0) store.delete(namespace);
    emit({ type: "delete", object: old });
  };

  const inScope = (scope: string | undefined, namespace: string) => scope === undefined || scope === namespace;

  /** Deletes what the cache holds in a scope, except the names in `kept`. */
  const clearScope = (scope: string | undefined, kept: ReadonlySet<string> = new Set()) => {
    for (const [namespace, byName] of [...store]) {
      if (!inScope(scope, namespace)) continue;
      for (const name of [...byName.keys()]) if (!kept.has(`${namespace}/${name}`)) remove(namespace, name);
    }
  };

  const synced = () => scopes.every((scope) => listedScopes.has(scope));

  /** Lists a scope page by page; objects the cache holds that the list lacks are deleted. Returns the list's resourceVersion. */
  const relist = async (scope: string | undefined, signal: AbortSignal): Promise<string> => {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      const page = await rest.request<RawList>(collectionPath(resource, scope), {
        query: { limit: pageSize, continue: continueToken, labelSelector: options.labelSelector },
        accept: options.metadataOnly ? METADATA_ONLY : undefined,
        signal,
      });
      for (const raw of page.items ?? []) {
        const object = transform(raw);
        seen.add(`${namespaceOf(object)}/${object.metadata.name}`);
        upsert(object);
      }
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);
    clearScope(scope, seen);
    listedScopes.add(scope);
    if (synced()) for (const wake of syncWaiters) wake();
    return resourceVersion;
  };

  /** One watch from resourceVersion; returns the last resourceVersion seen when the server ends it. */
  const watchOnce = async (scope: string | undefined, from: string, stop: AbortSignal): Promise<string> => {
    let resourceVersion = from;
    const watch = new AbortController();
    const onStop = () => watch.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    let silence: NodeJS.Timeout | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => watch.abort(new SilentWatch(`no byte for ${silentMs} ms`)), silentMs);
      silence.unref();
    };
    const onEvent = (event: WatchEvent) => {
      if (event.type === "ERROR") {
        if (event.object.code === 410) throw new Gone("resourceVersion too old");
        throw new Error(`watch error: ${String((event.object as { message?: string }).message ?? event.object.code)}`);
      }
      resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
      if (event.type === "BOOKMARK") return;
      if (event.type === "DELETED") {
        remove(event.object.metadata?.namespace ?? "", event.object.metadata?.name ?? "");
        return;
      }
      upsert(transform(event.object));
    };
    try {
      heard();
      // The server ends each watch after 5 to 10 minutes (spread, so watches do not all renew at once).
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      await rest.watch(
        collectionPath(resource, scope),
        { resourceVersion, timeoutSeconds, labelSelector: options.labelSelector },
        onEvent,
        { signal: watch.signal, metadataOnly: options.metadataOnly, onBytes: heard },
      );
      return resourceVersion;
    } catch (error) {
      const reason = watch.signal.reason;
      if (watch.signal.aborted && reason instanceof SilentWatch) throw reason;
      throw error;
    } finally {
      clearTimeout(silence);
      stop.removeEventListener("abort", onStop);
      if (!watch.signal.aborted) watch.abort(new Error("watch ended")); // closes the stream if an event threw
    }
  };

  const loop = async (scope: string | undefined, stop: AbortSignal) => {
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!stop.aborted) {
      const started = Date.now();
      try {
        if (resourceVersion === undefined) resourceVersion = await relist(scope, stop);
        resourceVersion = await watchOnce(scope, resourceVersion, stop);
        failures = 0;
      } catch (error) {
        if (stop.aborted) return; // our own stop(): not a failure
        if (error instanceof Gone) {
          resourceVersion = undefined;
          options.onRestart?.("gone");
          log.debug({ namespace: scope }, "watch expired (410); listing again");
          continue;
        }
        if (error instanceof SilentWatch) {
          options.onRestart?.("silent");
          log.warn({ namespace: scope, silentMs }, "watch went silent; resuming it");
          continue;
        }
        // A watch that served for a while before it broke starts the backoff over (client-go resets after 2
        // minutes without a failure): else one outage leaves every later break at the longest delay.
        if (Date.now() - started >= STABLE_BACKOFFS * maxBackoffMs) failures = 0;
        failures += 1;
        options.onRestart?.("error");
        const delay = backoff(failures, maxBackoffMs);
        if (isStatus(error, 404)) {
          // The resource is not served (its CRD is not installed, or was deleted): an empty scope until it is,
          // even if the watch ended before it saw the deletions.
          resourceVersion = undefined;
          clearScope(scope);
          listedScopes.add(scope);
          if (synced()) for (const wake of syncWaiters) wake();
          if (failures === 1) log.warn({ namespace: scope }, "the resource is not served; is its CRD installed?");
        } else {
          log.warn({ namespace: scope, error: describeError(error), retryInMs: delay }, "watch failed; will retry");
        }
        await pause(delay, stop);
      }
    }
  };

  const replay = () => {
    for (const byName of store.values()) for (const object of byName.values()) emit({ type: "resync", object });
  };

  return {
    resource,
    on(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    get: (namespace, name) => store.get(namespace)?.get(name),
    list(namespace) {
      if (namespace !== undefined) return [...(store.get(namespace)?.values() ?? [])];
      return [...store.values()].flatMap((byName) => [...byName.values()]);
    },
    synced,
    waitForSync(signal) {
      if (synced() || signal?.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          syncWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        syncWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    },
    start() {
      if (controller) return;
      controller = new AbortController();
      const stop = controller.signal;
      loops = scopes.map((scope) => loop(scope, stop));
      resyncTimer = setInterval(replay, resyncMs);
      resyncTimer.unref();
    },
    async stop() {
      clearInterval(resyncTimer);
      controller?.abort(new Error(STOP));
      await Promise.all(loops);
      controller = undefined;
      loops = [];
    },
  };
}

/** Capped exponential backoff with full jitter on its upper half (0.5 s, 1 s, 2 s ... max). */
export function backoff(failures: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, 500 * 2 ** Math.min(failures - 1, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
