// A token bucket per subject: a steady rate with a burst; the answer to an empty bucket says when to retry.
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Subjects remembered at most; the longest idle is forgotten first. */
  maxSubjects?: number;
  now?: () => number;
}

export type Take = (subject: string) => { ok: true } | { ok: false; retryAfterSeconds: number };

export function rateLimiter(options: RateLimitOptions): Take {
  const now = options.now ?? Date.now;
  const maxSubjects = options.maxSubjects ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (subject) => {
    const t = now();
    const previous = buckets.get(subject) ?? { tokens: options.burst, at: t };
    const tokens = Math.min(options.burst, previous.tokens + ((t - previous.at) / 1000) * options.perSecond);
    buckets.delete(subject);
    if (buckets.size >= maxSubjects) buckets.delete(buckets.keys().next().value as string);
    if (tokens < 1) {
      buckets.set(subject, { tokens, at: t });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / options.perSecond)) };
    }
    buckets.set(subject, { tokens: tokens - 1, at: t });
    return { ok: true };
  };
}
