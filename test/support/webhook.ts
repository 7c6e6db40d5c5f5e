// A webhook server wired for tests: a real TLS certificate, logs captured as parsed JSON lines,
// Events collected, metrics on their own registry. Requests go through fastify's inject().
import { Writable } from "node:stream";
import type { Evaluate } from "../../src/engine/types.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createCertificateAuthority, issueCertificate, type KeyPairPem } from "../../src/tls/certificates.ts";
import { type AdmissionConfig, admissionConfig } from "../../src/webhook/config.ts";
import type { HeavyReviews } from "../../src/webhook/heavy-reviews.ts";
import type { ServerLimits } from "../../src/webhook/limits.ts";
import type { Lookups } from "../../src/webhook/lookups.ts";
import { createWebhookMetrics } from "../../src/webhook/metrics.ts";
import type { PolicyView } from "../../src/webhook/policies.ts";
import { type AdmissionEvent, buildWebhookServer } from "../../src/webhook/server.ts";

type Serving = KeyPairPem & { caPem: string };
let serving: Promise<Serving> | undefined;

/** One serving certificate (for 127.0.0.1) per process: ECDSA keys are quick, but not free. */
export function servingCertificate(): Promise<Serving> {
  serving ??= createCertificateAuthority("ai-api-guard test CA").then(async (ca) => ({
    caPem: ca.certPem,
    ...(await issueCertificate(ca, { subject: "CN=127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" })),
  }));
  return serving;
}

export interface HarnessOptions {
  evaluate: Evaluate;
  policies?: PolicyView[];
  namespaces?: () => ReadonlySet<string> | undefined;
  config?: Partial<AdmissionConfig>;
  isReady?: () => boolean;
  events?: (event: AdmissionEvent) => void;
  lookups?: Lookups;
  limits?: Partial<ServerLimits>;
  heavy?: HeavyReviews;
}

export async function webhookHarness(options: HarnessOptions) {
  const { certPem, keyPem, caPem } = await servingCertificate();
  const logText: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logText.push(String(chunk));
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const events: AdmissionEvent[] = [];
  const metrics = createWebhookMetrics();
  const app = buildWebhookServer({
    tls: { cert: certPem, key: keyPem },
    evaluate: options.evaluate,
    policies: () => options.policies ?? [],
    namespaces: options.namespaces,
    config: admissionConfig(options.config),
    logger: createLogger({ destination, level: "debug" }),
    metrics,
    events: options.events ?? ((event) => events.push(event)),
    isReady: options.isReady,
    lookups: options.lookups,
    limits: options.limits,
    heavy: options.heavy,
  });
  /** Posts raw bytes, as a misbehaving client would. */
  const post = (payload: string, contentType = "application/json") =>
    app.inject({ method: "POST", url: "/validate", headers: { "content-type": contentType }, payload });
  const validate = async (body: unknown) => {
    const response = await post(JSON.stringify(body));
    return { statusCode: response.statusCode, body: response.json(), text: response.body };
  };
  return { app, logs, logText, events, metrics, post, validate, caPem };
}

/**
 * Lookups that answer ConfigMaps with `hosts` and record each ask as `namespace/name` in `asked`; no
 * exemption is granted and no floor lowered.
 */
export function configMapLookups(hosts: NonNullable<Lookups["configMapHosts"]>, asked: string[] = []): Lookups {
  return {
    mayExempt: async () => false,
    namespaceFloor: async () => undefined,
    configMapHosts: (namespace, name) => {
      asked.push(`${namespace}/${name}`);
      return hosts(namespace, name);
    },
  };
}
