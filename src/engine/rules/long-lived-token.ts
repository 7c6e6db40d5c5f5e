// long-lived-token: a JWT literal that never expires or lives longer than 24 hours. Its lifetime is
// exp - iat, or exp - now when the token has no iat.
import { decodeJwt } from "jose";
import type { Candidate } from "../extract.ts";
import { matchesOf } from "../literals.ts";
import { redactedHint } from "../redact.ts";
import type { Hit } from "./hit.ts";
import { decodesAsJwt, JWT_PATTERN } from "./secret-formats.ts";

const MAX_LIFETIME_SECONDS = 24 * 60 * 60;

export function longLivedTokens(candidate: Candidate, lower: string, now: () => Date): Hit[] {
  if (!lower.includes("eyj")) return [];
  const hits: Hit[] = [];
  for (const m of matchesOf(JWT_PATTERN, candidate.value)) {
    if (!decodesAsJwt(m[0])) continue;
    const { exp, iat } = decodeJwt(m[0]);
    const hint = redactedHint("JWT", m[0]);
    if (typeof exp !== "number") {
      hits.push({ rule: "long-lived-token", severity: "medium", hint, what: `${hint} never expires (no exp claim)` });
      continue;
    }
    const lifetime = exp - (typeof iat === "number" ? iat : now().getTime() / 1000);
    if (lifetime > MAX_LIFETIME_SECONDS) {
      const hours = Math.round(lifetime / 3600);
      hits.push({ rule: "long-lived-token", severity: "medium", hint, what: `${hint} lives ${hours} h (limit 24 h)` });
    }
  }
  return hits;
}
