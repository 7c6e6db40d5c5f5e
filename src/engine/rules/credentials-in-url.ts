// credentials-in-url: scheme://user:password@host with a literal password. `user@host` has none,
// and `$(DB_PASSWORD)` is filled in at runtime.
import { isPlaceholder } from "../literals.ts";
import { redactedHint } from "../redact.ts";
import type { Hit } from "./hit.ts";
import { type FoundUrl, isTemplatedHost } from "./urls.ts";

export function credentialsInUrls(urls: readonly FoundUrl[]): Hit[] {
  const hits: Hit[] = [];
  for (const url of urls) {
    const password = url.password;
    if (!password || isTemplatedHost(url.host) || isPlaceholder(password)) continue;
    const hint = redactedHint(`password in a ${url.scheme}:// URL`, password);
    hits.push({ rule: "credentials-in-url", severity: "high", hint, what: `${hint} for host ${url.host}` });
  }
  return hits;
}
