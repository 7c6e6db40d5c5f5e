// What a literal looks like: randomness, placeholders, paths, digests. The false-positive control
// of every credential rule lives here, in one place, so the rules stay short.

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// References and templates are filled in at runtime: `$(VAR)`, `${VAR}`, `$VAR`, `{{ .Values.x }}`, `<your-key>`,
// and the environment lookups of config files: LiteLLM's `os.environ/VAR`, Python's `os.environ[...]`/`os.getenv(`.
const REFERENCE = /\$\(|\$\{|^\$[A-Za-z_]|\{\{|\{%|<[^<>\s]{0,64}>|^os\.(?:environ[/[]|getenv\()/;
// Words people write instead of a real secret, and redactions (gitleaks calls these stopwords).
const STOPWORD =
  /example|sample|dummy|placeholder|changeme|change[-_]?me|replace[-_]?me|redacted|your[-_ ]|insert[-_ ]|fake|notreal|not[-_]a[-_]real|xxxx|\*\*\*|\.\.\.|(.)\1{5}/i;
// Exact words: booleans, nulls, and what documentation writes where a secret goes.
const WORD =
  /^(?:true|false|yes|no|on|off|null|nil|none|enabled|disabled|password|passwd|pass|pwd|secret|token|tbd|todo)$/i;
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

/** A value that stands in for a secret rather than being one. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  return v === "" || WORD.test(v) || NUMBER.test(v) || REFERENCE.test(v) || STOPWORD.test(v);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// sha256:..., sha512-... (subresource integrity), md5:...
const DIGEST = /^(?:sha\d{0,3}|md5|blake2b?)[:-]/i;
const PATH = /^(?:\/|\.\.?\/|~\/|[A-Za-z]:\\)/;
// A relative path: word-like segments separated by slashes (base64 has mixed case and digits instead).
const RELATIVE_PATH = /^[a-z0-9._-]{1,64}(?:\/[a-z0-9._-]{1,64}){1,32}$/;
// Names of secrets kept elsewhere: AWS ARNs (a KMS key, a Secrets Manager secret), Azure Key Vault references.
const RESOURCE_NAME = /^(?:arn:aws[a-z-]*:|@Microsoft\.KeyVault\()/;
const PUBLIC_MATERIAL =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|age1[a-z0-9]{20}|-----BEGIN (?:CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|X509 CRL))/;

/** Shapes that are never secrets whatever they are called: identifiers, digests, paths, public keys, resource names. */
export function isNonSecretShape(value: string): boolean {
  return (
    UUID.test(value) ||
    DIGEST.test(value) ||
    PATH.test(value) ||
    RELATIVE_PATH.test(value) ||
    PUBLIC_MATERIAL.test(value) ||
    RESOURCE_NAME.test(value) ||
    value.includes("://")
  );
}

/** Random-looking: long enough, no spaces, mixes character classes, and dense in information. */
export function looksRandom(value: string, minLength = 16): boolean {
  if (value.length < minLength || value.length > 1024 || /\s/.test(value)) return false;
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/\d/.test(value));
  if (classes < 2) return false;
  // A floor that grows with length up to gitleaks' 3.5 (short random strings cannot reach it), and
  // sits lower for hex, whose 16 symbols carry at most 4 bits.
  const floor = /^[0-9a-f]+$/i.test(value) ? 3 : 3.5;
  return entropy(value) >= Math.min(floor, 0.8 * Math.log2(value.length));
}

/** The literal at the start of a raw assignment right-hand side: quoted text, or up to the first space. */
export function leadingLiteral(raw: string): string {
  const text = raw.trim();
  const quote = text[0];
  if (quote === '"' || quote === "'" || quote === "`") {
    const end = text.indexOf(quote, 1);
    return end < 0 ? text.slice(1) : text.slice(1, end);
  }
  const space = text.search(/\s/);
  return (space < 0 ? text : text.slice(0, space)).replace(/[,;]+$/, "");
}

/**
 * The matches of a global regex in `text`. Unlike String#matchAll it does not clone the regex per
 * call, which is most of its cost on short values; the engine is synchronous, so sharing is safe.
 */
export function* matchesOf(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    yield m;
    if (m[0] === "") pattern.lastIndex++;
  }
}
