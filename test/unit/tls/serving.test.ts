import { X509Certificate } from "node:crypto";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createCertificateAuthority, issueCertificate } from "../../../src/tls/certificates.ts";
import { type KeyPair, type ServingCertificate, servingFromFiles, usable } from "../../../src/tls/serving.ts";
import { admissionConfig } from "../../../src/webhook/config.ts";
import { createWebhookMetrics } from "../../../src/webhook/metrics.ts";
import { buildWebhookServer, setServingCertificate } from "../../../src/webhook/server.ts";

const logger = createLogger({ level: "silent" });

async function pair(validDays = 1): Promise<KeyPair & { ca: string }> {
  const ca = await createCertificateAuthority("serving-test-ca");
  const leaf = await issueCertificate(ca, {
    subject: "CN=127.0.0.1",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validDays,
  });
  return { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem };
}

/** The certificate a fresh TLS connection is served, and the protocol agreed. */
function handshake(
  port: number,
  options: { maxVersion?: "TLSv1.2" } = {},
): Promise<{ fingerprint: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options }, () => {
      resolve({
        fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? "",
        protocol: socket.getProtocol() ?? "",
      });
      socket.end();
    });
    socket.once("error", reject);
  });
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** The webhook server on a loopback port, serving `tls`. */
async function listening(tls: KeyPair) {
  const app = buildWebhookServer({
    tls,
    evaluate,
    policies: () => [],
    config: admissionConfig(),
    logger,
    metrics: createWebhookMetrics(),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

describe("the webhook server's certificate reload", () => {
  it("serves a new certificate to new connections without a restart, still TLS 1.3 only", async () => {
    const first = await pair();
    const { app, port } = await listening(first);
    try {
      expect(await handshake(port)).toEqual({ fingerprint: fingerprint(first.cert), protocol: "TLSv1.3" });
      const second = await pair();
      setServingCertificate(app, second);
      expect(await handshake(port)).toEqual({ fingerprint: fingerprint(second.cert), protocol: "TLSv1.3" });
      await expect(handshake(port, { maxVersion: "TLSv1.2" })).rejects.toThrow(/version|protocol/i);
    } finally {
      await app.close();
    }
  });

  it("closes each open connection after its next answer once the certificate changed, so clients re-verify", async () => {
    const first = await pair();
    const { app, port } = await listening(first);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    try {
      const get = () =>
        new Promise<string | undefined>((resolve, reject) => {
          request({ host: "127.0.0.1", port, path: "/healthz", agent }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.headers.connection));
          })
            .on("error", reject)
            .end();
        });
      expect(await get()).toBe("keep-alive");
      setServingCertificate(app, await pair());
      expect(await get()).toBe("close");
      // The next connection began under the new certificate: kept alive again.
      expect(await get()).toBe("keep-alive");
    } finally {
      agent.destroy();
      await app.close();
    }
  });
});

describe("serving certificates from mounted files", () => {
  let source: ServingCertificate | undefined;
  afterEach(() => source?.stop());

  it("loads them, and picks up a renewal swapped in the way the kubelet does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aag-serving-"));
    const files = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
    const first = await pair();
    writeFileSync(files.cert, first.cert);
    writeFileSync(files.key, first.key);
    source = servingFromFiles(files, 60_000, logger);
    expect((await source.first()).cert).toBe(first.cert);
    expect(source.ready()).toBe(true);

    const seen: string[] = [];
    const second = await pair();
    const changed = new Promise<void>((resolve) =>
      source?.onChange((loaded) => {
        seen.push(loaded.cert);
        if (loaded.cert === second.cert) resolve();
      }),
    );
    // Written aside and renamed into place: a reader never sees half a file.
    writeFileSync(`${files.key}.new`, second.key);
    writeFileSync(`${files.cert}.new`, second.cert);
    renameSync(`${files.key}.new`, files.key);
    renameSync(`${files.cert}.new`, files.cert);
    // The folder's change notice triggers the check; the 60 s timer would be too late for this test.
    await changed;
    // A listener hears of the certificate already loaded, then of each new one.
    expect(seen).toEqual([first.cert, second.cert]);
    expect(source.current()?.cert).toBe(second.cert);
  });

  it("is not ready while the files hold no usable certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aag-serving-"));
    const files = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
    const a = await pair();
    const b = await pair();
    writeFileSync(files.cert, a.cert);
    writeFileSync(files.key, b.key);
    source = servingFromFiles(files, 60_000, logger);
    await new Promise((r) => setTimeout(r, 200));
    expect(source.ready()).toBe(false);
    expect(source.current()).toBeUndefined();
  });

  it("calls a certificate usable only when it has not expired and the key matches", async () => {
    const valid = await pair();
    expect(usable(valid)).toBe(true);
    expect(usable({ cert: valid.cert, key: (await pair()).key })).toBe(false);
    expect(usable(valid, new Date(Date.now() + 2 * 86_400_000))).toBe(false);
    expect(usable({ cert: "not a certificate", key: valid.key })).toBe(false);
  });
});
