// Checks of AiApiPolicy objects that the CRD schema cannot make: CEL in CRDs has no clock, so a
// lastReviewed date in the future is refused here, at admission, with the field named.
import { parseAiApiPolicy, reviewState } from "../api/index.ts";
import { shownName } from "../engine/index.ts";

/** Why the policy object must be refused, or undefined. The schema's own checks stay with the API server. */
export function policyProblem(object: unknown, now: Date): string | undefined {
  const parsed = parseAiApiPolicy(object);
  if (!parsed.ok) return undefined;
  const { policy } = parsed;
  if (reviewState(policy, now).state !== "InFuture") return undefined;
  return (
    `AiApiPolicy ${shownName(policy.metadata.namespace ?? "")}/${shownName(policy.metadata.name)}: spec.api.lastReviewed ` +
    `"${policy.spec.api.lastReviewed}" is in the future; set it to the date of the last security review (YYYY-MM-DD, today or earlier)`
  );
}
