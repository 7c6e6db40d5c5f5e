// What a name says about its value: OPENAI_API_KEY holds a credential, TOKEN_URL does not.
// Names come from env vars, ConfigMap keys, flags (--api-key) and assignments inside files.

const CREDENTIAL_WORDS = new Set([
  "key",
  "apikey",
  "token",
  "secret",
  "password",
  "passwd",
  "pwd",
  "pass",
  "passphrase",
  "credential",
  "credentials",
  "auth",
  "authorization",
  "bearer",
  "pat",
  "creds",
  "cred",
]);
const PASSWORD_WORDS = new Set(["password", "passwd", "pwd", "pass", "passphrase"]);
// Credential words written into one word with what they belong to: MISTRALAPIKEY, dbPassword, authtoken.
const FUSED_SUFFIX =
  /^([a-z0-9]{2,}?)(apikey|accesskey|secretkey|privatekey|masterkey|password|passwd|passphrase|secret|token|creds|credentials)$/;
// The last word(s) of a name for a value that is a secret key whatever it looks like: a literal under it
// is hardcoded even when weak (MINIO_SECRET_KEY=minio123, LITELLM_MASTER_KEY=sk-1234).
const SECRET_KEY_PAIRS = new Set(["secret key", "master key", "admin key", "private key", "secret"]);
// A last word that makes the name about something other than the secret itself.
const NOT_THE_SECRET = new Set([
  ...["url", "uri", "endpoint", "host", "hostname", "port", "path", "file", "dir", "name", "id", "ref", "env", "var"],
  ...["ttl", "expiry", "expires", "timeout", "interval", "length", "len", "size", "count", "max", "min", "limit"],
  ...["type", "mode", "enabled", "enable", "disabled", "required", "header", "algorithm", "alg", "prefix", "suffix"],
  ...["version", "format", "provider", "region", "issuer", "audience", "scope", "scopes", "kind", "location"],
  ...["hash", "sha", "sha1", "sha256", "sha512", "md5", "digest", "checksum", "fingerprint", "policy", "rotation"],
  ...["field", "property", "source", "store", "vault", "mount", "selector", "label", "annotation"],
  ...["usage", "serializer", "deserializer", "class", "image", "tag", "strategy", "method", "namespace", "user"],
  ...["username", "group", "bucket", "table", "column", "config", "schema", "template", "style", "delimiter"],
]);
const DIGEST_WORDS = new Set(["hash", "sha", "sha1", "sha256", "sha512", "md5", "digest", "checksum", "fingerprint"]);
// Public halves and certificates are meant to be shared: PUBLIC_KEY, publishableKey, ca.crt, TLS_CERT.
const PUBLIC_WORDS = new Set(["public", "publishable", "pub", "pubkey"]);
const CERTIFICATE_WORDS = new Set(["cert", "certificate", "crt", "ca", "pem", "cacert"]);

/** Splits OPENAI_API_KEY, openai.apiKey, x-api-key and clientSecret into lowercase words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .flatMap((word) => {
      const fused = FUSED_SUFFIX.exec(word);
      return fused?.[1] && fused[2] ? [fused[1], fused[2]] : [word];
    });
}

/** "password": a password or secret key, whose every literal is hardcoded, weak or not. */
export type NameKind = "password" | "credential" | "other";

// Every credential or password word above contains one of these: text without any of them names no
// credential, so the generic rule can skip it (gitleaks' keyword prefilter, for names).
export const CREDENTIAL_KEYWORDS = ["key", "token", "secret", "pass", "pwd", "cred", "auth", "bearer", "pat"];
export const CREDENTIAL_SUBSTRING = new RegExp(CREDENTIAL_KEYWORDS.join("|"));

export function mayNameCredential(lowercaseText: string): boolean {
  return CREDENTIAL_SUBSTRING.test(lowercaseText);
}

// The same env names recur in every object; remembering their kind keeps the admission path fast.
const KIND_CACHE = new Map<string, NameKind>();
const KIND_CACHE_SIZE = 4096;

export function classifyName(name: string | undefined): NameKind {
  if (!name) return "other";
  let kind = KIND_CACHE.get(name);
  if (kind === undefined) {
    if (KIND_CACHE.size >= KIND_CACHE_SIZE) KIND_CACHE.clear();
    kind = classifyWords(nameWords(name));
    KIND_CACHE.set(name, kind);
  }
  return kind;
}

function classifyWords(words: readonly string[]): NameKind {
  const last = words.at(-1);
  if (!last || NOT_THE_SECRET.has(last) || CERTIFICATE_WORDS.has(last) || isPublicHalf(words)) return "other";
  // checksum/secret, CONFIG_SHA256_PASSWORD: a digest of the secret, not the secret.
  if (words.some((w) => DIGEST_WORDS.has(w))) return "other";
  // existingSecretPasswordKey, existingPasswordSecret (Helm charts' values): a Secret and the key in it that
  // hold the password, named; the value is never the password.
  if (words[0] === "existing" && words.includes("secret")) return "other";
  const pair = words.slice(-2).join(" ");
  // A lone "secret" names a Secret object as often as a value (secret: my-creds); CLIENT_SECRET does not.
  if (last === "key" && NOT_A_SECRET_KEY.has(words.at(-2) ?? "")) return "other";
  // SECRET_KEY, AWS_SECRET_ACCESS_KEY, CLIENT_SECRET_KEY: a secret key, whatever comes between.
  const secretKey = last === "key" && words.includes("secret");
  if (PASSWORD_WORDS.has(last) || secretKey || (SECRET_KEY_PAIRS.has(pair) && pair !== "secret")) return "password";
  if (last === "secret" && words.length > 1 && !REFERENCE_WORDS.has(words.at(-2) ?? "")) return "password";
  return words.some((w) => CREDENTIAL_WORDS.has(w)) ? "credential" : "other";
}

// Keys that index data rather than unlock anything.
const NOT_A_SECRET_KEY = new Set(["idempotency", "cache", "partition", "sort", "primary", "foreign", "routing"]);
// existingSecret, secretName's cousins: the value names a Secret object; so does TLS_SECRET or
// CERTIFICATE_SECRET, a Secret that holds a certificate (a secret value under it would be its key).
const REFERENCE_WORDS = new Set([
  ...["existing", "k8s", "kube", "kubernetes", "sealed", "external", "use", "from", "tls"],
  ...CERTIFICATE_WORDS,
]);

/** PUBLIC_KEY, pub_key, publishableKey; not PUB_SUB_API_KEY, whose "pub" is Pub/Sub. */
function isPublicHalf(words: readonly string[]): boolean {
  return words.some((w, i) => PUBLIC_WORDS.has(w) && (w !== "pub" || words[i + 1] === "key" || i === words.length - 1));
}

// Providers whose keys have no prefix are known by the name they are stored under.
const PROVIDER_BY_NAME: readonly (readonly [RegExp, string])[] = [
  // AzureOpenAI splits as "azure open ai" (OpenAI's capitals), OPEN_AI_KEY as written.
  [/azure.*open_?ai|open_?ai.*azure|aoai/, "Azure OpenAI key"],
  [/open_?ai/, "OpenAI API key"],
  [/anthropic|claude/, "Anthropic API key"],
  [/mistral/, "Mistral API key"],
  [/cohere|(^|_)co_api_key/, "Cohere API key"],
  [/gemini|google|vertex/, "Google API key"],
  [/huggingface|(^|_)hf_|(^|_)hugging/, "Hugging Face token"],
  [/groq/, "Groq API key"],
  [/replicate/, "Replicate API token"],
  [/together/, "Together AI API key"],
  [/perplexity|pplx/, "Perplexity API key"],
  [/deepseek/, "DeepSeek API key"],
  [/voyage/, "Voyage AI API key"],
  [/pinecone/, "Pinecone API key"],
  [/langchain|langsmith/, "LangSmith API key"],
  [/openrouter/, "OpenRouter API key"],
  [/elevenlabs/, "ElevenLabs API key"],
  [/fireworks/, "Fireworks AI API key"],
  [/(^|_)aws_|amazon/, "AWS secret access key"],
  [/azure/, "Azure key"],
];

/** The provider a credential name points at, e.g. MISTRAL_API_KEY → "Mistral API key". */
export function providerByName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const joined = `_${nameWords(name).join("_")}`;
  return PROVIDER_BY_NAME.find(([pattern]) => pattern.test(joined))?.[1];
}
