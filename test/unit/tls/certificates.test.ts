import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, issueCertificate } from "../../../src/tls/certificates.ts";

describe("certificates", () => {
  it("issues a serving certificate for loopback that chains to its CA and matches its key", async () => {
    const ca = await createCertificateAuthority("test-ca");
    const leaf = await issueCertificate(ca, {
      subject: "CN=webhook",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1"); // serverAuth
  });

  it("puts the organization in a client certificate's subject (how Kubernetes reads groups)", async () => {
    const ca = await createCertificateAuthority("test-ca");
    const leaf = await issueCertificate(ca, { subject: "CN=admin, O=system:masters", usage: "client" });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.subject).toContain("CN=admin");
    expect(cert.subject).toContain("O=system:masters");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // clientAuth only
  });
});
