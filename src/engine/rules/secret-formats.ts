// Provider key formats, as data. Each format runs only when one of its keywords occurs in the
// lowercased value (gitleaks' prefilter), and a match counts only above its entropy floor.
// Every pattern is linear: bounded character-class runs, no nested quantifiers, and a boundary
// lookbehind so a long run of token characters is scanned from one start, not from each position.
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { Severity } from "../types.ts";

export interface SecretFormat {
  provider: string;
  /** Lowercase substrings; the pattern runs only when one is present. */
  keywords: readonly string[];
  /** Global regex; the named group `secret`, when present, is the secret, else the whole match. */
  pattern: RegExp;
  /** Shannon floor (bits per character) for the secret: below it the match is a made-up example. */
  minEntropy: number;
  severity: Severity;
  /** False when even the last 4 characters say nothing useful (a PEM body). */
  showTail?: boolean;
  /** The documented public source of the shape. */
  source: string;
  /** A check a regex cannot make, e.g. that a JWT decodes. */
  accept?: (secret: string) => boolean;
}

const token = (body: string) => new RegExp(`(?<![A-Za-z0-9_-])${body}(?![A-Za-z0-9_-])`, "g");

export const JWT_PATTERN = token(
  String.raw`eyJ[A-Za-z0-9_-]{8,8192}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{16,8192}`,
);

/** A JWT is three base64url parts whose first two decode to a JOSE header and a claims object. */
export function decodesAsJwt(text: string): boolean {
  try {
    return typeof decodeProtectedHeader(text).alg === "string" && typeof decodeJwt(text) === "object";
  } catch {
    return false;
  }
}

export const SECRET_FORMATS: readonly SecretFormat[] = [
  {
    provider: "OpenAI API key",
    source:
      "OpenAI API keys page (sk-proj-, sk-svcacct-, sk-admin-, legacy sk-None-); gitleaks rule openai-api-key (T3BlbkFJ marker)",
    keywords: ["t3blbkfj"],
    pattern: token(
      `sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,300}|[A-Za-z0-9]{20})T3BlbkFJ[A-Za-z0-9_-]{20,300}`,
    ),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Anthropic API key",
    source: "Anthropic API docs (x-api-key: sk-ant-api03-...); gitleaks rule anthropic-api-key",
    keywords: ["sk-ant-"],
    pattern: token(String.raw`sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,200}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Google API key",
    source: "Google Cloud API keys docs (AIza + 35); gitleaks rule gcp-api-key",
    keywords: ["aiza"],
    pattern: token(`AIza[A-Za-z0-9_-]{35}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "AWS access key ID",
    source: "AWS IAM docs, unique ID prefixes (AKIA, ASIA, ...); gitleaks rule aws-access-token",
    keywords: ["akia", "asia", "abia", "acca"],
    pattern: token(`(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "GitHub token",
    source: "GitHub docs, About authentication: token formats (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    pattern: token(`(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Hugging Face token",
    source: "Hugging Face docs, User access tokens (hf_); gitleaks rule huggingface-access-token",
    keywords: ["hf_"],
    pattern: token(`hf_[A-Za-z0-9]{34}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Slack token",
    source: "Slack API docs, Token types (xoxb-, xoxp-, xapp-); gitleaks rule slack-bot-token",
    keywords: ["xox", "xapp-"],
    pattern: token(`(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,250}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Slack webhook URL",
    source: "Slack API docs, Incoming webhooks (hooks.slack.com/services/T.../B.../...)",
    keywords: ["hooks.slack.com"],
    pattern: /hooks\.slack\.com\/services\/(?<secret>T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32})/g,
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Stripe live key",
    source: "Stripe docs, API keys (sk_live_, rk_live_)",
    keywords: ["_live_"],
    pattern: token(`(?:sk|rk)_live_[A-Za-z0-9]{20,250}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Stripe test key",
    source: "Stripe docs, API keys (sk_test_, rk_test_)",
    keywords: ["_test_"],
    pattern: token(`(?:sk|rk)_test_[A-Za-z0-9]{20,250}`),
    minEntropy: 3,
    severity: "low",
  },
  {
    provider: "Groq API key",
    source: "shared/REFERENCE.md: gsk_ + 52 (Nosey Parker rule Groq API Key, betterleaks groq-api-key)",
    keywords: ["gsk_"],
    pattern: token(`gsk_[A-Za-z0-9]{52}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Replicate API token",
    source: "Replicate docs, API tokens (r8_ + 37)",
    keywords: ["r8_"],
    pattern: token(`r8_[A-Za-z0-9]{37}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    // The header alone is not enough: documentation writes it around "..." too.
    provider: "PEM private key",
    source: "RFC 7468, textual encodings (-----BEGIN ... PRIVATE KEY-----)",
    keywords: ["private key-----"],
    pattern: /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[^-]{0,400}?(?<secret>[A-Za-z0-9+/]{40})/g,
    minEntropy: 3.5,
    severity: "critical",
    showTail: false,
  },
  {
    // A PEM private key base64-encoded once more, as Kubernetes data fields hold them.
    provider: "PEM private key (base64)",
    source: "RFC 7468 inside RFC 4648 base64, as Kubernetes data fields hold it",
    // "-----BEGIN", or "\n-----BEGIN" when the encoded text starts with a newline.
    keywords: ["ls0tls1crudjti", "ci0tls0tqkvhsu4"],
    // Only the start of the (long) encoded text is matched, so no end boundary.
    pattern: /(?<![A-Za-z0-9+/])(?:LS0tLS1CRUdJTi|Ci0tLS0tQkVHSU4g)[A-Za-z0-9+/]{40,120}/g,
    minEntropy: 3,
    severity: "critical",
    showTail: false,
    accept: (secret) => Buffer.from(secret.slice(0, 96), "base64").toString("latin1").includes("PRIVATE KEY"),
  },
  {
    provider: "xAI API key",
    source: "xAI API docs (xai- keys); trufflehog detector xai (xai- + 80)",
    keywords: ["xai-"],
    pattern: token(`xai-[A-Za-z0-9_]{80}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "OpenRouter API key",
    source: "OpenRouter docs, API keys (sk-or-v1- + 64 hex); trufflehog detector openrouter",
    keywords: ["sk-or-v1-"],
    pattern: token(`sk-or-v1-[a-f0-9]{64}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "DeepSeek API key",
    source: "DeepSeek API docs (sk- + 32 lowercase hex); trufflehog detector deepseek",
    keywords: ["sk-"],
    pattern: token(`sk-[a-f0-9]{32}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Perplexity API key",
    source: "Perplexity API docs (pplx- keys); trufflehog detector perplexity (pplx- + 48)",
    keywords: ["pplx-"],
    pattern: token(`pplx-[A-Za-z0-9]{48}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Pinecone API key",
    source: "Pinecone docs, API keys (pcsk_<id>_<secret>)",
    keywords: ["pcsk_"],
    pattern: token(`pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40,80}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "LangSmith API key",
    source: "LangSmith docs, API keys (lsv2_pt_ personal, lsv2_sk_ service); trufflehog detector langsmith",
    keywords: ["lsv2_"],
    pattern: token(`lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "GitLab token",
    source: "GitLab docs, Token prefixes (glpat- + 20, and the other gl*- prefixes); gitleaks rule gitlab-pat",
    keywords: ["glpat-", "gldt-", "glrt-", "glptt-", "gloas-"],
    pattern: token(`(?:glpat|gldt|glrt|glptt|gloas)-[A-Za-z0-9_-]{20,64}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "npm token",
    source: "npm docs, About access tokens (npm_ + 36); gitleaks rule npm-access-token",
    keywords: ["npm_"],
    pattern: token(`npm_[A-Za-z0-9]{36}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "SendGrid API key",
    source: "Twilio SendGrid docs, API keys (SG.<22>.<43>); gitleaks rule sendgrid-api-token",
    keywords: ["sg."],
    pattern: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Google OAuth access token",
    source: "Google Identity docs, OAuth 2.0 access tokens (ya29.); gitleaks rule gcp-oauth-access-token",
    keywords: ["ya29."],
    pattern: /(?<![A-Za-z0-9_-])ya29\.[A-Za-z0-9_-]{30,2048}/g,
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Telegram bot token",
    source: "Telegram Bot API docs (<bot id>:<35 characters starting with A>); gitleaks rule telegram-bot-api-token",
    keywords: [":aa"],
    pattern: /(?<![\w:-])\d{5,16}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g,
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Discord webhook URL",
    source: "Discord developer docs, Webhook resource (discord.com/api/webhooks/<id>/<token>)",
    keywords: ["/api/webhooks/"],
    pattern: /discord(?:app)?\.com\/api\/webhooks\/(?<secret>\d{10,24}\/[A-Za-z0-9_-]{60,80})/g,
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "JWT",
    source: "RFC 7519 (three base64url parts, JOSE header and claims)",
    keywords: ["eyj"],
    pattern: JWT_PATTERN,
    minEntropy: 3,
    severity: "high",
    accept: decodesAsJwt,
  },
];

/**
 * The formats as a name holds them: a name joins words with "-" (`team-a-<key>-worker`, `<key>-<hash>-<random>`),
 * so a "-" next to a key bounds it there. For names as long as Kubernetes gives an object (253) at most: with "-"
 * both a bound and a body character, a body of thousands (a JWT's) is read again from each "-".
 */
const NAME_FORMATS: readonly SecretFormat[] = SECRET_FORMATS.map((format) => ({
  ...format,
  pattern: new RegExp(
    format.pattern.source
      .replaceAll("(?<![A-Za-z0-9_-])", "(?<![A-Za-z0-9_])")
      .replaceAll("(?![A-Za-z0-9_-])", "(?![A-Za-z0-9_])")
      .replace(String.raw`(?<![\w:-])`, String.raw`(?<![\w:])`),
    format.pattern.flags,
  ),
}));
/** The longest name Kubernetes gives an object (a DNS subdomain): NAME_FORMATS read names up to it. */
const LONGEST_NAME = 253;

/**
 * The formats as an object's own name or namespace holds them, for a finding: such a name is lower-case words
 * joined by "-" (a DNS name), so a key there has a digit, where `glpat-rotation-controller-manager` or
 * `xoxb-slack-notifier-deployment-abcdef` has none (a random key of 20 characters or more without one, and all
 * lower case as a name must be, is as rare as a DeepSeek key's 32 hex digits without one: about 1 in 10^13).
 */
const OBJECT_NAME_FORMATS: readonly SecretFormat[] = NAME_FORMATS.map((format) => ({
  ...format,
  accept: (secret) => /\d/.test(secret) && (format.accept?.(secret) ?? true),
}));
/** A name as Kubernetes allows an object's (lower case, digits, "-" and "."). */
const DNS_NAME = /^[a-z0-9.-]+$/;

/** The formats to read a name with: an object's as such, any other as a name, one past 253 characters as text. */
export function nameFormats(name: string): readonly SecretFormat[] {
  if (name.length > LONGEST_NAME) return SECRET_FORMATS;
  return DNS_NAME.test(name) ? OBJECT_NAME_FORMATS : NAME_FORMATS;
}

export const FORMAT_KEYWORDS = SECRET_FORMATS.flatMap((f) => f.keywords);
/** Every keyword of every format: one test decides whether any format needs to run at all. */
export const ANY_FORMAT_KEYWORD = new RegExp(alternation(FORMAT_KEYWORDS));

/** `a|b|...` of the keywords, escaped, without those that contain a shorter one (sk-ant- after sk-). */
function alternation(keywords: readonly string[]): string {
  const needed = keywords.filter((k) => !keywords.some((other) => other !== k && k.includes(other)));
  return [...new Set(needed)].map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|");
}
