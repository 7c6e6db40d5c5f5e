// hardcoded-secret: provider formats first (precise), then a bearer header, then the generic rule,
// which needs a credential-like name and a value that looks random. A value already reported by a
// more precise detector is not reported again.
import { assignmentsIn, FREE_TEXT_CREDENTIAL, FREE_TEXT_KEYWORDS } from "../assignments.ts";
import { type Candidate, type Field, nearAzureOpenAI } from "../extract.ts";
import {
  entropy,
  isExplicitPlaceholder,
  isNonSecretShape,
  isPlaceholder,
  looksRandom,
  matchesOf,
  type Written,
} from "../literals.ts";
import { CREDENTIAL_KEYWORDS, classifyName, mayNameCredential, providerByName } from "../names.ts";
import { redactedHint } from "../redact.ts";
import type { Severity } from "../types.ts";
import { type Hit, MAX_HITS_PER_VALUE } from "./hit.ts";
import {
  ANY_FORMAT_KEYWORD,
  FORMAT_KEYWORDS,
  nameFormats,
  SECRET_FORMATS,
  type SecretFormat,
} from "./secret-formats.ts";

/**
 * What a value must hold (lower-cased) for this rule to report anything in it under no name of its own: a
 * format's keyword, "bearer" or a word an assignment's credential name contains, or a free-text form.
 */
export const SECRET_KEYWORDS = [...FORMAT_KEYWORDS, ...CREDENTIAL_KEYWORDS, ...FREE_TEXT_KEYWORDS];

const VIA_ENV =
  "Store it in a Secret, expose it as an env var with valueFrom.secretKeyRef and pass it as $(VAR_NAME), then revoke and rotate the exposed credential.";
const FIX_BY_FIELD: Record<Field, string> = {
  env: "Store it in a Secret and reference it with env[].valueFrom.secretKeyRef, then revoke and rotate the exposed credential.",
  command: VIA_ENV,
  args: VIA_ENV,
  data: "Move it from the ConfigMap into a Secret (mounted, or referenced with valueFrom.secretKeyRef), then revoke and rotate the exposed credential.",
  script: VIA_ENV,
  // Probes and hooks take no $(VAR) from a Secret: the kubelet expands, in an exec probe, literal env values only.
  probe:
    'Store it in a Secret and read it at run time: an exec probe or hook that runs a shell reading an env var set from valueFrom.secretKeyRef ("$TOKEN", expanded by the shell; the kubelet does not expand $(VAR) from a Secret there) or a mounted file, or an endpoint that needs no credential; then revoke and rotate the exposed credential.',
  annotation:
    "Take it out of the annotation (annotations are readable by anyone who can read the object): store it in a Secret and mount or reference it, then revoke and rotate the exposed credential.",
  label:
    "Take it out of the label: store it in a Secret and mount or reference it, then revoke and rotate the exposed credential.",
  setting:
    "Take it out of the object: store it in a Secret and let the workload read it from there (env valueFrom.secretKeyRef or a mounted file), then revoke and rotate the exposed credential.",
  name: "Rename it: a name is read by anyone who can read the object. Store the credential in a Secret and let the workload read it from there, then revoke and rotate the exposed credential.",
  objectName:
    "Rename the object it names (and what refers to it): an object's name and namespace are read by anyone who can list such objects, and kept in Events and logs; for a namespace, create one with another name and move the workloads there. Then revoke and rotate the exposed credential.",
  volume:
    "Use the volume driver's secret reference (e.g. csi.nodePublishSecretRef) instead of a literal, then revoke and rotate the exposed credential.",
};
const WEAK_DEFAULT_FIX =
  "Generate a strong password, store it in a Secret and reference it with valueFrom.secretKeyRef: a weak or default password is guessed first, so treat this one as known.";

// The scheme is case-insensitive (RFC 9110, 11.1): servers take "BEARER" as they take "Bearer".
const BEARER = /(?<![A-Za-z0-9_-])bearer\s{1,8}(?<token>[A-Za-z0-9._~+/=-]{16,4096})/gi;
const HEX_32 = /^[0-9a-f]{32}$/i;
const STRONG_PASSWORD_LENGTH = 12;
const KEY_OF_A_SECRET = /_SECRET_KEY$|SecretKey$/;
const RESOURCE_NAME = /^[a-z]+(?:-[a-z]+){2,}$/;
// A Kubernetes object name, maybe with its namespace: basic-auth, default/ca-secret.
const OBJECT_NAME = /^(?:[a-z0-9][a-z0-9-]{0,62}\/)?[a-z0-9][a-z0-9.-]{0,252}$/;
// minio123, Password1!, admin2024: a word with digits after it is how defaults and guessable passwords look.
const WORD_AND_DIGITS = /^[A-Za-z]{1,32}[\d_.@-]{0,12}[!?#*]?$/;
// All digits under a key name: an account number or PIN-like key (some providers' keys are numeric).
const NUMERIC_KEY = /^\d{10,128}$/;
// A counting run or one repeated digit under a token or key name (SECURITY_TOKEN=12345): what a default
// or a demo leaves behind, and what is guessed first. Other short numbers there (a TTL, a port) are not.
const WEAK_DIGITS = /^(?:0?123456789?0?|0?12345678?|0?1234567?|0?123456?|0?12345?|0?1234|(\d)\1{3,15})$/;
const WEAK_TOKEN_FIX =
  "Generate a random token, store it in a Secret and reference it with valueFrom.secretKeyRef: a sequence such as 12345 is guessed first, so treat this one as known.";

/**
 * `found` gets the secret of each hit, in order: for the engine to compare findings by, never to
 * leave it (a hint names where a secret was found, so two hints of one secret can differ).
 */
export function hardcodedSecrets(candidate: Candidate, lower: string, found: string[] = []): Hit[] {
  const byField = FIX_BY_FIELD[candidate.field];
  const hits: Hit[] = [];
  const report = (
    label: string,
    secret: string,
    severity: Severity,
    provider?: string,
    showTail = true,
    fix = byField,
  ) => {
    found.push(secret);
    const hint = redactedHint(label, showTail ? secret : "");
    hits.push({ rule: "hardcoded-secret", severity, provider, hint, what: `hardcoded ${hint}`, fix });
  };
  const alreadyFound = (text: string) => found.some((s) => s.includes(text) || text.includes(s));
  // Reading stops at the cap, not before: a file padded with harmless pairs still has its key read.
  const full = () => hits.length >= MAX_HITS_PER_VALUE;

  for (const format of ANY_FORMAT_KEYWORD.test(lower) ? formatsFor(candidate) : []) {
    if (!format.keywords.some((k) => lower.includes(k))) continue;
    for (const m of matchesOf(format.pattern, candidate.value)) {
      if (full()) return hits;
      const secret = m.groups?.secret ?? m[0];
      if (isPlaceholder(secret) || entropy(secret) < format.minEntropy) continue;
      if (format.accept && !format.accept(secret)) continue;
      report(format.provider, secret, format.severity, format.provider, format.showTail ?? true);
    }
  }

  if (lower.includes("bearer")) {
    for (const m of matchesOf(BEARER, candidate.value)) {
      if (full()) return hits;
      const secret = m.groups?.token ?? "";
      if (!alreadyFound(secret) && !isPlaceholder(secret) && looksRandom(secret))
        report("bearer token", secret, "high");
    }
  }

  // A name the value is under directly (env, data key, annotation) is a literal; names found inside
  // free text are text, where `$VAR` is a reference.
  const pairs: { name: string; value: string; written: Written; path?: string }[] = [];
  // A JSON object or list under a name is structure: the pairs inside it are read as free text.
  if (candidate.name && !/^\s*[[{]/.test(candidate.value))
    pairs.push({ name: candidate.name, value: candidate.value.trim(), written: writtenAs(candidate) });
  if (mayNameCredential(lower) || FREE_TEXT_CREDENTIAL.test(lower))
    for (const pair of assignmentsIn(candidate.value)) pairs.push({ ...pair, written: "text" });
  for (const { name, value, written, path } of pairs) {
    if (full()) return hits;
    const kind = classifyName(name);
    if (kind === "other" || alreadyFound(value) || isNonSecretShape(value)) continue;
    const provider =
      providerByName(path ?? name) ??
      (nearAzureOpenAI(candidate) && HEX_32.test(value) ? "Azure OpenAI key" : undefined);
    // Inside a file or a shell string the name says where; for an env var the location already does.
    const label = (what: string) => provider ?? (name === candidate.name ? what : `${what} in ${name}`);
    if (kind === "password") {
      if (isExplicitPlaceholder(value, written) || namesASecret(name, value, candidate.field)) continue;
      if (isStrongPassword(value)) report(label("password"), value, provider ? "critical" : "high", provider);
      else {
        const what = provider ? `weak default ${provider}` : label("weak default password");
        report(what, value, "high", provider, true, WEAK_DEFAULT_FIX);
      }
      continue;
    }
    if (WEAK_DIGITS.test(value)) {
      report(label(`weak default ${kind}`), value, "high", provider, true, WEAK_TOKEN_FIX);
      continue;
    }
    if (isPlaceholder(value, written) && !NUMERIC_KEY.test(value)) continue;
    if (!looksRandom(value) && !(NUMERIC_KEY.test(value) && entropy(value) >= 2.8)) continue;
    report(label(kind), value, provider ? "critical" : "high", provider);
  }
  return hits;
}

/** An object's name is read as names are shown (shown.ts), a "-" next to a key bounding it there. */
function formatsFor(candidate: Candidate): readonly SecretFormat[] {
  return candidate.field === "objectName" ? nameFormats(candidate.value) : SECRET_FORMATS;
}

/**
 * ENDPOINT_SECRET_KEY: azure-cognitiveservices-endpoint names the key of a secret store entry, and an
 * annotation such as nginx.ingress.kubernetes.io/auth-secret: basic-auth names a Secret object.
 */
function namesASecret(name: string, value: string, field: Field): boolean {
  if (KEY_OF_A_SECRET.test(name) && RESOURCE_NAME.test(value)) return true;
  const annotation = field === "annotation" || field === "label";
  return annotation && /secret$/i.test(name) && OBJECT_NAME.test(value) && !looksRandom(value);
}

function writtenAs(candidate: Candidate): Written {
  return candidate.field === "env" ||
    candidate.field === "annotation" ||
    candidate.field === "label" ||
    candidate.field === "volume" ||
    (candidate.field === "probe" && candidate.tail.includes("httpHeaders"))
    ? "literal"
    : "text";
}

/** Long, dense and without spaces: a password someone generated, not a default someone kept. */
function isStrongPassword(value: string): boolean {
  return (
    value.length >= STRONG_PASSWORD_LENGTH && !/\s/.test(value) && !WORD_AND_DIGITS.test(value) && entropy(value) >= 3
  );
}
