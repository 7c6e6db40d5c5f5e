// The response to a credential found in a running workload: a Warning Event (reason CredentialExposed)
// on the workload and on each policy that selects it, and a log line an alert can match, once per
// finding (the audit calls this only for findings that were not in the report before). Redacted: the
// rule's hint at most, never the value.
import type { Logger } from "pino";
import { API_GROUP, API_VERSION, KIND } from "../api/index.ts";
import { describeOwner } from "../engine/index.ts";
import { type RecordEvent, WITHHELD } from "../kube/events.ts";
import type { AuditFinding } from "./report.ts";

export const CREDENTIAL_EXPOSED = "CredentialExposed";

/** Findings that mean a usable credential sits in the object: the category every credential rule shares. */
export function exposesCredential(finding: AuditFinding): boolean {
  return finding.category === "hardcoded-secret" && !finding.exempt;
}

export function credentialResponder(recordEvent: RecordEvent, logger: Logger): (finding: AuditFinding) => void {
  return (finding) => {
    if (!exposesCredential(finding)) return;
    const owner = describeOwner(finding);
    const where = `${finding.kind}/${finding.name}${owner === undefined ? "" : ` ${owner}`} at ${finding.path}`;
    const message = `${finding.rule}: ${finding.hint} in ${where}. The credential may be compromised: rotate it, then ${finding.fix.charAt(0).toLowerCase()}${finding.fix.slice(1)}`;
    logger.warn(
      {
        alert: CREDENTIAL_EXPOSED,
        namespace: finding.namespace,
        kind: finding.kind,
        name: finding.name,
        container: finding.container,
        volume: finding.volume,
        path: finding.path,
        rule: finding.rule,
        hint: finding.hint,
        policies: finding.policies,
        ...(finding.nameHoldsKey && { event: WITHHELD }),
      },
      "credential exposed in a running workload",
    );
    const workload = {
      apiVersion: finding.apiVersion,
      kind: finding.kind,
      namespace: finding.namespace,
      name: finding.name,
      ...(finding.uid ? { uid: finding.uid } : {}),
    };
    if (!finding.nameHoldsKey) recordEvent({ type: "Warning", reason: CREDENTIAL_EXPOSED, object: workload, message });
    for (const policy of finding.policies) {
      recordEvent({
        type: "Warning",
        reason: CREDENTIAL_EXPOSED,
        object: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, namespace: finding.namespace, name: policy },
        message,
      });
    }
  };
}
