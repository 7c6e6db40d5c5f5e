import * as k8s from "@kubernetes/client-node";

/** A short description of a Kubernetes client error for logs, Events and conditions: status and reason only. */
export function describeError(error: unknown): string {
  if (error instanceof k8s.ApiException) return `HTTP ${error.code}${reasonOf(error.body)}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function reasonOf(body: unknown): string {
  try {
    const parsed = typeof body === "string" ? JSON.parse(body) : body;
    return parsed && typeof parsed === "object" && "message" in parsed ? `: ${String(parsed.message)}` : "";
  } catch {
    return "";
  }
}
