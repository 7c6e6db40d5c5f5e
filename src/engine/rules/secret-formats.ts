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
    keywords: ["t3blbkfj"],
    pattern: token(`sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,300}|[A-Za-z0-9]{20})T3BlbkFJ[A-Za-z0-9_-]{20,300}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Anthropic API key",
    keywords: ["sk-ant-"],
    pattern: token(String.raw`sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,200}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Google API key",
    keywords: ["aiza"],
    pattern: token(`AIza[A-Za-z0-9_-]{35}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "AWS access key ID",
    keywords: ["akia", "asia", "abia", "acca"],
    pattern: token(`(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "GitHub token",
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    pattern: token(`(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Hugging Face token",
    keywords: ["hf_"],
    pattern: token(`hf_[A-Za-z0-9]{34}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Slack token",
    keywords: ["xox", "xapp-"],
    pattern: token(`(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,250}`),
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Slack webhook URL",
    keywords: ["hooks.slack.com"],
    pattern: /hooks\.slack\.com\/services\/(?<secret>T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32})/g,
    minEntropy: 3,
    severity: "high",
  },
  {
    provider: "Stripe live key",
    keywords: ["_live_"],
    pattern: token(`(?:sk|rk)_live_[A-Za-z0-9]{20,250}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Stripe test key",
    keywords: ["_test_"],
    pattern: token(`(?:sk|rk)_test_[A-Za-z0-9]{20,250}`),
    minEntropy: 3,
    severity: "low",
  },
  {
    provider: "Groq API key",
    keywords: ["gsk_"],
    pattern: token(`gsk_[A-Za-z0-9]{48}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    provider: "Replicate API token",
    keywords: ["r8_"],
    pattern: token(`r8_[A-Za-z0-9]{37}`),
    minEntropy: 3,
    severity: "critical",
  },
  {
    // The header alone is not enough: documentation writes it around "..." too.
    provider: "PEM private key",
    keywords: ["private key-----"],
    pattern: /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[^-]{0,400}?(?<secret>[A-Za-z0-9+/]{40})/g,
    minEntropy: 3.5,
    severity: "critical",
    showTail: false,
  },
  {
    // A PEM private key base64-encoded once more, as Kubernetes data fields hold them.
    provider: "PEM private key (base64)",
    keywords: ["ls0tls1crudjti"],
    // Only the start of the (long) encoded text is matched, so no end boundary.
    pattern: /(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,120}/g,
    minEntropy: 3,
    severity: "critical",
    showTail: false,
    accept: (secret) => Buffer.from(secret.slice(0, 96), "base64").toString("latin1").includes("PRIVATE KEY"),
  },
  {
    provider: "JWT",
    keywords: ["eyj"],
    pattern: JWT_PATTERN,
    minEntropy: 3,
    severity: "high",
    accept: decodesAsJwt,
  },
];

/** Every keyword of every format: one test decides whether any format needs to run at all. */
export const ANY_FORMAT_KEYWORD = new RegExp(
  SECRET_FORMATS.flatMap((f) => f.keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))).join("|"),
);
