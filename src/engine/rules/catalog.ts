// The rules as users see them: id, category, what they find, the fix. The README, SARIF rule
// metadata and the text report all read this table.
import type { Category, RuleId, Severity } from "../types.ts";

export interface RuleInfo {
  id: RuleId;
  category: Category;
  title: string;
  description: string;
  fix: string;
  defaultSeverity: Severity;
}

export const RULES: Record<RuleId, RuleInfo> = {
  "hardcoded-secret": {
    id: "hardcoded-secret",
    category: "hardcoded-secret",
    title: "Hardcoded secret",
    description:
      "An API key, token, password or private key written as a literal in env values, command, args or ConfigMap data.",
    fix: "Store it in a Secret and reference it with env[].valueFrom.secretKeyRef (or mount the Secret as a file), then revoke and rotate the exposed credential.",
    defaultSeverity: "high",
  },
  "credentials-in-url": {
    id: "credentials-in-url",
    category: "hardcoded-secret",
    title: "Credentials in URL",
    description: "A URL of the form scheme://user:password@host with a literal password.",
    fix: "Take the password out of the URL: put it in a Secret, pass it with env[].valueFrom.secretKeyRef and build the URL at runtime (e.g. $(DB_PASSWORD)), then rotate the password.",
    defaultSeverity: "high",
  },
  "plaintext-endpoint": {
    id: "plaintext-endpoint",
    category: "plaintext-endpoint",
    title: "Plaintext endpoint",
    description:
      "An http:// or ws:// URL to a host outside the cluster, or to the endpoint of an AiApiPolicy, in env values, command or args.",
    fix: "Use https:// or wss://. If the host is a Service in this cluster, write its in-cluster name (<service>.<namespace>.svc).",
    defaultSeverity: "medium",
  },
  "long-lived-token": {
    id: "long-lived-token",
    category: "hardcoded-secret",
    title: "Long-lived token",
    description: "A JWT literal with no exp claim or a lifetime over 24 hours.",
    fix: "Use a short-lived token (24 h or less) obtained at runtime, e.g. a projected service account token or your identity provider's token exchange, instead of a literal JWT.",
    defaultSeverity: "medium",
  },
  "unregistered-ai-api": {
    id: "unregistered-ai-api",
    category: "inventory",
    title: "Unregistered AI API",
    description:
      "A workload names the host of a known AI provider, or of an AiApiPolicy endpoint, in env values, command, args or a ConfigMap it reads, and no AiApiPolicy with that endpoint selects it.",
    fix: "Declare the API: an AiApiPolicy in the workload's namespace whose spec.api.endpoint has this host and whose selector matches the workload's pod labels (it puts the API in the inventory, with an owner and a review date). Or stop calling it.",
    defaultSeverity: "medium",
  },
};
