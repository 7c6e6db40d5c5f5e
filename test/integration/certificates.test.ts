// Self-managed certificates against the real API server: the leader's rotation keeps a Secret and the
// webhook configuration's caBundle, the webhook reloads each new certificate without a restart, and
// the API server keeps calling it, verifying every new certificate on a new connection, through serving
// certificate renewals and a CA change, with no TLS error. Lifetimes are seconds here instead of days.
//
// Substituted hop: there is no pod network, so the webhook configuration points at https://localhost:PORT
// (a URL, not the Service) and the certificate is made for "localhost"; the chart's Service name is
// what the same code uses in a cluster (src/tls/in-cluster.ts).
import { randomBytes, X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { registerWebhook, unregisterWebhook } from "../../src/kube/webhook-configuration.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { certificateReconciler, decode } from "../../src/tls/certificate-secret.ts";
import { splitPem } from "../../src/tls/rotation.ts";
import { servingFromSecret } from "../../src/tls/serving.ts";
import { admissionConfig } from "../../src/webhook/config.ts";
import { createWebhookMetrics } from "../../src/webhook/metrics.ts";
import { buildWebhookServer, setServingCertificate } from "../../src/webhook/server.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";

const run = randomBytes(3).toString("hex");
const operatorNs = useTestNamespace("certs");
const reviewedNs = useTestNamespace("certs-reviewed");
const webhookName = `aag-certs-${run}`;
const secretName = "guard-tls";
const logger = createLogger({ level: "silent" });
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe("self-managed certificates under rotation", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const stops: (() => unknown)[] = [];

  beforeAll(async () => {
    await core.patchNamespace(
      { name: reviewedNs.name, body: { metadata: { labels: { "aiapiguard-certs": run } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it("the API server keeps calling the webhook through certificate renewals and a CA change, with no TLS error", async () => {
    const port = await freePort();
    await registerWebhook(new KubeRest(kc), {
      name: webhookName,
      caBundlePem: "",
      target: { url: `https://localhost:${port}/validate` },
      failurePolicy: "Fail",
      timeoutSeconds: 5,
      exemptNamespaces: [],
      namespaceLabels: { "aiapiguard-certs": run },
    });
    stops.push(() => unregisterWebhook(new KubeRest(kc), webhookName));

    // The leader's rotation, on the same timer the operator uses: CA 36 s, serving certificate 12 s.
    const rotation = certificateReconciler(kc, {
      namespace: operatorNs.name,
      secretName,
      webhookConfigName: webhookName,
      settings: { dnsNames: ["localhost"], caDurationMs: 36_000, certificateDurationMs: 12_000 },
      logger,
      publishGraceMs: 2_000,
    });
    let rounds = rotation.tick();
    const timer = setInterval(() => {
      rounds = rounds.then(() => rotation.tick());
    }, 1_000);
    stops.push(() => clearInterval(timer));

    // A replica: the certificate from the Secret, reloaded on change.
    const serving = servingFromSecret(kc, { namespace: operatorNs.name, name: secretName }, 1_000, logger);
    stops.push(() => serving.stop());
    // Started with the first certificate; onChange then hears of it and of every renewal (as in run.ts).
    const app = buildWebhookServer({
      tls: await serving.first(),
      evaluate,
      policies: () => [],
      config: admissionConfig({ exemptNamespaces: [] }),
      logger,
      metrics: createWebhookMetrics(),
    });
    serving.onChange((pair) => setServingCertificate(app, pair));
    /** The certificate each new connection (all from the API server) was served. */
    const handshakes = new Set<string>();
    app.server.on("secureConnection", (socket: TLSSocket) => {
      const served = socket.getX509Certificate();
      if (served) handshakes.add(served.fingerprint256);
    });
    await app.listen({ host: "localhost", port });
    stops.push(() => app.close());

    const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const bundles: string[][] = [];
    let finalCa = "";
    const cas = new Set<string>();
    const servingCerts = new Set<string>();
    const failures: string[] = [];
    let answered = 0;
    const start = Date.now();
    // 44 s of rotation, then 3 s more calls without it, so the last certificate reaches the API server too.
    while (Date.now() < start + 47_000) {
      if (Date.now() > start + 44_000) clearInterval(timer);
      const stored = decode(await core.readNamespacedSecret({ namespace: operatorNs.name, name: secretName }));
      finalCa = stored["ca.crt"] ?? finalCa;
      const config = await admission.readValidatingWebhookConfiguration({ name: webhookName });
      bundles.push(
        splitPem(Buffer.from(config.webhooks?.[0]?.clientConfig.caBundle ?? "", "base64").toString()).map(fingerprint),
      );
      if (stored["ca.crt"]) cas.add(fingerprint(stored["ca.crt"]));
      if (stored["tls.crt"]) servingCerts.add(fingerprint(stored["tls.crt"]));
      try {
        // A dry run still goes through admission, so the API server calls the webhook each time.
        await core.createNamespacedConfigMap({
          namespace: reviewedNs.name,
          body: { metadata: { name: `probe-${answered}` }, data: { greeting: "hello" } },
          dryRun: "All",
        });
        answered++;
      } catch (error) {
        failures.push(error instanceof k8s.ApiException ? String(error.body) : String(error));
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(100);
    // Two renewals at least (12 s lifetime, renewed at 8 s) and a CA change (36 s, renewed at 24 s).
    expect(servingCerts.size).toBeGreaterThanOrEqual(3);
    expect(cas.size).toBe(2);
    // The API server verified every serving certificate on a connection of its own.
    expect([...servingCerts].filter((cert) => !handshakes.has(cert))).toEqual([]);
    // During the change the webhook configuration trusted both CAs; the old one left when it expired (36 s).
    expect(bundles.some((bundle) => bundle.length === 2 && bundle.every((ca) => cas.has(ca)))).toBe(true);
    expect(bundles.at(-1)).toEqual([fingerprint(finalCa)]);
  }, 90_000);
});
