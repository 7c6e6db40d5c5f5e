// hardcoded-secret: provider formats first (precise), then a bearer header, then the generic rule,
// which needs a credential-like name and a value that looks random. A value already reported by a
// more precise detector is not reported again.
import { assignmentsIn } from "../assignments.ts";
import { type Candidate, type Field, nearAzureOpenAI } from "../extract.ts";
import { entropy, isNonSecretShape, isPlaceholder, looksRandom, matchesOf } from "../literals.ts";
import { classifyName, mayNameCredential, providerByName } from "../names.ts";
import { redactedHint } from "../redact.ts";
import type { Severity } from "../types.ts";
import type { Hit } from "./hit.ts";
import { ANY_FORMAT_KEYWORD, SECRET_FORMATS } from "./secret-formats.ts";

const VIA_ENV =
  "Store it in a Secret, expose it as an env var with valueFrom.secretKeyRef and pass it as $(VAR_NAME), then revoke and rotate the exposed credential.";
const FIX_BY_FIELD: Record<Field, string> = {
  env: "Store it in a Secret and reference it with env[].valueFrom.secretKeyRef, then revoke and rotate the exposed credential.",
  command: VIA_ENV,
  args: VIA_ENV,
  data: "Move it from the ConfigMap into a Secret (mounted, or referenced with valueFrom.secretKeyRef), then revoke and rotate the exposed credential.",
};

const BEARER = /(?<![A-Za-z0-9_-])[Bb]earer\s{1,8}(?<token>[A-Za-z0-9._~+/=-]{16,4096})/g;
const HEX_32 = /^[0-9a-f]{32}$/i;
const MIN_PASSWORD_LENGTH = 8;

export function hardcodedSecrets(candidate: Candidate, lower: string): Hit[] {
  const fix = FIX_BY_FIELD[candidate.field];
  const found: string[] = [];
  const hits: Hit[] = [];
  const report = (label: string, secret: string, severity: Severity, provider?: string, showTail = true) => {
    found.push(secret);
    const hint = redactedHint(label, showTail ? secret : "");
    hits.push({ rule: "hardcoded-secret", severity, provider, hint, what: `hardcoded ${hint}`, fix });
  };
  const alreadyFound = (text: string) => found.some((s) => s.includes(text) || text.includes(s));

  for (const format of ANY_FORMAT_KEYWORD.test(lower) ? SECRET_FORMATS : []) {
    if (!format.keywords.some((k) => lower.includes(k))) continue;
    for (const m of matchesOf(format.pattern, candidate.value)) {
      const secret = m.groups?.secret ?? m[0];
      if (isPlaceholder(secret) || entropy(secret) < format.minEntropy) continue;
      if (format.accept && !format.accept(secret)) continue;
      report(format.provider, secret, format.severity, format.provider, format.showTail ?? true);
    }
  }

  if (lower.includes("bearer")) {
    for (const m of matchesOf(BEARER, candidate.value)) {
      const secret = m.groups?.token ?? "";
      if (!alreadyFound(secret) && !isPlaceholder(secret) && looksRandom(secret))
        report("bearer token", secret, "high");
    }
  }

  const pairs = candidate.name ? [{ name: candidate.name, value: candidate.value.trim() }] : [];
  if (mayNameCredential(lower)) pairs.push(...assignmentsIn(candidate.value));
  for (const { name, value } of pairs) {
    const kind = classifyName(name);
    if (kind === "other" || alreadyFound(value) || isPlaceholder(value) || isNonSecretShape(value)) continue;
    const isPassword =
      kind === "password" && value.length >= MIN_PASSWORD_LENGTH && !/\s/.test(value) && entropy(value) >= 2.5;
    if (!isPassword && !looksRandom(value)) continue;
    const provider =
      providerByName(name) ?? (nearAzureOpenAI(candidate) && HEX_32.test(value) ? "Azure OpenAI key" : undefined);
    // Inside a file or a shell string the name says where; for an env var the location already does.
    const label = provider ?? (name === candidate.name ? kind : `${kind} in ${name}`);
    report(label, value, provider ? "critical" : "high", provider);
  }
  return hits;
}
