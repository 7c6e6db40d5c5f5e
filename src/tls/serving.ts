// Where every replica gets the certificate it serves, and learns that it changed: the operator's own
// Secret (read through the API), or files a Secret is mounted as (cert-manager's), which the kubelet
// swaps in place on renewal. Each source checks on a timer (files also on a change notice from the
// filesystem) and calls back only when the certificate really changed.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { type FSWatcher, watch as watchFolder } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { describeError } from "../kube/errors.ts";
import { decode } from "./certificate-secret.ts";

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ServingCertificate {
  /** The certificate to serve, once there is a valid one. */
  current(): KeyPair | undefined;
  /** A valid certificate is loaded and has not expired: part of /readyz. */
  ready(): boolean;
  /** Called with each certificate loaded, the first included (also when it loaded before the call). */
  onChange(listener: (pair: KeyPair) => void): void;
  /** Resolves with the first valid certificate. */
  first(): Promise<KeyPair>;
  stop(): void;
}

/** Usable: parses, has not expired, and the key is the certificate's. */
export function usable(pair: KeyPair, now = new Date()): boolean {
  try {
    const cert = new X509Certificate(pair.cert);
    return new Date(cert.validTo) > now && cert.checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

/** Polls `read` every intervalMs (and whenever `nudge` is called); keeps the last usable pair. */
function pollingSource(read: () => Promise<KeyPair | undefined>, intervalMs: number, logger: Logger, what: string) {
  let pair: KeyPair | undefined;
  const listeners: ((pair: KeyPair) => void)[] = [];
  const waiting: ((pair: KeyPair) => void)[] = [];
  let busy = false;

  async function check(): Promise<void> {
    let next: KeyPair | undefined;
    try {
      next = await read();
    } catch (error) {
      logger.warn(
        { error: describeError(error), source: what },
        "could not read the serving certificate; keeping the current one",
      );
      return;
    }
    if (!next || (pair && next.cert === pair.cert && next.key === pair.key) || !usable(next)) return;
    const first = !pair;
    pair = next;
    logger.info({ source: what, notAfter: new X509Certificate(next.cert).validTo }, "loaded the serving certificate");
    if (first) for (const resolve of waiting.splice(0)) resolve(next);
    for (const listener of listeners) listener(next);
  }
  const nudge = () => {
    if (busy) return;
    busy = true;
    void check().finally(() => {
      busy = false;
    });
  };
  // Every second until the first certificate is there (the leader is making it), then every interval.
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(
      () => {
        nudge();
        schedule();
      },
      pair ? intervalMs : Math.min(intervalMs, 1_000),
    );
    timer.unref();
  };
  nudge();
  schedule();

  const source: ServingCertificate = {
    current: () => pair,
    ready: () => !!pair && usable(pair),
    onChange: (listener) => {
      listeners.push(listener);
      if (pair) listener(pair);
    },
    first: () => (pair ? Promise.resolve(pair) : new Promise((resolve) => waiting.push(resolve))),
    stop: () => clearTimeout(timer),
  };
  return { source, nudge };
}

export function servingFromSecret(
  kc: k8s.KubeConfig,
  secret: { namespace: string; name: string },
  intervalMs: number,
  logger: Logger,
): ServingCertificate {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const read = async (): Promise<KeyPair | undefined> => {
    const stored = decode(await core.readNamespacedSecret(secret));
    return stored["tls.crt"] && stored["tls.key"] ? { cert: stored["tls.crt"], key: stored["tls.key"] } : undefined;
  };
  return pollingSource(read, intervalMs, logger, `secret ${secret.namespace}/${secret.name}`).source;
}

export function servingFromFiles(
  files: { cert: string; key: string },
  intervalMs: number,
  logger: Logger,
): ServingCertificate {
  const read = async (): Promise<KeyPair> => ({
    cert: await readFile(files.cert, "utf8"),
    key: await readFile(files.key, "utf8"),
  });
  const { source, nudge } = pollingSource(read, intervalMs, logger, `files ${files.cert}`);
  // The kubelet renews a mounted Secret by swapping a symlink in the folder: watch the folder, not the file.
  let watcher: FSWatcher | undefined;
  try {
    watcher = watchFolder(dirname(files.cert), nudge);
    watcher.unref();
  } catch (error) {
    logger.warn({ error: (error as Error).message }, "cannot watch the certificate's folder; checking on a timer only");
  }
  return {
    ...source,
    stop: () => {
      watcher?.close();
      source.stop();
    },
  };
}
