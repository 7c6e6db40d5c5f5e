/**
 * A status other than 2xx from the API server: the code and the body (a Status object, or the text
 * when it is not JSON). Shaped like client-node's ApiException, whose typed clients throw that one:
 * isApiError recognises both, so code that talks through KubeRest need not import client-node.
 */
export class ApiError extends Error {
  readonly code: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(code: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${code}`);
    this.code = code;
    this.body = body;
    this.headers = headers;
    this.name = "ApiError";
  }
}

/** This error or client-node's ApiException: an answer of the API server with its status code. */
export function isApiError(
  error: unknown,
): error is Error & { code: number; body: unknown; headers?: Record<string, string> } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number" && "body" in error;
}

/** A short description of a Kubernetes client error for logs, Events and conditions: status and reason only. */
export function describeError(error: unknown): string {
  if (isApiError(error)) return `HTTP ${error.code}${reasonOf(error.body)}`;
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
