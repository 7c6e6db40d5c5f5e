// The webhook's certificates in a cluster, from the settings: self-managed in a Secret (the default),
// or files a Secret is mounted as (cert-manager). Every replica reloads the serving certificate on
// its own; only the rotation (Secret and caBundle) is the leader's job.
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Settings } from "../config/settings.ts";
import { durationMs } from "../config/settings.ts";
import type { Runnable } from "../runtime/manager.ts";
import { certificateReconciler } from "./certificate-secret.ts";
import { type ServingCertificate, servingFromFiles, servingFromSecret } from "./serving.ts";

export interface InClusterCertificates {
  serving: ServingCertificate;
  /** Leader-only: keeps the Secret rotated and the caBundle patched. Absent for certificates from files. */
  rotation?: ReturnType<typeof certificateReconciler>;
  /** How often the rotation runs and the replicas look for a new certificate. */
  intervalMs: number;
}

/** A twentieth of the serving certificate's lifetime, between 1 s and 1 min. */
export function checkIntervalMs(certificateDurationMs: number): number {
  return Math.min(Math.max(certificateDurationMs / 20, 1_000), 60_000);
}

export function inClusterCertificates(kc: k8s.KubeConfig, settings: Settings, logger: Logger): InClusterCertificates {
  const certificateDurationMs = durationMs(settings["certificate-duration"]);
  const intervalMs = checkIntervalMs(certificateDurationMs);
  const certFile = settings["tls-cert-file"];
  const keyFile = settings["tls-key-file"];
  if (certFile && keyFile)
    return { serving: servingFromFiles({ cert: certFile, key: keyFile }, intervalMs, logger), intervalMs };

  const namespace = settings["pod-namespace"];
  const secretName = settings["certificate-secret"] as string;
  const service = `${settings["service-name"]}.${namespace}.svc`;
  return {
    serving: servingFromSecret(kc, { namespace, name: secretName }, intervalMs, logger),
    rotation: certificateReconciler(kc, {
      namespace,
      secretName,
      webhookConfigName: settings["webhook-config-name"],
      settings: {
        dnsNames: [service, `${service}.cluster.local`],
        caDurationMs: durationMs(settings["ca-duration"]),
        certificateDurationMs,
      },
      logger,
    }),
    intervalMs,
  };
}

/**
 * Runs the rotation now and then every interval; returns the function that stops it. Once `signal`
 * aborts (the Lease lost) a round in progress stops before its next write: not waited for, as its
 * reads cannot be aborted and an API server that does not answer must not hold the shutdown.
 */
export function startRotation(certificates: InClusterCertificates, signal: AbortSignal): () => void {
  const rotation = certificates.rotation;
  if (!rotation) return () => undefined;
  let running = rotation.tick(signal);
  const timer = setInterval(() => {
    running = running.then(() => rotation.tick(signal));
  }, certificates.intervalMs);
  return () => clearInterval(timer);
}

/** The operator's runnables: every replica reloads, the Lease holder rotates (no rotation for files). */
export function certificateRunnables(certificates: InClusterCertificates): Runnable[] {
  let stopRotation: () => void = () => undefined;
  const reload: Runnable = {
    name: "serving certificate",
    needsLeader: false,
    start: async () => undefined,
    stop: async () => certificates.serving.stop(),
  };
  if (!certificates.rotation) return [reload];
  return [
    reload,
    {
      name: "certificate rotation",
      needsLeader: true,
      start: async (signal) => {
        stopRotation = startRotation(certificates, signal);
      },
      stop: async () => stopRotation(),
    },
  ];
}
