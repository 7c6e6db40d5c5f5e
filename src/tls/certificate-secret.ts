// The leader's side of self-managed certificates: keep the Secret as rotation.ts says, and the webhook
// configuration's caBundle equal to the Secret's bundle. Safe to run from several replicas at once (the
// Secret is written with its resourceVersion, so a concurrent writer gets a 409 and retries next round),
// but meant for the Lease holder. Writes nothing once converged.
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { describeError } from "../kube/errors.ts";
import { planCertificates, type RotationSettings, type StoredCertificates, splitPem } from "./rotation.ts";

export interface CertificateSecretOptions {
  namespace: string;
  secretName: string;
  webhookConfigName: string;
  settings: RotationSettings;
  logger: Logger;
  /** How long the webhook configuration must have trusted a new CA before the serving certificate moves to it. */
  publishGraceMs?: number;
  now?: () => Date;
}

const KEYS = ["ca.crt", "ca.key", "ca-bundle.crt", "tls.crt", "tls.key"] as const;

export function certificateReconciler(kc: k8s.KubeConfig, options: CertificateSecretOptions) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const now = options.now ?? (() => new Date());
  const grace = options.publishGraceMs ?? defaultGraceMs(options.settings.certificateDurationMs);
  /** When each CA (by certificate) was first seen in the webhook configuration's caBundle. */
  const publishedSince = new Map<string, number>();
  const { namespace, secretName: name, logger } = options;

  /** One round: returns what changed (empty once converged). `signal` (the Lease lost) stops it before any write. */
  async function reconcile(signal?: AbortSignal): Promise<string[]> {
    const secret = await core.readNamespacedSecret({ name, namespace }).catch(notFound);
    const stored = decode(secret);
    const config = await admission
      .readValidatingWebhookConfiguration({ name: options.webhookConfigName })
      .catch(notFound);
    const plan = await planCertificates({
      stored,
      now: now(),
      settings: options.settings,
      caPublished: published(config, stored["ca.crt"]),
    });
    signal?.throwIfAborted();
    if (plan.changes.length > 0) {
      const body: k8s.V1Secret = {
        apiVersion: "v1",
        kind: "Secret",
        type: secret?.type ?? "Opaque",
        metadata: { ...secret?.metadata, name, namespace },
        data: { ...secret?.data, ...encode(plan.stored) },
      };
      if (secret) await core.replaceNamespacedSecret({ name, namespace, body });
      else await core.createNamespacedSecret({ namespace, body });
      logger.info(
        { certificates: `Secret ${namespace}/${name}`, changes: plan.changes },
        "rotated the webhook's certificates",
      );
    }
    signal?.throwIfAborted();
    const patched = config && (await patchCaBundle(config, plan.stored["ca-bundle.crt"]));
    if (!config) logger.debug({ webhookConfiguration: options.webhookConfigName }, "no webhook configuration to patch");
    return patched ? [...plan.changes, "patched the webhook configuration's caBundle"] : plan.changes;
  }

  function published(config: k8s.V1ValidatingWebhookConfiguration | undefined, caPem: string | undefined): boolean {
    if (!config || !caPem) return false;
    const trusts = (config.webhooks ?? []).every((webhook) =>
      splitPem(Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString()).includes(caPem),
    );
    if (!trusts) return false;
    const since = publishedSince.get(caPem) ?? now().getTime();
    publishedSince.set(caPem, since);
    return now().getTime() - since >= grace;
  }

  /** Sets every webhook's caBundle to the bundle; true when something was written. */
  async function patchCaBundle(config: k8s.V1ValidatingWebhookConfiguration, bundle: string): Promise<boolean> {
    const caBundle = Buffer.from(bundle).toString("base64");
    const stale = (config.webhooks ?? []).filter((webhook) => webhook.clientConfig.caBundle !== caBundle);
    if (stale.length === 0) return false;
    // A JSON patch that first tests the resourceVersion: it never re-creates a configuration an uninstall removed.
    const patch = [
      { op: "test", path: "/metadata/resourceVersion", value: config.metadata?.resourceVersion },
      ...(config.webhooks ?? []).map((_, i) => ({
        op: "replace" as const,
        path: `/webhooks/${i}/clientConfig/caBundle`,
        value: caBundle,
      })),
    ];
    await admission.patchValidatingWebhookConfiguration(
      { name: options.webhookConfigName, body: patch },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    return true;
  }

  return {
    reconcile,
    /** reconcile(), with failures logged instead of thrown: for a timer. */
    async tick(signal?: AbortSignal): Promise<void> {
      try {
        await reconcile(signal);
      } catch (error) {
        if (signal?.aborted) {
          logger.info({ reason: describeError(signal.reason) }, "certificate rotation stopped before it finished");
          return;
        }
        logger.warn(
          { error: describeError(error), secret: `${namespace}/${name}` },
          "certificate rotation failed; retrying",
        );
      }
    },
  };
}

/** A tenth of the serving certificate's lifetime, between 2 s and 10 min. */
function defaultGraceMs(certificateDurationMs: number): number {
  return Math.min(Math.max(certificateDurationMs / 10, 2_000), 600_000);
}

function notFound(error: unknown): undefined {
  if (error instanceof k8s.ApiException && error.code === 404) return undefined;
  throw error;
}

export function decode(secret: k8s.V1Secret | undefined): Partial<StoredCertificates> {
  const stored: Partial<StoredCertificates> = {};
  for (const key of KEYS) {
    const value = secret?.data?.[key];
    if (value) stored[key] = Buffer.from(value, "base64").toString();
  }
  return stored;
}

function encode(stored: StoredCertificates): Record<string, string> {
  return Object.fromEntries(KEYS.map((key) => [key, Buffer.from(stored[key]).toString("base64")]));
}
