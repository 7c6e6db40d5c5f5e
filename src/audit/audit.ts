// The background audit: the admission rules over what already runs. ConfigMaps and workloads are read
// in pages (memory bounded by a page plus the findings), one report per namespace is written with
// server-side apply only when it changed, and deleted once the namespace has no findings left.
// `runAudit` is one run; `auditLoop` runs it at start and every interval until its signal aborts, so
// the operator can run it on the leader only. The signal cuts a run short too: a replica that lost the
// Lease sends no request after it noticed, so no Report, quarantine or Event of its run lands beside the
// new leader's.
import { setTimeout as sleep } from "node:timers/promises";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { workloadKindOf } from "../api/workload-kinds.ts";
import { evaluate, shownName } from "../engine/index.ts";
import type { Json } from "../engine/objects.ts";
import { podLabels, registeredApi } from "../engine/rules/unregistered-ai-api.ts";
import type { Finding } from "../engine/types.ts";
import { type Inventory, InventoryBuilder } from "../inventory/inventory.ts";
import {
  AiConfigMaps,
  type ClusterScope,
  clusterPolicies,
  topLevelWorkloads,
  withReadiness,
} from "../inventory/sources.ts";
import { describeError } from "../kube/errors.ts";
import type { RecordEvent } from "../kube/events.ts";
import { matchesSelector } from "../kube/label-selector.ts";
import { byCodePoint } from "../kube/order.ts";
import { CONFIGMAP_TYPE, listPages } from "../kube/pages.ts";
import { apiVersionOf, objectPath } from "../kube/resources.ts";
import { isStatus, KubeRest } from "../kube/rest.ts";
import { readClusterReport } from "./cluster-report.ts";
import type { AuditMetrics } from "./metrics.ts";
import { type QuarantineTarget, quarantineKey, reconcileQuarantines } from "./quarantine.ts";
import {
  type AuditFinding,
  announcedIn,
  buildReport,
  findingKey,
  findingsOf,
  MANAGED_BY,
  type PolicyReportObject,
  REPORT_NAME,
  REPORT_TYPES,
  type ReportFormat,
  reportChanged,
  reportType,
  resultKey,
} from "./report.ts";
import { exposesCredential } from "./response.ts";

export interface AuditOptions {
  kc: k8s.KubeConfig;
  logger: Logger;
  format?: ReportFormat;
  /** Objects per list request (limit/continue). */
  pageSize?: number;
  /** These namespaces; every namespace when absent. */
  namespaces?: readonly string[];
  /** Namespaces the audit leaves alone, as the webhook does. */
  exemptNamespaces?: readonly string[];
  /** Stops the run where it is (the Lease lost): the request in flight is aborted, nothing more is written or announced. */
  signal?: AbortSignal;
  metrics?: AuditMetrics;
  now?: () => Date;
  /**
   * Each enforced finding that was not in its namespace's report before this run: announced once
   * (Events, quarantine), however many runs it stands.
   */
  onNewFinding?: (finding: AuditFinding) => void;
  /** Each finding that was in a report before and is gone now. */
  /** For the quarantine's Events (Quarantined, QuarantineLifted). */
  recordEvent?: RecordEvent;
  onResolvedFinding?: (key: { namespace: string; kind: string; name: string; rule: string; path: string }) => void;
}

export interface AuditResult {
  startedAt: Date;
  durationMs: number;
  configMaps: number;
  workloads: number;
  findings: AuditFinding[];
  /** The AI API inventory of what the run read (as `ai-api-guard inventory` prints it). */
  inventory: Inventory;
  /** Namespaces whose report was written, left as it was, deleted, or could not be written. */
  written: string[];
  unchanged: string[];
  deleted: string[];
  failed: string[];
  /** Workloads (namespace/Kind/name) quarantined or released by this run. */
  quarantine: { added: string[]; lifted: string[] };
}

export async function runAudit(options: AuditOptions): Promise<AuditResult> {
  const started = performance.now();
  const startedAt = options.now?.() ?? new Date();
  const scope: ClusterScope = {
    pageSize: options.pageSize ?? 500,
    namespaces: options.namespaces,
    signal: options.signal,
  };
  const exempt = new Set(options.exemptNamespaces ?? []);
  options.logger.debug({ namespaces: options.namespaces ?? "all", pageSize: scope.pageSize }, "audit run started");
  const { policies, errors } = await clusterPolicies(options.kc, scope);
  for (const error of errors) options.logger.warn({ error: error.message }, "audit: an AiApiPolicy cannot be read");
  const registered = policies.map(registeredApi);
  const context = { policyEndpointHosts: registered.map((p) => p.endpointHost), now: startedAt };
  const aiConfigMaps = new AiConfigMaps(new Set(context.policyEndpointHosts));
  const findings: AuditFinding[] = [];
  const quarantines = new Map<string, QuarantineTarget>();
  const collect = (object: Json, found: readonly Finding[]) => {
    if (found.length === 0) return;
    const {
      uid,
      namespace = "",
      name = "",
    } = (object.metadata ?? {}) as { uid?: string; namespace?: string; name?: string };
    const kind = String(object.kind);
    const apiVersion = String(object.apiVersion);
    const labels = podLabels(object);
    const selecting = policies.filter(
      (p) => p.metadata.namespace === namespace && matchesSelector(p.spec.selector, labels),
    );
    const records = found.map(({ pathSegments: _path, ...finding }) => ({
      ...finding,
      apiVersion,
      ...(uid ? { uid } : {}),
      // The engine shows a name that holds a key by its hint.
      ...(finding.name !== name && { nameHoldsKey: true as const }),
      policies: selecting.map((p) => p.metadata.name),
    }));
    findings.push(...records);
    // A core workload's pods: a custom resource's pods are quarantined through the workload its operator made.
    const quarantinable = kind !== "ConfigMap" && workloadKindOf(object)?.extra === false;
    if (quarantinable && records.some(exposesCredential) && selecting.some((p) => p.spec.response?.quarantine)) {
      const target = { apiVersion, kind, namespace, name, ...(uid ? { uid } : {}), labels };
      quarantines.set(quarantineKey(target), target);
    }
  };
  const inScope = (object: Json) => !exempt.has(String((object.metadata as { namespace?: string })?.namespace));

  let configMaps = 0;
  for await (const page of listPages(options.kc, CONFIGMAP_TYPE, scope)) {
    for (const configMap of page.filter(inScope)) {
      configMaps++;
      aiConfigMaps.add(configMap);
      collect(configMap, evaluate(configMap, context).findings);
    }
  }
  let workloads = 0;
  // The same pass yields the inventory the read API serves: no second listing of the cluster.
  const inventory = new InventoryBuilder(policies, startedAt, aiConfigMaps.lookup);
  // A kind it could not list keeps its results of the last run: not listed is not fixed.
  const leftOut = new Set<string>();
  const unlisted = (kind: string, message: string) => {
    leftOut.add(kind);
    options.logger.warn(`audit: ${message}`);
  };
  for await (const workload of topLevelWorkloads(options.kc, scope, unlisted)) {
    if (!inScope(workload)) continue;
    workloads++;
    // One walk of the workload for every rule; the inventory records its AI API uses from the same findings.
    const found = evaluate(workload, { ...context, inventory: inventory.context }).findings;
    inventory.addWorkload(
      workload,
      found.filter((finding) => finding.rule === "unregistered-ai-api"),
    );
    collect(workload, found);
  }

  const { kept, ...outcome } = await writeReports(options, findings, startedAt, leftOut);
  findings.push(...kept);
  const quarantine = await reconcileQuarantines(options.kc, quarantines, scope, options.logger, options.recordEvent);
  const durationMs = performance.now() - started;
  record(options, findings, durationMs);
  const result = {
    startedAt,
    durationMs,
    configMaps,
    workloads,
    findings,
    inventory: withReadiness(inventory.result()),
    ...outcome,
    quarantine,
  };
  options.logger.info(
    {
      configMaps,
      workloads,
      findings: findings.length,
      written: outcome.written.length,
      unchanged: outcome.unchanged.length,
      deleted: outcome.deleted.length,
      durationMs: Math.round(durationMs),
    },
    "audit run finished",
  );
  return result;
}

async function writeReports(
  options: AuditOptions,
  found: readonly AuditFinding[],
  now: Date,
  leftOut: ReadonlySet<string>,
): Promise<Pick<AuditResult, "written" | "unchanged" | "deleted" | "failed"> & { kept: AuditFinding[] }> {
  const format = options.format ?? "openreports";
  const type = REPORT_TYPES[format];
  const signal = options.signal;
  const existing = new Map<string, PolicyReportObject>();
  const labelSelector = Object.entries(MANAGED_BY)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const rest = new KubeRest(options.kc);
  try {
    const scope = { pageSize: options.pageSize ?? 500, namespaces: options.namespaces, labelSelector, signal };
    for await (const page of listPages(options.kc, type, scope)) {
      for (const report of page as unknown as PolicyReportObject[])
        if (report.metadata.name === REPORT_NAME) existing.set(report.metadata.namespace ?? "", report);
    }
  } catch (error) {
    signal?.throwIfAborted();
    throw new Error(
      `audit: cannot list ${type.kind} ${apiVersionOf(type)} (${describeError(error)}); install its CRD: ` +
        (format === "openreports"
          ? "kubectl apply -f third-party/crds/openreports.io/"
          : "the wgpolicyk8s.io PolicyReport CRD"),
    );
  }
  // The cluster's report is this run's only when it read the cluster-scoped objects: every namespace. One that
  // cannot be read is logged and taken as none: the namespaces' reports are still written.
  const clusterReport = options.namespaces
    ? undefined
    : await readClusterReport(rest, format, signal).catch((error: unknown) => {
        signal?.throwIfAborted();
        options.logger.warn(
          { error: describeError(error) },
          `audit: cannot read the ${reportType(format, "").kind} ${REPORT_NAME}`,
        );
        return undefined;
      });
  if (clusterReport) existing.set("", clusterReport);
  // Read back only when a kind was left out: most runs list every kind.
  const kept =
    leftOut.size === 0 ? [] : [...existing.values()].flatMap(findingsOf).filter((finding) => leftOut.has(finding.kind));
  const findings = [...found, ...kept];
  const byNamespace = new Map<string, AuditFinding[]>();
  for (const finding of findings)
    byNamespace.set(finding.namespace, [...(byNamespace.get(finding.namespace) ?? []), finding]);

  const outcome = {
    written: [] as string[],
    unchanged: [] as string[],
    deleted: [] as string[],
    failed: [] as string[],
  };
  for (const [namespace, items] of [...byNamespace].sort(([a], [b]) => byCodePoint(a, b))) {
    const previous = existing.get(namespace);
    const desired = buildReport(format, namespace, items, now, previous);
    if (!reportChanged(desired, previous)) {
      outcome.unchanged.push(namespace);
      continue;
    }
    try {
      // force: the report is ai-api-guard's whole.
      await rest.apply(objectPath(reportType(format, namespace), namespace, REPORT_NAME), desired, {
        force: true,
        signal,
      });
      outcome.written.push(namespace);
      // Announced once written: a report that could not be written announces its findings next run.
      announce(options, items, previous);
    } catch (error) {
      // Cut off by the signal (the Lease lost): the run ends here, no other report is written.
      signal?.throwIfAborted();
      // A namespace being deleted refuses new objects; the others' reports still get written.
      options.logger.warn({ namespace, error: describeError(error) }, "audit: cannot write the report");
      outcome.failed.push(namespace);
    }
  }
  for (const [namespace, report] of existing) {
    if (byNamespace.has(namespace)) continue;
    try {
      await rest.request(objectPath(reportType(format, namespace), namespace, REPORT_NAME), {
        method: "DELETE",
        signal,
      });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    outcome.deleted.push(namespace);
    announce(options, [], report);
  }
  return { ...outcome, kept };
}

/**
 * New enforced findings (neither a result of the report before nor among those it left out) and resolved
 * ones (a result, gone now), once each.
 */
function announce(options: AuditOptions, items: readonly AuditFinding[], previous: PolicyReportObject | undefined) {
  const announced = announcedIn(previous);
  const now = new Set<string>();
  for (const finding of items) {
    if (finding.exempt) continue;
    now.add(findingKey(finding));
    if (!announced(finding)) options.onNewFinding?.(finding);
  }
  for (const result of previous?.results ?? []) {
    if (result.result !== "fail" || now.has(resultKey(result))) continue;
    const resource = result.resources[0];
    options.onResolvedFinding?.({
      // The report's own: its results show the namespace by its hint when it holds a key.
      namespace: previous?.metadata.namespace ?? "",
      kind: resource?.kind ?? "",
      name: resource?.name ?? "",
      rule: result.rule,
      path: result.properties.path ?? "",
    });
  }
}

function record(options: AuditOptions, findings: readonly AuditFinding[], durationMs: number): void {
  const metrics = options.metrics;
  if (!metrics) return;
  const counts = new Map<string, { namespace: string; rule: string; n: number }>();
  for (const f of findings) {
    if (f.exempt) continue;
    // A label value every scrape keeps: a key by its hint, as stable as the name it stands for.
    const namespace = shownName(f.namespace);
    const key = `${namespace}\u0000${f.rule}`;
    const entry = counts.get(key) ?? { namespace, rule: f.rule, n: 0 };
    entry.n++;
    counts.set(key, entry);
  }
  metrics.findings.reset();
  for (const { namespace, rule, n } of counts.values()) metrics.findings.set({ namespace, rule }, n);
  metrics.lastRun.set(Date.now() / 1000);
  metrics.duration.set(durationMs / 1000);
  metrics.publish();
}

/**
 * Runs the audit at once and then every `intervalMs` until `signal` aborts; a failed run is logged and
 * counted, and the next one comes on time. Resolves when aborted, a run in progress cut short.
 */
export async function auditLoop(
  options: AuditOptions & { intervalMs: number; signal: AbortSignal; onResult?: (result: AuditResult) => void },
): Promise<void> {
  while (!options.signal.aborted) {
    try {
      // Not onResult?.(await runAudit()): an optional call skips evaluating its arguments when absent.
      const result = await runAudit(options);
      options.onResult?.(result);
    } catch (error) {
      if (options.signal.aborted) {
        options.logger.info({ reason: describeError(options.signal.reason) }, "audit run stopped before it finished");
        return;
      }
      options.metrics?.failures.inc();
      options.logger.error({ error: describeError(error) }, "audit run failed; the next run comes at the interval");
    }
    try {
      await sleep(options.intervalMs, undefined, { signal: options.signal });
    } catch {
      return;
    }
  }
}
