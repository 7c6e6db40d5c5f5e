// One benchmark target, in a process of its own so the load generator does not share its event loop.
// Usage: node bench/webhook-target.ts validate|walk-only|no-rules|parse-only|hello CERT_DIR [pauses]
// Prints "listening PORT" once it serves on 127.0.0.1; closes on SIGTERM.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import Fastify, { type FastifyInstance } from "fastify";
import { extractCandidates } from "../src/engine/extract.ts";
import { type Evaluate, evaluate } from "../src/engine/index.ts";
import { bufferedDestination, createLogger } from "../src/observability/logger.ts";
import { admissionConfig } from "../src/webhook/config.ts";
import { heavyReviews } from "../src/webhook/heavy-reviews.ts";
import { createWebhookMetrics } from "../src/webhook/metrics.ts";
import type { PolicyView } from "../src/webhook/policies.ts";
import { BODY_LIMIT_BYTES, buildWebhookServer } from "../src/webhook/server.ts";

const [mode, certDir = "", watch] = process.argv.slice(2);
const tls = {
  cert: readFileSync(join(certDir, "tls.crt"), "utf8"),
  key: readFileSync(join(certDir, "tls.key"), "utf8"),
};

/** A cluster with a few teams, each with a couple of policies: what the informer cache would hold. */
const policies: PolicyView[] = Array.from({ length: 20 }, (_, i) => ({
  namespace: i < 2 ? "ml-team" : `team-${i}`,
  name: `llm-api-${i}`,
  endpointHost: `api-${i}.example.com`,
  selector: { matchLabels: { app: i === 0 ? "summarizer" : `app-${i}` } },
  action: i % 2 === 0 ? "Deny" : "Warn",
}));

const KEEP_NOTHING = () => false;

function webhook(rules: Evaluate): FastifyInstance {
  return buildWebhookServer({
    tls,
    evaluate: rules,
    policies: () => policies,
    config: admissionConfig(),
    // The decision line is formatted and written as in production (buffered), to a file that keeps nothing.
    logger: createLogger({ destination: bufferedDestination({ dest: "/dev/null" }) }),
    metrics: createWebhookMetrics(),
    heavy: heavyReviews(),
  });
}

function target(): FastifyInstance {
  switch (mode) {
    case "validate":
      return webhook(evaluate);
    case "walk-only":
      // What reading the object costs before any rule runs: the engine's own walk of every field, keeping nothing.
      return webhook((object) => {
        const { kind } = object as { kind: string };
        extractCandidates(object as Record<string, unknown>, kind, [], [], KEEP_NOTHING, { keep: KEEP_NOTHING });
        return { findings: [] };
      });
    case "no-rules":
      // The server's own cost: the same webhook with an engine that finds nothing and reads nothing.
      return webhook(() => ({ findings: [] }));
    case "parse-only": {
      // The floor every JSON webhook pays: TLS, the same body limit and JSON parser, a fixed allow.
      const app = Fastify({ https: { ...tls, minVersion: "TLSv1.3" }, bodyLimit: BODY_LIMIT_BYTES });
      // The webhook's JSON settings: __proto__ and constructor keys kept as plain keys, not scanned for.
      app.removeContentTypeParser("application/json");
      app.addContentTypeParser("application/json", { parseAs: "string" }, app.getDefaultJsonParser("ignore", "ignore"));
      app.post("/validate", async (request) => {
        const uid = (request.body as { request: { uid: string } }).request.uid;
        return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } };
      });
      return app;
    }
    case "hello": {
      const app = Fastify({ https: { ...tls, minVersion: "TLSv1.3" } });
      app.get("/", async () => "hello world");
      return app;
    }
    default:
      throw new Error(`unknown target "${mode}": use validate, walk-only, no-rules, parse-only or hello`);
  }
}

const app = target();
if (watch === "pauses") pausesRoute(app);
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
console.log(`listening ${typeof address === "object" && address ? address.port : ""}`);
process.once("SIGTERM", () => void app.close());

/**
 * GET /bench/pauses: this process's longest event-loop stall and GC pause since the last ask, so the tail
 * benchmark can tell a slow round caused here from one caused elsewhere (the load generator, the machine).
 */
function pausesRoute(app: FastifyInstance): void {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gc = { maxMs: 0, totalMs: 0 };
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      gc = { maxMs: Math.max(gc.maxMs, entry.duration), totalMs: gc.totalMs + entry.duration };
    }
  }).observe({ entryTypes: ["gc"] });
  app.get("/bench/pauses", async () => {
    const pauses = { loopMaxMs: loop.max / 1e6, gcMaxMs: gc.maxMs, gcTotalMs: gc.totalMs };
    loop.reset();
    gc = { maxMs: 0, totalMs: 0 };
    return pauses;
  });
}
