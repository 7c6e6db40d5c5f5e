// The webhook's Prometheus metrics, on a registry of their own so tests and several servers in one
// process do not collide. Labels hold bounded enums only: never a name, a namespace or a value.
import { Counter, Histogram, Registry } from "prom-client";
import { shownName } from "../engine/shown.ts";

export interface WebhookMetrics {
  registry: Registry;
  /** decision: allow|deny|warn|audit|skip; kind: a reviewed kind or "other"; operation: CREATE|UPDATE|DELETE|CONNECT. */
  requests: Counter<"decision" | "kind" | "operation">;
  duration: Histogram;
  /** action: Deny|Warn|Audit, or Exempt for findings the object exempts itself from. */
  findings: Counter<"rule" | "action">;
  /** Bodies refused before a decision: 400, 413, 415. */
  rejected: Counter<"code">;
  /** Refused server-side dry runs by user: repeated probing shows. The first MAX_USERS users get a label. */
  dryRunRefused: (username: string) => void;
  /**
   * One answered review, on the admission path: counted in `requests` and `duration` when the
   * registry is read (a scrape sees every review answered before it), at a fraction of the cost.
   */
  answered: (labels: RequestLabels, seconds: number) => void;
}

export interface RequestLabels {
  decision: string;
  kind: string;
  operation: string;
}

/** Distinct user labels on the dry-run counter; later users share "(other)" so a flood of names stays bounded. */
export const MAX_DRY_RUN_USERS = 200;

/** Durations kept before they are handed to the histogram, so a registry never read holds no more. */
const DURATIONS_BATCH = 1024;

export function createWebhookMetrics(registry = new Registry()): WebhookMetrics {
  // Counts per label combination (bounded enums: a few dozen at most) and durations not yet handed
  // to prom-client, whose per-call label hashing and validation cost microseconds a review.
  const counts = new Map<string, { labels: RequestLabels; count: number }>();
  const durations = new Float64Array(DURATIONS_BATCH);
  let pending = 0;
  const requests = new Counter({
    name: "aiapiguard_admission_requests_total",
    help: "Admission reviews answered, by decision, object kind and operation.",
    labelNames: ["decision", "kind", "operation"],
    registers: [registry],
    collect() {
      for (const entry of counts.values()) {
        if (entry.count > 0) this.inc(entry.labels, entry.count);
        entry.count = 0;
      }
    },
  });
  const duration = new Histogram({
    name: "aiapiguard_admission_duration_seconds",
    help: "Time from receiving an admission review to deciding it, body parsing included.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
    collect() {
      flushDurations();
    },
  });
  function flushDurations() {
    for (let i = 0; i < pending; i++) duration.observe(durations[i] as number);
    pending = 0;
  }
  const dryRunUsers = new Set<string>();
  const dryRunRefusals = new Counter({
    name: "aiapiguard_admission_dry_run_refusals_total",
    help: "Server-side dry runs the webhook refused, by user: repeated attempts to probe the rules show here.",
    labelNames: ["user"],
    registers: [registry],
  });
  return {
    registry,
    requests,
    duration,
    findings: new Counter({
      name: "aiapiguard_findings_total",
      help: "Findings in reviewed objects, by rule and the action applied to them.",
      labelNames: ["rule", "action"],
      registers: [registry],
    }),
    rejected: new Counter({
      name: "aiapiguard_admission_rejected_requests_total",
      help: "Requests refused before a decision because they were not a valid AdmissionReview, by HTTP status.",
      labelNames: ["code"],
      registers: [registry],
    }),
    dryRunRefused(username) {
      // A service account's user name holds its namespace's, which can be a key.
      const shown = shownName(username);
      const user = dryRunUsers.has(shown) || dryRunUsers.size < MAX_DRY_RUN_USERS ? shown : "(other)";
      dryRunUsers.add(user);
      dryRunRefusals.inc({ user });
    },
    answered({ decision, kind, operation }, seconds) {
      const key = `${decision}\u0000${kind}\u0000${operation}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { labels: { decision, kind, operation }, count: 1 });
      if (pending === DURATIONS_BATCH) flushDurations();
      durations[pending++] = seconds;
    },
  };
}
