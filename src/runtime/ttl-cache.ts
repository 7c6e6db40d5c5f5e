// A small cache of promises for answers the API server gives (access reviews, token reviews, a
// namespace's labels): concurrent askers share one call, answers expire, failures are not kept.

export interface TtlCacheOptions {
  /** How long an answer is reused; RBAC and label changes take effect within it. */
  ttlMs?: number;
  /** Entries kept; the oldest go first. */
  maxEntries?: number;
}

/**
 * A small cache of promises: concurrent askers share one call; answers expire after the TTL. A call that
 * fails is not kept: the next asker calls again.
 */
export function ttlCache<T>({ ttlMs = 10_000, maxEntries = 1_000 }: TtlCacheOptions) {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return (key: string, load: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    entries.delete(key);
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    const value = load();
    entries.set(key, { at: now, value });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return value;
  };
}
