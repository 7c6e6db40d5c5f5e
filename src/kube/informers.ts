// One informer per kind for the whole process: the webhook and the controller read the same caches,
// so each kind is listed and watched once, with one transform.
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { MOUNTED_KINDS } from "../api/workload-kinds.ts";
import {
  type CachedIngress,
  type CachedOwned,
  type CachedPolicy,
  type CachedSecret,
  type CachedWorkload,
  cachedIngress,
  cachedOwned,
  cachedPolicy,
  cachedSecret,
  cachedWorkload,
  MANAGED_BY,
} from "./cached.ts";
import { type Cached, type Informer, informer } from "./informer.ts";
import { type Resource, resourceKey, resourceOf, resources } from "./resources.ts";
import type { KubeRest, RawObject } from "./rest.ts";

/** Only the name (and version, to notice changes): all a namespace is needed for. */
function cachedName(raw: RawObject): Cached {
  const { name, resourceVersion } = raw.metadata ?? {};
  return { metadata: { name: String(name ?? ""), ...(typeof resourceVersion === "string" && { resourceVersion }) } };
}

export interface InformerSettings {
  /** Watch these namespaces only; every namespace when absent. */
  namespaces?: readonly string[];
  resyncMs?: number;
  silentMs?: number;
}

export class SharedInformers {
  readonly #rest: KubeRest;
  readonly #logger: Logger;
  readonly #settings: InformerSettings;
  readonly #restarts: Counter<"resource" | "reason"> | undefined;
  readonly #informers = new Map<string, Informer<Cached>>();

  constructor(
    rest: KubeRest,
    logger: Logger,
    settings: InformerSettings = {},
    restarts?: Counter<"resource" | "reason">,
  ) {
    this.#rest = rest;
    this.#logger = logger;
    this.#settings = settings;
    this.#restarts = restarts;
  }

  policies(): Informer<CachedPolicy> {
    return this.#get(resources.policy, cachedPolicy);
  }

  workloads(): Informer<CachedWorkload>[] {
    return MOUNTED_KINDS.map((row) => this.#get(resourceOf(row), cachedWorkload(row)));
  }

  ingresses(): Informer<CachedIngress> {
    return this.#get(resources.ingress, cachedIngress);
  }

  secrets(): Informer<CachedSecret> {
    return this.#get(resources.secret, cachedSecret, { metadataOnly: true });
  }

  /** The cluster's namespaces, by name (metadata only), whatever namespaces the others watch. */
  namespaces(): Informer<Cached> {
    return this.#get(resources.namespace, cachedName, { metadataOnly: true, clusterScoped: true });
  }

  networkPolicies(): Informer<CachedOwned> {
    const selector = Object.entries(MANAGED_BY)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    return this.#get(resources.networkPolicy, cachedOwned, { labelSelector: selector });
  }

  /** Starts every informer asked for so far. */
  start(): void {
    for (const each of this.#informers.values()) each.start();
  }

  synced(): boolean {
    return [...this.#informers.values()].every((each) => each.synced());
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((each) => each.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((each) => each.stop()));
  }

  #get<T extends Cached>(
    resource: Resource,
    transform: (raw: RawObject) => T,
    { clusterScoped, ...extra }: { metadataOnly?: boolean; labelSelector?: string; clusterScoped?: boolean } = {},
  ): Informer<T> {
    const key = resourceKey(resource);
    const existing = this.#informers.get(key);
    if (existing) return existing as unknown as Informer<T>;
    const created = informer<T>({
      rest: this.#rest,
      resource,
      transform,
      logger: this.#logger,
      ...this.#settings,
      // A cluster-scoped resource has no namespaces to restrict the watch to.
      ...(clusterScoped && { namespaces: undefined }),
      ...extra,
      onRestart: (reason) => this.#restarts?.inc({ resource: key, reason }),
    });
    this.#informers.set(key, created as unknown as Informer<Cached>);
    return created;
  }
}
