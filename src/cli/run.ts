// `ai-api-guard run`: the operator process, the webhook and the controller. Signal handlers and the
// AbortSignal come first; every part is a runnable of the manager, so a failure at any step of
// startup tears down what had started and the process ends. On SIGTERM /readyz turns 503 at once,
// then after a short delay (endpoints and load balancers notice) the webhook drains and closes.
// Out of a cluster (--webhook-url) it makes its own certificate and registers, then on exit removes,
// the ValidatingWebhookConfiguration that points the API server at it.

import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { hostname } from "node:os";
import { reviewedKinds } from "../api/workload-kinds.ts";
import { createAuditMetrics } from "../audit/metrics.ts";
import { credentialResponder } from "../audit/response.ts";
import { auditRunnable } from "../audit/runnable.ts";
import { exemptNamespaces } from "../config/settings.ts";
import { createController } from "../controller/controller.ts";
import { evaluate } from "../engine/index.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { describeError } from "../kube/errors.ts";
import { eventRecorder } from "../kube/events.ts";
import { SharedInformers } from "../kube/informers.ts";
import { KubeRest } from "../kube/rest.ts";
import { registerWebhook, unregisterWebhook } from "../kube/webhook-configuration.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { createProcessMetrics } from "../observability/metrics.ts";
import { startProbeServer } from "../observability/probe-server.ts";
import { clusterSources, readApi, readApiOptions } from "../readapi/index.ts";
import { leaseElector } from "../runtime/leader.ts";
import { delay, type Runnable, runManager } from "../runtime/manager.ts";
import { createCertificateAuthority, issueCertificate } from "../tls/certificates.ts";
import { certificateRunnables, inClusterCertificates } from "../tls/in-cluster.ts";
import { namespaceNames } from "../webhook/cluster-namespaces.ts";
import { heavyReviews } from "../webhook/heavy-reviews.ts";
import { apiLookups } from "../webhook/lookups.ts";
import { policyCache } from "../webhook/policy-cache.ts";
import { buildWebhookServer, setServingCertificate } from "../webhook/server.ts";
import { asksForHelp, help, parseRunOptions, type RunOptions, usage } from "./run-options.ts";

const SYNC_TIMEOUT_MS = 30_000;

export async function main(argv: string[]): Promise<number> {
  if (asksForHelp(argv)) {
    console.log(help());
    return 0;
  }
  const parsed = parseRunOptions(argv, process.env);
  if (!parsed.ok) {
    console.error(`ai-api-guard run: ${parsed.error}\n\n${usage()}`);
    return 2;
  }
  const options = parsed.options;
  const logger = createLogger({ level: options["log-level"] });
  const stopping = { requested: false };
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.requested) return;
    stopping.requested = true;
    const delayMs = options["shutdown-delay-seconds"] * 1000;
    logger.info({ signal, delayMs }, "shutting down: not ready from now on");
    void delay(delayMs).then(() => stop.abort(new Error(signal)));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await serve(options, logger, stop.signal, stopping);
    logger.info("stopped");
    return 0;
  } catch (error) {
    logger.error({ error: describeError(error) }, "ai-api-guard run failed");
    return 1;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    logger.flush();
  }
}

async function serve(
  options: RunOptions,
  logger: Logger,
  signal: AbortSignal,
  stopping: { requested: boolean },
): Promise<void> {
  const kc = loadKubeConfig(options.kubeconfig, options.context);
  const rest = new KubeRest(kc);
  const metrics = createProcessMetrics();
  const url = options["webhook-url"] ? new URL(options["webhook-url"]) : undefined;
  const selfSigned = url && (await selfSignedFor(url.hostname));
  // In a cluster the certificate comes from the operator's Secret (rotated by the leader) or from mounted
  // files; until it has loaded, the server holds a throwaway one and /readyz says not ready.
  const inCluster = url ? undefined : inClusterCertificates(kc, options, logger);
  const tls = selfSigned || (await selfSignedFor("not-ready.invalid"));
  const validateUrl = url && new URL("/validate", url).toString();
  const informers = new SharedInformers(
    rest,
    logger,
    { namespaces: options.namespaces, resyncMs: options["resync-seconds"] * 1000 },
    metrics.informerRestarts,
  );
  const events = eventRecorder(rest, logger, { outcomes: metrics.eventsNotWritten });
  const policies = policyCache(informers.policies(), logger);
  const heavy = heavyReviews({ budgetMs: options["review-budget-ms"] });
  const controller = options.controller
    ? createController({ rest, informers, logger, metrics: metrics.controller, events })
    : undefined;
  const app = buildWebhookServer({
    tls,
    evaluate,
    policies: policies.views,
    namespaces: namespaceNames(informers.namespaces()),
    config: {
      defaultAction: options["default-action"],
      exemptNamespaces: exemptNamespaces(options),
      actionFloor: options["action-floor"],
      unregisteredAction: options["unregistered-action"],
      trustedControllers: options["trusted-controllers"],
    },
    logger,
    metrics: metrics.webhook,
    events,
    isReady: () => !stopping.requested && policies.synced() && (inCluster?.serving.ready() ?? true),
    lookups: apiLookups(rest, { logger }),
    heavy,
    limits: { maxConnections: options["max-connections"] },
  });
  inCluster?.serving.onChange((pair) => setServingCertificate(app, pair));
  const name = options["webhook-config-name"];
  const scope = { format: options["reports-format"], namespaces: options.namespaces };
  const readApiSettings = {
    issuer: options["read-api-issuer"],
    jwksUrl: options["read-api-jwks-url"],
    audience: options["read-api-audience"],
    usernameClaim: options["read-api-username-claim"],
    usernamePrefix: options["read-api-username-prefix"],
    groupsClaim: options["read-api-groups-claim"],
    groupsPrefix: options["read-api-groups-prefix"],
  };
  app.register(readApi, readApiOptions(kc, readApiSettings, clusterSources(kc, scope), logger));
  let probes: Server | undefined;

  const runnables: Runnable[] = [
    {
      name: "informers",
      needsLeader: false,
      async start(started) {
        informers.start();
        await informers.waitForSync(AbortSignal.any([started, AbortSignal.timeout(SYNC_TIMEOUT_MS)]));
        started.throwIfAborted();
        if (!informers.synced()) logger.warn("caches not listed yet; reviewing with the default action until they are");
      },
      stop: () => informers.stop(),
    },
    {
      // Its thread exists from construction: a runnable of its own, so a failed listen still ends it.
      name: "heavy review worker",
      needsLeader: false,
      start: async () => undefined,
      stop: () => heavy.close(),
    },
    {
      name: "webhook server",
      needsLeader: false,
      async start() {
        await app.listen({ host: url?.hostname ?? "0.0.0.0", port: url ? Number(url.port) : options.port });
      },
      // Drains the requests in flight, then closes.
      stop: () => app.close(),
    },
  ];
  if (validateUrl && selfSigned) {
    runnables.push({
      name: "webhook registration",
      needsLeader: false,
      start: () =>
        registerWebhook(rest, {
          name,
          caBundlePem: selfSigned.ca,
          target: { url: validateUrl },
          failurePolicy: options["failure-policy"],
          timeoutSeconds: options["timeout-seconds"],
          exemptNamespaces: exemptNamespaces(options),
          namespaceLabels: options["namespace-selector"],
          kinds: reviewedKinds(options["extra-resources"]),
        }),
      // Removed first on the way down, so the API server stops calling before the server closes.
      stop: () =>
        unregisterWebhook(rest, name).catch((error: unknown) =>
          logger.error({ error: describeError(error) }, "could not remove the webhook configuration"),
        ),
    });
  }
  if (options["metrics-port"] > 0) {
    runnables.push({
      name: "probe and metrics server",
      needsLeader: false,
      async start() {
        probes = await startProbeServer(app, options["metrics-port"]);
      },
      stop: async () => {
        probes?.close();
      },
    });
  }
  if (inCluster) runnables.push(...certificateRunnables(inCluster));
  if (controller) runnables.push(controller);
  if (controller && options.audit)
    runnables.push(
      auditRunnable({
        kc,
        logger,
        ...scope,
        intervalMs: options["audit-interval"] * 1000,
        exemptNamespaces: exemptNamespaces(options),
        metrics: createAuditMetrics(metrics.registry),
        recordEvent: events,
        onNewFinding: credentialResponder(events, logger),
      }),
    );

  const identity = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  await runManager(signal, {
    logger,
    runnables,
    elect:
      controller && options["leader-elect"]
        ? leaseElector({
            rest,
            namespace: options["lease-namespace"],
            name: options["lease-name"],
            identity,
            logger,
            leaseDurationMs: options["lease-duration-seconds"] * 1000,
            renewDeadlineMs: options["renew-deadline-seconds"] * 1000,
            retryPeriodMs: options["retry-period-seconds"] * 1000,
            onChange: (leading) => metrics.controller.leader.set(leading ? 1 : 0),
          })
        : undefined,
    onStarted: () =>
      logger.info({ url: validateUrl, webhookConfiguration: validateUrl && name, identity }, "ai-api-guard is ready"),
  });
}

async function selfSignedFor(host: string): Promise<{ cert: string; key: string; ca: string }> {
  const ca = await createCertificateAuthority("ai-api-guard-local-webhook-ca", 30);
  const isIp = /^[\d.]+$|:/.test(host);
  const leaf = await issueCertificate(ca, {
    subject: "CN=ai-api-guard-webhook",
    ...(isIp ? { ipAddresses: [host] } : { dnsNames: [host] }),
    usage: "server",
    validDays: 30,
  });
  return { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem };
}
