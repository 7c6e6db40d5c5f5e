// Fake credentials in the real formats, built at runtime from a seed so that no source file of this
// repository holds anything that looks like a live key (and secret scanners leave it alone).

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
export const ALNUM = UPPER + LOWER + DIGITS;
export const HEX = "0123456789abcdef";
const BASE64 = `${ALNUM}+/`;

/** A deterministic generator (mulberry32): the same seed gives the same fake keys in every run. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (length: number, alphabet = ALNUM) =>
    Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function fakeJwt(claims: Record<string, unknown>, random: (n: number) => string): string {
  return [b64url({ alg: "HS256", typ: "JWT" }), b64url(claims), random(43)].join(".");
}

const NOW_SECONDS = Date.UTC(2026, 10, 27) / 1000;
export const FAKE_NOW = new Date(NOW_SECONDS * 1000);

/** Every kind of fake secret the tests and the corpus use, by name. */
export function fakeSecrets(seed: number): Record<string, string> {
  const r = seeded(seed);
  const pem = (label: string) =>
    [`-----BEGIN ${label}-----`, ...Array.from({ length: 6 }, () => r(64, BASE64)), `-----END ${label}-----`].join(
      "\n",
    );
  return {
    openai: `sk-proj-${r(74)}T3BlbkFJ${r(74)}`,
    "openai-legacy": `sk-${r(20)}T3BlbkFJ${r(20)}`,
    anthropic: `sk-ant-api03-${r(93)}AA`,
    google: `AIza${r(35)}`,
    "aws-id": `AKIA${r(16, UPPER + DIGITS)}`,
    "aws-secret": r(40, BASE64),
    github: `ghp_${r(36)}`,
    "github-pat": `github_pat_${r(82)}`,
    hf: `hf_${r(34, UPPER + LOWER)}`,
    slack: `xoxb-${r(12, DIGITS)}-${r(13, DIGITS)}-${r(24)}`,
    "slack-webhook": `https://hooks.slack.com/services/T${r(9, UPPER + DIGITS)}/B${r(9, UPPER + DIGITS)}/${r(24)}`,
    stripe: `sk_live_${r(99)}`,
    // Real Groq keys are gsk_ + 52 (shared/REFERENCE.md).
    groq: `gsk_${r(52)}`,
    "openai-none": `sk-None-${r(74)}T3BlbkFJ${r(74)}`,
    xai: `xai-${r(80)}`,
    deepseek: `sk-${r(32, HEX)}`,
    openrouter: `sk-or-v1-${r(64, HEX)}`,
    perplexity: `pplx-${r(48)}`,
    pinecone: `pcsk_${r(6)}_${r(64)}`,
    langsmith: `lsv2_pt_${r(32, HEX)}_${r(10, HEX)}`,
    gitlab: `glpat-${r(20)}`,
    npm: `npm_${r(36)}`,
    sendgrid: `SG.${r(22)}.${r(43)}`,
    "google-oauth": `ya29.${r(120)}`,
    telegram: `${r(10, DIGITS)}:AA${r(33)}`,
    "discord-webhook": `https://discord.com/api/webhooks/${r(19, DIGITS)}/${r(68)}`,
    "pem-base64-newline": Buffer.from(`\n${pem("PRIVATE KEY")}`).toString("base64"),
    replicate: `r8_${r(37)}`,
    azure: r(32, HEX),
    mistral: r(32),
    cohere: r(40),
    random: r(40),
    password: `${r(6, LOWER)}-${r(4, DIGITS)}-${r(3, UPPER)}`,
    pem: pem(`RSA PRIVATE KEY`),
    "pem-base64": Buffer.from(pem(`PRIVATE KEY`)).toString("base64"),
    "jwt-no-exp": fakeJwt({ sub: "batch", iat: NOW_SECONDS - 3600 }, r),
    "jwt-year": fakeJwt({ sub: "ci", iat: NOW_SECONDS - 60, exp: NOW_SECONDS + 365 * 86400 }, r),
    "jwt-hour": fakeJwt({ sub: "job", iat: NOW_SECONDS - 60, exp: NOW_SECONDS + 3600 }, r),
  };
}
