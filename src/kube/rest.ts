// Raw JSON requests to the API server with the kubeconfig's credentials and TLS (a client-node
// KubeConfig). The typed clients deserialize every object into model classes; the informers and
// the controller read and write plain JSON, page lists, and ask for metadata only where that is
// all they need, which the typed clients cannot do.
import { type Dispatcher, fetch } from "undici";
import type { KubeAccess } from "./config.ts";
import { ApiError, isApiError } from "./errors.ts";

export const FIELD_MANAGER = "ai-api-guard";

/**
 * How long one connection pool serves before it is taken afresh from the kubeconfig. client-node
 * builds a new pool (with its TLS material) for every request: used as is, each request opens its
 * own TLS connection, and 4,000 applies cost about 270 MiB of native memory (docs/benchmarks.md).
 * A fresh pool now and then still picks up a rotated CA or client certificate.
 */
const POOL_REFRESH_MS = 60_000;

/** Accept header that makes list and watch return PartialObjectMetadata: no data, no spec. */
export const METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const METADATA_ONLY_WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface RawList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: RawObject[];
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: RawObject & { code?: number };
}

type Query = Record<string, string | number | boolean | undefined>;

export interface WatchOptions {
  signal: AbortSignal;
  metadataOnly?: boolean;
  onBytes?: () => void;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export class KubeRest {
  readonly kc: KubeAccess;
  readonly server: string;
  private pool: { dispatcher: Dispatcher | undefined; since: number } | undefined;

  constructor(kc: KubeAccess) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig names no current cluster; set current-context or pass --kubeconfig");
    this.kc = kc;
    this.server = cluster.server.replace(/\/$/, "");
  }

  /** The parsed JSON body; a status other than 2xx throws an ApiError (code and Status body). */
  async request<T = RawObject>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(path, options);
    const text = await response.text();
    if (response.status < 200 || response.status > 299)
      throw apiError(response.status, text, Object.fromEntries(response.headers));
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Server-side apply under ai-api-guard's field manager. `force` takes fields over from other
   * managers: only for objects ai-api-guard owns whole; on the user's objects a conflict must surface.
   */
  apply<T = RawObject>(path: string, body: unknown, options: { force: boolean; signal?: AbortSignal }): Promise<T> {
    return this.request<T>(path, {
      method: "PATCH",
      query: { fieldManager: FIELD_MANAGER, force: options.force },
      body,
      contentType: "application/apply-patch+yaml",
      signal: options.signal,
    });
  }

  /**
   * A watch from `resourceVersion`; each event is handed to onEvent. Resolves when the server ends
   * the stream, rejects on any other failure (an abort through `signal` included, with its reason).
   * `onBytes` is called for every chunk received, bookmarks included: the silent-watch detector.
   */
  async watch(path: string, query: Query, onEvent: (event: WatchEvent) => void, options: WatchOptions): Promise<void> {
    try {
      await this.stream(path, query, onEvent, options);
    } catch (error) {
      // A watch that broke or went silent may share its pool with connections that died the same
      // way (a request on one would hang): later requests start on a fresh pool.
      this.retirePool();
      throw error;
    }
  }

  private async stream(path: string, query: Query, onEvent: (event: WatchEvent) => void, options: WatchOptions) {
    const response = await this.send(path, {
      query: { ...query, watch: true, allowWatchBookmarks: true },
      accept: options.metadataOnly ? METADATA_ONLY_WATCH : "application/json",
      signal: options.signal,
    });
    if (response.status !== 200) throw apiError(response.status, await response.text());
    if (!response.body) return;
    // The web stream itself, not a readline over a Node stream: when the connection breaks and the
    // signal then aborts it, a readline interface re-emits that second error with no listener, and
    // the process dies (seen when kube-apiserver restarted).
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      options.onBytes?.();
      pending += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n", start)) {
        const line = pending.slice(start, end);
        start = end + 1;
        if (line.trim() !== "") onEvent(JSON.parse(line) as WatchEvent);
      }
      pending = pending.slice(start);
    }
    if (pending.trim() !== "") onEvent(JSON.parse(pending) as WatchEvent);
    options.signal.throwIfAborted();
  }

  private async send(path: string, options: RequestOptions) {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const credentials: Record<string, string> = {};
    let pool: Dispatcher | undefined;
    await this.kc.applySecurityAuthentication({
      setHeaderParam: (key, value) => {
        credentials[key] = value;
      },
      setDispatcher: (dispatcher) => {
        pool = dispatcher;
      },
    });
    const headers: Record<string, string> = { ...credentials, accept: options.accept ?? "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    return fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      dispatcher: this.dispatcher(pool),
      signal: options.signal,
    });
  }

  /** The pool of the first request, reused (keep-alive) until it is POOL_REFRESH_MS old or retired. */
  private dispatcher(fresh: Dispatcher | undefined): Dispatcher | undefined {
    const now = performance.now();
    if (!this.pool || now - this.pool.since >= POOL_REFRESH_MS) {
      this.retirePool();
      this.pool = { dispatcher: fresh, since: now };
    }
    return this.pool.dispatcher;
  }

  /** The next request takes a fresh pool; this one closes its idle connections now, the others when their requests end. */
  private retirePool(): void {
    void this.pool?.dispatcher?.close().catch(() => undefined);
    this.pool = undefined;
  }
}

function apiError(code: number, text: string, headers?: Record<string, string>): ApiError {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(code, body, headers);
}

export function isStatus(error: unknown, ...codes: number[]): error is ApiError {
  return isApiError(error) && codes.includes(error.code);
}
