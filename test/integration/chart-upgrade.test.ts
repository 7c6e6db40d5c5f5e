// `helm upgrade` and `helm rollback` on a running install: the values a platform engineer changes take effect,
// and what the operator wrote after the install (the CA bundle of the webhook configuration, the certificate
// Secret) survives them, as the README promises. Helm merges its manifests with the live objects (three-way),
// so a field the chart renders, or renders empty, would be reset to the chart's value on every upgrade.
// The webhook is kept to namespaces labelled for this file (none), so the API server never calls it here.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";

import { CHART } from "../../scripts/manifests.ts";
import { kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { helm } from "./chart-support.ts";

const run = `r${randomBytes(3).toString("hex")}`;
const release = `aag-up-${run}`;
const fullname = `${release}-ai-api-guard`;
const namespace = `aag-up-${run}`;
const selector = `webhook.namespaceSelector.aiapiguard-upgrade-test=${run}`;
/** What the leader writes after the install: stand-ins, since kwok runs no operator container. */
const BUNDLE = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const TLS_DATA = { "ca.crt": BUNDLE, "tls.crt": BUNDLE, "tls.key": Buffer.from("key").toString("base64") };

async function webhook(): Promise<{ failurePolicy: string; timeoutSeconds: number; caBundle?: string }> {
  const got = await kubectl(["get", "validatingwebhookconfiguration", fullname, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  const hook = JSON.parse(got.stdout).webhooks[0];
  return {
    failurePolicy: hook.failurePolicy,
    timeoutSeconds: hook.timeoutSeconds,
    caBundle: hook.clientConfig.caBundle,
  };
}

async function secretData(): Promise<Record<string, string> | undefined> {
  const got = await kubectl(["get", "secret", `${fullname}-tls`, "-n", namespace, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  return JSON.parse(got.stdout).data;
}

describe("helm upgrade and rollback of a running install", () => {
  afterAll(async () => {
    await helm(["uninstall", release, "-n", namespace, "--wait", "--timeout", "60s"]);
    await kubectl(["delete", "namespace", namespace, "--wait=false"]);
  });

  it("applies changed values and keeps the CA bundle and certificate Secret the operator wrote", async () => {
    await installCrds();
    const installed = await helm(["install", release, CHART, "-n", namespace, "--create-namespace", "--set", selector]);
    expect(installed.code, installed.stderr).toBe(0);
    // What the leader does within seconds of starting: fill the Secret, patch the bundle into the configuration.
    const filled = await kubectl(
      ["patch", "secret", `${fullname}-tls`, "-n", namespace, "--type=merge", "-p"].concat(
        JSON.stringify({ data: TLS_DATA }),
      ),
    );
    expect(filled.code, filled.stderr).toBe(0);
    const patch = [{ op: "add", path: "/webhooks/0/clientConfig/caBundle", value: BUNDLE }];
    const bundled = await kubectl([
      "patch",
      "validatingwebhookconfiguration",
      fullname,
      "--type=json",
      "-p",
      JSON.stringify(patch),
    ]);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(await webhook()).toEqual({ failurePolicy: "Fail", timeoutSeconds: 10, caBundle: BUNDLE });

    const upgraded = await helm([
      "upgrade",
      release,
      CHART,
      "-n",
      namespace,
      "--reuse-values",
      "--set",
      "webhook.failurePolicy=Ignore",
      "--set",
      "webhook.timeoutSeconds=5",
    ]);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(await webhook()).toEqual({ failurePolicy: "Ignore", timeoutSeconds: 5, caBundle: BUNDLE });
    expect(await secretData()).toEqual(TLS_DATA);

    const same = await helm(["upgrade", release, CHART, "-n", namespace, "--reuse-values"]);
    expect(same.code, same.stderr).toBe(0);
    expect(await webhook()).toEqual({ failurePolicy: "Ignore", timeoutSeconds: 5, caBundle: BUNDLE });

    const rolledBack = await helm(["rollback", release, "1", "-n", namespace]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(await webhook()).toEqual({ failurePolicy: "Fail", timeoutSeconds: 10, caBundle: BUNDLE });
    expect(await secretData()).toEqual(TLS_DATA);
  }, 120_000);
});
