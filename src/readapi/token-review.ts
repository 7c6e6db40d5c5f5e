// The API server's word on a service-account token, for what its keys cannot tell: whether the service
// account, and the pod or Secret the token is bound to, still exist. Checked against the keys alone, a
// token of a deleted service account works until it expires. Answers are cached briefly, keyed by the
// token's SHA-256 (the token itself is never kept), and a failed review is not.
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { describeError } from "../kube/errors.ts";
import type { KubeRest } from "../kube/rest.ts";
import { ttlCache } from "../runtime/ttl-cache.ts";
import { API_SERVER_TIMEOUT_MS } from "./authorize.ts";

/** True when the API server still accepts the token; rejects when it cannot answer. */
export type TokenReview = (token: string) => Promise<boolean>;

export interface TokenReviewOptions {
  /** The audience the token must be for: the read API's. */
  audience: string;
  logger: Logger;
  /** How long an answer is reused: a deleted service account's token is refused within it. */
  ttlMs?: number;
  maxEntries?: number;
}

export function tokenReviewer(rest: KubeRest, options: TokenReviewOptions): TokenReview {
  const answers = ttlCache<boolean>(options);
  return (token) =>
    answers(createHash("sha256").update(token).digest("base64url"), async () => {
      try {
        const review = await rest.request<{ status?: { authenticated?: boolean } }>(
          "/apis/authentication.k8s.io/v1/tokenreviews",
          {
            method: "POST",
            body: {
              apiVersion: "authentication.k8s.io/v1",
              kind: "TokenReview",
              spec: { token, audiences: [options.audience] },
            },
            signal: AbortSignal.timeout(API_SERVER_TIMEOUT_MS),
          },
        );
        return review.status?.authenticated === true;
      } catch (error) {
        options.logger.warn({ error: describeError(error) }, "read API: the API server could not review a token");
        throw error;
      }
    });
}
