// The audit as one of the operator's runnables: leader-only, started with the Lease and stopped when it
// is lost or the process stops; the loop runs at once and then every interval.
import type { Runnable } from "../runtime/manager.ts";
import { type AuditOptions, type AuditResult, auditLoop } from "./audit.ts";

export function auditRunnable(
  options: AuditOptions & { intervalMs: number; onResult?: (result: AuditResult) => void },
): Runnable {
  let stopping: AbortController | undefined;
  let loop: Promise<void> | undefined;
  return {
    name: "background audit",
    needsLeader: true,
    async start(signal) {
      options.logger.info({ intervalSeconds: options.intervalMs / 1000 }, "background audit started");
      // Exported while leading, from the start: a first run that never finishes still shows as stale.
      options.metrics?.publish();
      stopping = new AbortController();
      loop = auditLoop({ ...options, signal: AbortSignal.any([signal, stopping.signal]) });
    },
    async stop() {
      stopping?.abort();
      await loop;
      // Only the leader reports the audit: a standby's values would go stale.
      options.metrics?.withdraw();
    },
  };
}
