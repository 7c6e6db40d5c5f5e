// What the operator's own certificates should be now: a CA and a serving certificate for the webhook's
// Service name, each renewed when two thirds of its lifetime have passed. No I/O: the reconciler
// (certificate-secret.ts) reads the Secret, asks this module, and writes back what changed.
//
// A CA change never breaks a TLS handshake: the new CA joins the bundle (next to the old one, until the
// old one expires), and the serving certificate moves to the new CA only once the webhook configuration
// trusts it (`caPublished`), so the API server never meets a certificate its caBundle cannot verify.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createCertificateAuthority, issueCertificate, loadCertificateAuthority } from "./certificates.ts";

const DAY_MS = 86_400_000;

/** The PEM the Secret holds, by key. */
export interface StoredCertificates {
  "ca.crt": string;
  "ca.key": string;
  /** Every CA the webhook configuration should trust: the current one first, then older ones until they expire. */
  "ca-bundle.crt": string;
  "tls.crt": string;
  "tls.key": string;
}

export interface RotationSettings {
  /** The names the serving certificate is for: <service>.<namespace>.svc (and .svc.cluster.local). */
  dnsNames: string[];
  caDurationMs: number;
  certificateDurationMs: number;
}

export interface RotationInput {
  stored: Partial<StoredCertificates>;
  now: Date;
  settings: RotationSettings;
  /** The webhook configuration has trusted the current CA long enough for the API server to have seen it. */
  caPublished: boolean;
}

export interface RotationPlan {
  stored: StoredCertificates;
  /** What changed and why, for the log and Events; empty when nothing needs to change. */
  changes: string[];
}

export function splitPem(bundle: string | undefined): string[] {
  return bundle?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map(withNewline) ?? [];
}

const withNewline = (pem: string) => (pem.endsWith("\n") ? pem : `${pem}\n`);

function parse(pem: string | undefined): X509Certificate | undefined {
  if (!pem) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function matchesKey(cert: X509Certificate, keyPem: string | undefined): boolean {
  if (!keyPem) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Due for renewal: a third of the configured lifetime (or less) is left. */
function due(cert: X509Certificate, lifetimeMs: number, now: Date): boolean {
  return now.getTime() >= new Date(cert.validTo).getTime() - lifetimeMs / 3;
}

const expired = (cert: X509Certificate, now: Date) => now.getTime() >= new Date(cert.validTo).getTime();

export async function planCertificates(input: RotationInput): Promise<RotationPlan> {
  const { stored, now, settings } = input;
  const changes: string[] = [];

  let caCert = parse(stored["ca.crt"]);
  let ca: Pick<StoredCertificates, "ca.crt" | "ca.key"> = {
    "ca.crt": stored["ca.crt"] ?? "",
    "ca.key": stored["ca.key"] ?? "",
  };
  if (!caCert?.ca || !matchesKey(caCert, stored["ca.key"]) || due(caCert, settings.caDurationMs, now)) {
    changes.push(caCert ? "the CA is due for renewal: a new CA joins the bundle" : "no CA yet: created one");
    const created = await createCertificateAuthority("ai-api-guard-webhook-ca", settings.caDurationMs / DAY_MS, now);
    ca = { "ca.crt": created.certPem, "ca.key": created.keyPem };
    caCert = new X509Certificate(created.certPem);
  }
  const current = caCert;

  // The current CA first, then older ones that have not expired, each once.
  const trusted = [ca["ca.crt"], ...splitPem(stored["ca-bundle.crt"])]
    .map((pem) => ({ pem: withNewline(pem), cert: parse(pem) }))
    .filter((entry): entry is { pem: string; cert: X509Certificate } => !!entry.cert && !expired(entry.cert, now))
    .filter((entry, i, all) => all.findIndex((other) => other.cert.fingerprint256 === entry.cert.fingerprint256) === i);
  const bundle = trusted.map((entry) => entry.pem).join("");
  if (bundle !== (stored["ca-bundle.crt"] ?? "") && changes.length === 0)
    changes.push("the CA bundle dropped an expired CA");

  let serving = { "tls.crt": stored["tls.crt"] ?? "", "tls.key": stored["tls.key"] ?? "" };
  const reason = servingReason(serving, trusted, current, input);
  if (reason) {
    changes.push(reason);
    const issued = await issueCertificate(await loadCertificateAuthority(ca["ca.crt"], ca["ca.key"]), {
      subject: `CN=${settings.dnsNames[0]}`,
      dnsNames: settings.dnsNames,
      usage: "server",
      validDays: settings.certificateDurationMs / DAY_MS,
      notAfter: new Date(current.validTo),
      now,
    });
    serving = { "tls.crt": issued.certPem, "tls.key": issued.keyPem };
  }
  return { stored: { ...ca, "ca-bundle.crt": bundle, ...serving }, changes };
}

/** Why the serving certificate must be re-issued now, or undefined to keep it. */
function servingReason(
  serving: { "tls.crt": string; "tls.key": string },
  trusted: { cert: X509Certificate }[],
  current: X509Certificate,
  input: RotationInput,
): string | undefined {
  const cert = parse(serving["tls.crt"]);
  const { now, settings } = input;
  if (!cert || expired(cert, now))
    return cert ? "the serving certificate expired" : "no serving certificate yet: issued one";
  if (!matchesKey(cert, serving["tls.key"])) return "the serving certificate does not match its key";
  if (settings.dnsNames.some((name) => cert.checkHost(name, { wildcards: false }) !== name)) {
    return `the serving certificate is not for ${settings.dnsNames.join(", ")}`;
  }
  if (!trusted.some((ca) => cert.checkIssued(ca.cert) && cert.verify(ca.cert.publicKey))) {
    return "the serving certificate is signed by no CA in the bundle";
  }
  const byCurrent = cert.checkIssued(current) && cert.verify(current.publicKey);
  // Until the webhook configuration trusts the new CA, the certificate the old one signed keeps serving.
  if (!byCurrent && input.caPublished) return "the serving certificate moves to the new CA";
  if (due(cert, settings.certificateDurationMs, now) && (byCurrent || input.caPublished)) {
    return "the serving certificate is due for renewal";
  }
  return undefined;
}
