// The cluster's report (ClusterReport ai-api-guard): the findings of cluster-scoped objects. Read by the audit,
// which writes it, and by the read API on every replica.
import { objectPath } from "../kube/resources.ts";
import { isStatus, type KubeRest } from "../kube/rest.ts";
import { CLUSTER_REPORT_TYPES, type PolicyReportObject, REPORT_NAME, type ReportFormat } from "./report.ts";

/** The cluster's report; undefined when there is none, or no CRD for it. Any other failure throws. */
export async function readClusterReport(
  rest: KubeRest,
  format: ReportFormat,
  signal?: AbortSignal,
): Promise<PolicyReportObject | undefined> {
  try {
    return await rest.request<PolicyReportObject>(objectPath(CLUSTER_REPORT_TYPES[format], "", REPORT_NAME), {
      signal,
    });
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}
