// Known AI provider API hosts, for `unregistered-ai-api`: a data table like the secret formats.
// `*` stands for part of one DNS label (a region, a resource name), never a dot.

export interface AiProvider {
  name: string;
  hosts: readonly string[];
}

export const AI_PROVIDERS: readonly AiProvider[] = [
  { name: "OpenAI", hosts: ["api.openai.com"] },
  { name: "Azure OpenAI", hosts: ["*.openai.azure.com", "*.services.ai.azure.com", "*.cognitiveservices.azure.com"] },
  { name: "Anthropic", hosts: ["api.anthropic.com"] },
  { name: "Google Generative Language (Gemini)", hosts: ["generativelanguage.googleapis.com"] },
  { name: "Google Vertex AI", hosts: ["aiplatform.googleapis.com", "*-aiplatform.googleapis.com"] },
  {
    name: "AWS Bedrock",
    hosts: ["bedrock.*.amazonaws.com", "bedrock-runtime.*.amazonaws.com", "bedrock-agent-runtime.*.amazonaws.com"],
  },
  { name: "Mistral AI", hosts: ["api.mistral.ai", "codestral.mistral.ai"] },
  { name: "Cohere", hosts: ["api.cohere.ai", "api.cohere.com"] },
  { name: "Groq", hosts: ["api.groq.com"] },
  { name: "Together AI", hosts: ["api.together.xyz", "api.together.ai"] },
  { name: "Replicate", hosts: ["api.replicate.com"] },
  {
    name: "Hugging Face Inference",
    hosts: ["api-inference.huggingface.co", "router.huggingface.co", "*.endpoints.huggingface.cloud"],
  },
  { name: "DeepSeek", hosts: ["api.deepseek.com"] },
  { name: "Perplexity", hosts: ["api.perplexity.ai"] },
  { name: "Fireworks AI", hosts: ["api.fireworks.ai"] },
  { name: "xAI", hosts: ["api.x.ai"] },
  { name: "OpenRouter", hosts: ["openrouter.ai"] },
  { name: "AI21 Labs", hosts: ["api.ai21.com"] },
  { name: "Voyage AI", hosts: ["api.voyageai.com"] },
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/** One anchored pattern per provider; `*` matches one label's characters. */
const PATTERNS = AI_PROVIDERS.map((provider) => ({
  name: provider.name,
  pattern: new RegExp(`^(?:${provider.hosts.map((h) => escapeRegExp(h).replaceAll("\\*", "[a-z0-9-]+")).join("|")})$`),
}));

/** Any provider's host: one test for the many hosts that are no provider's. */
const ANY_PROVIDER = new RegExp(PATTERNS.map((p) => p.pattern.source).join("|"));

/** The provider whose API `host` (lower case) is, or undefined. */
export function aiProviderOf(host: string): string | undefined {
  if (!ANY_PROVIDER.test(host)) return undefined;
  return PATTERNS.find((p) => p.pattern.test(host))?.name;
}
