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

// References and templates are filled in at runtime: `$(VAR)`, `${VAR}`, `{{ .Values.x }}`, and the
// environment lookups of config files: LiteLLM's `os.environ/VAR`, Python's `os.environ[...]`/`os.getenv(`.
const REFERENCE = /\$\(|\$\{|\{\{|\{%|^os\.(?:environ[/[]|getenv\()/;
// `$VAR`, `$1` are references in a shell string or a config file, never in an env value: Kubernetes
// expands only `$(VAR)`, so there `$ecret` is the password itself.
const SHELL_VARIABLE = /^\$(?:[A-Za-z_]|\d|[@*#?])/;
// What people write instead of a real secret, and redactions (gitleaks calls these stopwords):
// `<your-key>`, `yourpassword`, `changeme`, `xxxx`, `example`, `***`.
const STOPWORD =
  /<[^<>]{0,64}>|example|sample|dummy|placeholder|changeme|change[-_]?me|replace|redacted|your|insert[-_ ]|fake|notreal|not[-_]a[-_]real|xxx|\*\*\*|\.\.\./i;
// A run of one character: a redaction (`aaaaaa`), or filler in a made-up key (`sk-proj-000000...`).
const FILLER = /(.)\1{5}/;
const ONE_CHARACTER = /^(.)\1*$/;
// Settings rather than secrets: booleans, nulls, "to be done".
const SETTING = /^(?:true|false|yes|no|on|off|null|nil|none|enabled|disabled|tbd|todo|n\/a|-|~)$/i;
// Words documentation writes where a secret goes; under a password name they are weak defaults instead.
const WORD = /^(?:password|passwd|pass|pwd|secret|token)$/i;
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

/** How a value is written: as an env value (a literal) or inside free text (a file, a shell string). */
export type Written = "literal" | "text";

/**
 * Empty, a reference, or an explicit placeholder: never a finding. Under a password name, anything
 * else is a hardcoded (maybe weak) password.
 */
export function isExplicitPlaceholder(value: string, written: Written = "text"): boolean {
  const v = value.trim();
  return (
    v === "" ||
    SETTING.test(v) ||
    REFERENCE.test(v) ||
    STOPWORD.test(v) ||
    ONE_CHARACTER.test(v) ||
    (written === "text" && SHELL_VARIABLE.test(v))
  );
}

/** A value that stands in for a secret rather than being one. */
export function isPlaceholder(value: string, written: Written = "text"): boolean {
  const v = value.trim();
  return isExplicitPlaceholder(v, written) || FILLER.test(v) || WORD.test(v) || NUMBER.test(v);
}

// sha256:..., sha512-... (subresource integrity), md5:...
const DIGEST = /^(?:sha\d{0,3}|md5|blake2b?)[:-]/i;
// Password hashes (bcrypt, crypt, argon2, LDAP's {SSHA}): what a server checks a password against.
const PASSWORD_HASH = /^(?:\$2[abxy]?\$\d\d\$|\$[156]\$|\$argon2|\{S?SHA\d*\})/;
const PATH = /^(?:\/|\.\.?\/|~\/|[A-Za-z]:\\)/;
// A relative path: word-like segments separated by slashes (base64 has mixed case and digits instead).
const RELATIVE_PATH = /^[a-z0-9._-]{1,64}(?:\/[a-z0-9._-]{1,64}){1,32}$/;
// A container image, by tag or digest: registry.example/team/app:1.2@sha256:...
const IMAGE =
  /^[a-z0-9][a-z0-9.-]{0,253}(?::\d{1,5})?(?:\/[a-z0-9._-]{1,128}){1,8}(?::[\w.-]{1,128})?(?:@sha256:[a-f0-9]{64})?$/;
// A Java or Python class: org.apache.kafka.common.serialization.StringSerializer
const CLASS_NAME = /^(?:[a-z_][a-z0-9_]{0,64}\.){2,16}[A-Z][A-Za-z0-9_$]{0,128}$/;
// Names of secrets kept elsewhere: AWS ARNs (a KMS key, a Secrets Manager secret), Azure Key Vault references.
const RESOURCE_NAME = /^(?:arn:aws[a-z-]*:|@Microsoft\.KeyVault\()/;
const PUBLIC_MATERIAL =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|age1[a-z0-9]{20}|-----BEGIN (?:CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|X509 CRL))/;

/**
 * Shapes that are never secrets whatever they are called: digests, password hashes, paths, images,
 * class names, public keys, resource names, URLs. A UUID is not among them: some providers' keys are UUIDs.
 */
export function isNonSecretShape(value: string): boolean {
  return (
    DIGEST.test(value) ||
    PASSWORD_HASH.test(value) ||
    isPath(value) ||
    RELATIVE_PATH.test(value) ||
    IMAGE.test(value) ||
    CLASS_NAME.test(value) ||
    PUBLIC_MATERIAL.test(value) ||
    RESOURCE_NAME.test(value) ||
    value.includes("://")
  );
}

/** A file path, unless it only starts with a slash: 1 in 64 AWS secret keys does too. */
function isPath(value: string): boolean {
  if (!PATH.test(value) || /[+=\s]/.test(value)) return false;
  return !value.split(/[/\\]/).some((segment) => segment.length >= 16 && looksRandom(segment));
}

// Words joined in camel case (CriticalAddonsOnly, openaiApiKeyProduction): a name; a random string of
// letters almost never has every capital followed by lower case.
const JOINED_WORDS = /^[A-Za-z][a-z]+(?:[A-Z][a-z]+)+$/;

/** Random-looking: long enough, no spaces, mixes character classes, and dense in information. */
export function looksRandom(value: string, minLength = 16): boolean {
  if (value.length < minLength || value.length > 1024 || /\s/.test(value) || JOINED_WORDS.test(value)) return false;
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
  const literal = (space < 0 ? text : text.slice(0, space)).replace(/[,;]+$/, "");
  // The end of a flow mapping or list around it: {name: llm, key: apiKey}
  return /[}\]]$/.test(literal) && !/[{[]/.test(literal) ? literal.replace(/[}\],;]+$/, "") : literal;
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
