// credentials-in-url: scheme://user:password@host with a literal password. `user@host` has none,
// and `$(DB_PASSWORD)` is filled in at runtime.
import type { Field } from "../extract.ts";
import { isPlaceholder } from "../literals.ts";
import { redactedHint } from "../redact.ts";
import type { Hit } from "./hit.ts";
import { type FoundUrl, isTemplatedHost } from "./urls.ts";

// The kubelet expands $(VAR) in env, command and args only: elsewhere the catalog's fix
// ("build the URL at runtime (e.g. $(DB_PASSWORD))") cannot be applied.
const EXPANDS_VARS: ReadonlySet<Field> = new Set(["env", "command", "args"]);
const FIX_WITHOUT_EXPANSION =
  "Take the password out of the URL: put it in a Secret, give it to the workload with env[].valueFrom.secretKeyRef or a mounted file and have the application build the URL at runtime, then rotate the password.";

export function credentialsInUrls(urls: readonly FoundUrl[], field: Field): Hit[] {
  const fix = EXPANDS_VARS.has(field) ? {} : { fix: FIX_WITHOUT_EXPANSION };
  const hits: Hit[] = [];
  for (const url of urls) {
    const password = url.password;
    if (!password || isTemplatedHost(url.host) || isPlaceholder(password)) continue;
    const hint = redactedHint(`password in a ${url.scheme}:// URL`, password);
    hits.push({ rule: "credentials-in-url", severity: "high", hint, what: `${hint} for host ${url.host}`, ...fix });
  }
  return hits;
}
