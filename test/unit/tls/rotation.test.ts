import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { planCertificates, type RotationInput, type StoredCertificates, splitPem } from "../../../src/tls/rotation.ts";

const settings = {
  dnsNames: ["guard.ops.svc", "guard.ops.svc.cluster.local"],
  caDurationMs: 90_000,
  certificateDurationMs: 30_000,
};
const at = (ms: number) => new Date(Date.UTC(2026, 10, 29, 12) + ms);

async function plan(stored: Partial<StoredCertificates>, ms: number, caPublished = true) {
  const input: RotationInput = { stored, now: at(ms), settings, caPublished };
  return planCertificates(input);
}
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const issuedBy = (leaf: string, ca: string) => new X509Certificate(leaf).checkIssued(new X509Certificate(ca));

describe("planCertificates", () => {
  it("creates a CA and a serving certificate for the Service's names when the Secret is empty", async () => {
    const { stored, changes } = await plan({}, 0);
    expect(changes).toEqual(["no CA yet: created one", "no serving certificate yet: issued one"]);
    const cert = new X509Certificate(stored["tls.crt"]);
    expect(cert.checkHost("guard.ops.svc", { wildcards: false })).toBe("guard.ops.svc");
    expect(issuedBy(stored["tls.crt"], stored["ca.crt"])).toBe(true);
    expect(splitPem(stored["ca-bundle.crt"]).map(fingerprint)).toEqual([fingerprint(stored["ca.crt"])]);
  });

  it("changes nothing once converged", async () => {
    const first = await plan({}, 0);
    const again = await plan(first.stored, 1_000);
    expect(again.changes).toEqual([]);
    expect(again.stored).toEqual(first.stored);
  });

  it("renews the serving certificate when two thirds of its lifetime have passed, from the same CA", async () => {
    const first = await plan({}, 0);
    expect((await plan(first.stored, 19_000)).changes).toEqual([]);
    const renewed = await plan(first.stored, 21_000);
    expect(renewed.changes).toEqual(["the serving certificate is due for renewal"]);
    expect(renewed.stored["tls.crt"]).not.toBe(first.stored["tls.crt"]);
    expect(renewed.stored["ca.crt"]).toBe(first.stored["ca.crt"]);
  });

  it("rotates the CA in two steps: the new CA joins the bundle, the certificate moves once the bundle is published", async () => {
    // Renewed on time at 21 s and 42 s, as the reconciler's timer would.
    const first = await plan((await plan((await plan({}, 0)).stored, 21_000)).stored, 42_000);
    const oldCa = first.stored["ca.crt"];
    // 61 s: the CA (90 s) is due. Its successor joins the bundle; the serving certificate stays with the old CA.
    const staged = await plan(first.stored, 61_000, false);
    expect(staged.changes).toEqual(["the CA is due for renewal: a new CA joins the bundle"]);
    const newCa = staged.stored["ca.crt"];
    expect(fingerprint(newCa)).not.toBe(fingerprint(oldCa));
    expect(splitPem(staged.stored["ca-bundle.crt"]).map(fingerprint)).toEqual([fingerprint(newCa), fingerprint(oldCa)]);
    expect(staged.stored["tls.crt"]).toBe(first.stored["tls.crt"]);
    // Not yet published: nothing moves, even when the certificate is due.
    expect((await plan(staged.stored, 62_000, false)).changes).toEqual([]);
    // Published: the certificate moves to the new CA; both CAs stay trusted.
    const moved = await plan(staged.stored, 62_000, true);
    expect(moved.changes).toEqual(["the serving certificate moves to the new CA"]);
    expect(issuedBy(moved.stored["tls.crt"], newCa)).toBe(true);
    expect(splitPem(moved.stored["ca-bundle.crt"])).toHaveLength(2);
  });

  it("drops a CA from the bundle once it has expired", async () => {
    const first = await plan((await plan((await plan({}, 0)).stored, 21_000)).stored, 42_000);
    const staged = await plan(first.stored, 61_000, true);
    const moved = await plan(staged.stored, 62_000, true);
    const afterOldExpiry = await plan(moved.stored, 91_000, true);
    expect(splitPem(afterOldExpiry.stored["ca-bundle.crt"]).map(fingerprint)).toEqual([
      fingerprint(staged.stored["ca.crt"]),
    ]);
    expect(afterOldExpiry.changes).toContain("the CA bundle dropped an expired CA");
  });

  it("replaces a certificate for other names, or one whose key does not match", async () => {
    const first = await plan({}, 0);
    const other = await planCertificates({
      stored: first.stored,
      now: at(0),
      settings: { ...settings, dnsNames: ["renamed.ops.svc"] },
      caPublished: true,
    });
    expect(other.changes).toEqual(["the serving certificate is not for renamed.ops.svc"]);
    const swapped = await plan({ ...first.stored, "tls.key": first.stored["ca.key"] }, 0);
    expect(swapped.changes).toEqual(["the serving certificate does not match its key"]);
  });

  it("never issues a serving certificate that outlives its CA", async () => {
    const first = await planCertificates({
      stored: {},
      now: at(0),
      settings: { ...settings, caDurationMs: 20_000, certificateDurationMs: 60_000 },
      caPublished: true,
    });
    const ca = new X509Certificate(first.stored["ca.crt"]);
    const cert = new X509Certificate(first.stored["tls.crt"]);
    expect(new Date(cert.validTo).getTime()).toBeLessThanOrEqual(new Date(ca.validTo).getTime());
  });
});

it("keeps every PEM block of the bundle on its own lines, as the API server's parser needs", async () => {
  const first = await plan((await plan((await plan({}, 0)).stored, 21_000)).stored, 42_000);
  const staged = await plan(first.stored, 61_000, false);
  expect(staged.stored["ca-bundle.crt"]).toMatch(
    /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
  );
});
