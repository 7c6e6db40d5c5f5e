// What the read API serves, read from the cluster so that every replica answers alike (the audit runs
// on the leader only): the findings from the audit's reports, and the inventory, computed at most once
// per `ttlMs` however many requests ask.
import type * as k8s from "@kubernetes/client-node";
import { readClusterReport } from "../audit/cluster-report.ts";
import {
  type AuditFinding,
  CLUSTER_REPORT_TYPES,
  findingsOf,
  MANAGED_BY,
  type PolicyReportObject,
  REPORT_NAME,
  REPORT_TYPES,
  type ReportFormat,
} from "../audit/report.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryFromCluster } from "../inventory/sources.ts";
import { listPages } from "../kube/pages.ts";
import type { Resource } from "../kube/resources.ts";
import { KubeRest } from "../kube/rest.ts";

export interface ClusterSourceOptions {
  format: ReportFormat;
  namespaces?: readonly string[];
  ttlMs?: number;
  pageSize?: number;
}

export function clusterSources(kc: k8s.KubeConfig, options: ClusterSourceOptions) {
  const scope = { namespaces: options.namespaces, pageSize: options.pageSize ?? 500 };
  const rest = new KubeRest(kc);
  const labelSelector = Object.entries(MANAGED_BY)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return {
    /** Findings are granted by list on the reports they come from. */
    findingsResource: grantedBy(REPORT_TYPES[options.format]),
    clusterFindingsResource: grantedBy(CLUSTER_REPORT_TYPES[options.format]),
    inventory: cached(options.ttlMs ?? 30_000, async (): Promise<Inventory> => {
      return (await inventoryFromCluster(kc, scope, new Date())).inventory;
    }),
    findings: cached(options.ttlMs ?? 30_000, async (): Promise<AuditFinding[]> => {
      const findings: AuditFinding[] = [];
      for await (const page of listPages(kc, REPORT_TYPES[options.format], { ...scope, labelSelector }))
        for (const report of page as unknown as PolicyReportObject[])
          if (report.metadata.name === REPORT_NAME) findings.push(...findingsOf(report));
      // The cluster's report, read when every namespace is (as the audit writes it then).
      const cluster = options.namespaces ? undefined : await readClusterReport(rest, options.format);
      if (cluster) findings.push(...findingsOf(cluster));
      return findings;
    }),
  };
}

const grantedBy = (type: Resource) => ({ group: type.group, resource: type.plural });

/** The last value for `ttlMs`; concurrent callers share one computation; a failure is not kept. */
function cached<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let value: { promise: Promise<T>; until: number } | undefined;
  return () => {
    if (value && value.until > Date.now()) return value.promise;
    const promise = compute();
    const entry = { promise, until: Date.now() + ttlMs };
    value = entry;
    promise.catch(() => {
      if (value === entry) value = undefined;
    });
    return promise;
  };
}
