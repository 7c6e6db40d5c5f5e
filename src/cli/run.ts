// `ai-api-guard run`: the operator process. Today it serves the admission webhook; out of a cluster
// (--webhook-url) it also makes its own certificate and registers, then on exit removes, the
// ValidatingWebhookConfiguration that points the API server at it.
import { exemptNamespaces } from "../config/settings.ts";
import { evaluate } from "../engine/index.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { describeError } from "../kube/errors.ts";
import { eventRecorder } from "../kube/events.ts";
import { registerWebhook, unregisterWebhook } from "../kube/webhook-configuration.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { startProbeServer } from "../observability/probe-server.ts";
import { createCertificateAuthority, issueCertificate } from "../tls/certificates.ts";
import { type InClusterCertificates, inClusterCertificates, startRotation } from "../tls/in-cluster.ts";
import { createWebhookMetrics } from "../webhook/metrics.ts";
import { policyCache } from "../webhook/policy-cache.ts";
import { buildWebhookServer, setServingCertificate } from "../webhook/server.ts";
import { parseRunOptions, type RunOptions, usage } from "./run-options.ts";

const SYNC_TIMEOUT_MS = 30_000;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseRunOptions(argv, process.env);
  if (!parsed.ok) {
    console.error(`ai-api-guard run: ${parsed.error}\n\n${usage()}`);
    return 2;
  }
  const options = parsed.options;
  const logger = createLogger({ level: options["log-level"] });
  try {
    return await serve(options, logger);
  } catch (error) {
    logger.error({ error: (error as Error).message }, "ai-api-guard run failed");
    logger.flush();
    return 1;
  }
}

async function serve(options: RunOptions, logger: Logger): Promise<number> {
  const kc = loadKubeConfig(options.kubeconfig);
  const url = options["webhook-url"] ? new URL(options["webhook-url"]) : undefined;
  const selfSigned = url && (await selfSignedFor(url.hostname));
  // In a cluster: the certificate from the operator's Secret (rotated here; TODO leader-only once the
  // controller's Lease runs here) or from mounted files, reloaded by every replica without a restart.
  const inCluster = url ? undefined : inClusterCertificates(kc, options, logger);
  const stopRotation = inCluster ? startRotation(inCluster) : () => undefined;
  const tls = selfSigned || (await (inCluster as InClusterCertificates).serving.first());
  const validateUrl = url && new URL("/validate", url).toString();
  const policies = policyCache(kc, logger);
  const app = buildWebhookServer({
    tls,
    evaluate,
    policies: policies.views,
    config: { defaultAction: options["default-action"], exemptNamespaces: exemptNamespaces(options) },
    logger,
    metrics: createWebhookMetrics(),
    events: eventRecorder(kc, logger),
    isReady: () => policies.synced() && (inCluster?.serving.ready() ?? true),
  });
  inCluster?.serving.onChange((pair) => setServingCertificate(app, pair));

  await policies.start();
  await waitUntil(policies.synced, SYNC_TIMEOUT_MS);
  if (!policies.synced()) logger.warn("policies not listed yet; reviewing with the default action until they are");
  await app.listen({ host: url?.hostname ?? "0.0.0.0", port: url ? Number(url.port) : options.port });
  const probes = options["metrics-port"] > 0 ? await startProbeServer(app, options["metrics-port"]) : undefined;

  const name = options["webhook-config-name"];
  if (validateUrl && selfSigned) {
    await registerWebhook(kc, {
      name,
      caBundlePem: selfSigned.ca,
      target: { url: validateUrl },
      failurePolicy: options["failure-policy"],
      timeoutSeconds: options["timeout-seconds"],
      exemptNamespaces: exemptNamespaces(options),
      namespaceLabels: options["namespace-selector"],
    });
  }
  logger.info({ url: validateUrl, webhookConfiguration: validateUrl && name }, "ai-api-guard is ready");

  const signal = await nextSignal();
  logger.info({ signal }, "shutting down");
  // Unregister first, so the API server stops sending requests, then drain the ones in flight.
  if (validateUrl)
    await unregisterWebhook(kc, name).catch((error: unknown) =>
      logger.error({ error: describeError(error) }, "could not remove the webhook configuration"),
    );
  stopRotation();
  inCluster?.serving.stop();
  probes?.close();
  await app.close();
  await policies.stop();
  logger.info("stopped");
  logger.flush();
  return 0;
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

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
