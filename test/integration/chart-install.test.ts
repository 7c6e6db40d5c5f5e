// The chart on the local cluster, start to end: `helm install` into a namespace where Pod Security
// "restricted" is enforced creates everything and the operator's pods run; then the operator process
// runs with the chart's environment and its ServiceAccount's token (TokenRequest), makes and keeps its
// certificates, patches the caBundle, and the API server calls it through the chart's Service reference,
// checking the certificate's name <service>.<namespace>.svc; the policy flow works through kubectl;
// `helm uninstall` removes the webhook configuration and a namespace holding a policy deletes in 30 s.
//
// Substituted hop (no pod network, and kwok runs no containers): the chart's Service is replaced by an
// ExternalName Service for "localhost" with the same name and port, so the API server, resolving the
// webhook's Service reference, reaches the operator process on this machine's port 443 instead of a pod.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { CHART } from "../../scripts/manifests.ts";
import { freePort } from "../controlplane/ports.ts";
import { kubeConfig, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import {
  chartEnvironment,
  helm,
  type OperatorProcess,
  serviceAccountKubeconfig,
  startInClusterOperator,
} from "./chart-support.ts";

// A letter first: an all-digit id given to `helm --set` as a label value would be read as a number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `aag-${run}`;
const fullname = `${release}-ai-api-guard`;
const operatorNs = `aag-op-${run}`;
const appNs = `aag-app-${run}`;
const selectorLabel = "aiapiguard-install";
const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const KEY = fakeSecrets(Number.parseInt(run, 16)).openai as string;

const apply = (...objects: object[]) =>
  kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });

function summarizer(env: k8s.V1EnvVar[]) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "summarizer", namespace: appNs },
    spec: {
      selector: { matchLabels: { app: "summarizer" } },
      template: {
        metadata: { labels: { app: "summarizer" } },
        spec: { containers: [{ name: "app", image: "registry.example/summarizer:1.0", env }] },
      },
    },
  };
}

describe("helm install, the operator in its cluster identity, helm uninstall", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let operator: OperatorProcess | undefined;
  let kubeconfig = "";

  afterAll(async () => {
    await operator?.stop();
    await helm(["uninstall", release, "-n", operatorNs, "--wait"]);
    for (const ns of [appNs, operatorNs]) await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("installs into a restricted namespace and the operator's pods run", async () => {
    await installCrds();
    const namespaces = [
      { name: operatorNs, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
      { name: appNs, labels: { [selectorLabel]: run } },
    ];
    for (const { name, labels } of namespaces) {
      const created = await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
      expect(created.code, created.stderr).toBe(0);
    }
    // The webhook reviews this file's namespace only, so other test files running now are not affected.
    const installed = await helm([
      "install",
      release,
      CHART,
      "-n",
      operatorNs,
      "--set",
      `webhook.namespaceSelector.${selectorLabel}=${run}`,
      "--wait",
      "--timeout",
      "120s",
    ]);
    expect(installed.code, installed.stderr).toBe(0);

    const manifest = await helm(["get", "manifest", release, "-n", operatorNs]);
    const present = await kubectl(["get", "-f", "-", "-o", "name"], { input: manifest.stdout });
    expect(present.code, present.stderr).toBe(0);
    expect(present.stdout.trim().split("\n").sort()).toEqual(
      [
        `clusterrole.rbac.authorization.k8s.io/${fullname}`,
        `clusterrolebinding.rbac.authorization.k8s.io/${fullname}`,
        `deployment.apps/${fullname}`,
        `poddisruptionbudget.policy/${fullname}`,
        `role.rbac.authorization.k8s.io/${fullname}`,
        `rolebinding.rbac.authorization.k8s.io/${fullname}`,
        `secret/${fullname}-tls`,
        `service/${fullname}`,
        `serviceaccount/${fullname}`,
        `validatingwebhookconfiguration.admissionregistration.k8s.io/${fullname}`,
      ].sort(),
    );
    // Pod Security admission ("restricted", enforced) let the pods be created; the scheduler placed them.
    const pods = await core.listNamespacedPod({
      namespace: operatorNs,
      labelSelector: `app.kubernetes.io/instance=${release}`,
    });
    expect(pods.items.map((pod) => pod.status?.phase)).toEqual(["Running", "Running"]);
  }, 150_000);

  it("runs with the chart's environment and token: certificates, caBundle, the Service name checked, the policy flow", async () => {
    // The substituted hop: the Service now leads to this machine (see the top of the file).
    expect((await kubectl(["delete", "service", fullname, "-n", operatorNs])).code).toBe(0);
    const external = await apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: fullname, namespace: operatorNs },
      spec: { type: "ExternalName", externalName: "localhost", ports: [{ name: "webhook", port: 443 }] },
    });
    expect(external.code, external.stderr).toBe(0);

    const deployment = await kc
      .makeApiClient(k8s.AppsV1Api)
      .readNamespacedDeployment({ name: fullname, namespace: operatorNs });
    const metricsPort = await freePort();
    kubeconfig = await serviceAccountKubeconfig(
      kc,
      { namespace: operatorNs, name: fullname },
      mkdtempSync(join(tmpdir(), "aag-install-")),
    );
    operator = await startInClusterOperator({
      ...chartEnvironment(deployment, { namespace: operatorNs }),
      // The identity: the chart's ServiceAccount (a kubeconfig holding its token instead of the mounted one).
      AI_API_GUARD_KUBECONFIG: kubeconfig,
      // Where the API server now dials (the Service port), and a free probe port on this shared machine.
      AI_API_GUARD_PORT: "443",
      AI_API_GUARD_METRICS_PORT: String(metricsPort),
      // Other test files' policies are not this operator's business.
      AI_API_GUARD_NAMESPACES: appNs,
    });

    const ready = await eventually(
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok,
      30_000,
    ).catch(() => operator?.output());
    expect(ready).toBe(true);
    const secret = await core.readNamespacedSecret({ name: `${fullname}-tls`, namespace: operatorNs });
    const ca = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString();
    expect(ca).toContain("BEGIN CERTIFICATE");
    const bundle = await eventually(async () => {
      const config = await kc
        .makeApiClient(k8s.AdmissionregistrationV1Api)
        .readValidatingWebhookConfiguration({ name: fullname });
      return Buffer.from(config.webhooks?.[0]?.clientConfig.caBundle ?? "", "base64").toString();
    });
    expect(bundle).toContain(ca.trim());

    // The API server calls the webhook through the Service reference and trusts it by the patched caBundle.
    const refused = await apply(summarizer([{ name: "OPENAI_API_KEY", value: KEY }]));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "validate.aiapiguard.dev" denied the request');
    expect(refused.stderr).toContain("hardcoded-secret");
    expect(refused.stderr).not.toContain(KEY);

    const accepted = await apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "openai-api-key", namespace: appNs },
        stringData: { "api-key": "x" },
      },
      {
        apiVersion: "aiapiguard.dev/v1alpha1",
        kind: "AiApiPolicy",
        metadata: { name: "openai", namespace: appNs },
        spec: {
          api: { endpoint: "https://api.openai.com/v1", authType: "APIKey", sensitivity: "High" },
          selector: { matchLabels: { app: "summarizer" } },
          egress: { cidrs: ["203.0.113.0/24"] },
          credentials: { secretName: "openai-api-key" },
          admission: { action: "Deny" },
        },
      },
      summarizer([{ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai-api-key", key: "api-key" } } }]),
    );
    expect(accepted.code, accepted.stderr).toBe(0);
    // The controller, with the chart's RBAC, writes the NetworkPolicy and the mount.
    const networkPolicy = await eventually(
      async () => (await kubectl(["get", "networkpolicy", "-n", appNs, "-o", "name"])).stdout.trim(),
      30_000,
      "the policy's NetworkPolicy",
    );
    expect(networkPolicy).toContain("networkpolicy.networking.k8s.io/");
    // No request of the operator was forbidden by RBAC.
    expect(operator.output()).not.toMatch(/\b403\b|forbidden/i);
  }, 120_000);

  it("helm uninstall removes the webhook configuration, and a namespace holding a policy then deletes within 30 s", async () => {
    await operator?.stop();
    operator = undefined;
    expect(
      (await kubectl(["get", "aiapipolicy", "openai", "-n", appNs, "-o", "jsonpath={.metadata.finalizers}"])).stdout,
    ).toContain("aiapiguard.dev/cleanup");
    // Substituted hop: kwok completes the pre-delete hook Job's pod without running it, so the test runs the
    // Job's own command (from the release's hooks) with the chart's ServiceAccount token first.
    const hooks = parseAllDocuments((await helm(["get", "hooks", release, "-n", operatorNs])).stdout).map((doc) =>
      doc.toJS(),
    );
    const job = hooks.find((hook) => hook?.kind === "Job");
    const args: string[] = job?.spec.template.spec.containers[0].args;
    expect(args[0]).toBe("uninstall");
    const hook = spawnSync(process.execPath, [CLI, ...args, "--kubeconfig", kubeconfig], { encoding: "utf8" });
    expect(hook.status, hook.stderr).toBe(0);

    const uninstalled = await helm(["uninstall", release, "-n", operatorNs, "--wait", "--timeout", "60s"]);
    expect(uninstalled.code, uninstalled.stderr).toBe(0);
    const left = await kubectl(["get", "validatingwebhookconfiguration", fullname]);
    expect(left.stderr).toContain("NotFound");

    expect((await kubectl(["get", "aiapipolicy", "openai", "-n", appNs, "-o", "name"])).stdout).toContain("openai");
    const started = Date.now();
    const deleted = await kubectl(["delete", "namespace", appNs, "--timeout=30s"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 120_000);
});
