// What the chart tests share: helm from the local control plane's bin folder, and the real CRDs of the
// projects the chart's optional objects belong to (cert-manager, the Prometheus Operator), taken from
// their Go modules at pinned versions.
import { execFile, execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
import { stringify } from "yaml";
import { CHART, KUBE_VERSION } from "../../scripts/manifests.ts";
import { kubectl } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";

const run = promisify(execFile);

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The control plane's helm against the test cluster; never throws on a non-zero exit. */
export async function helm(args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(
      join(inject("binDir"), "helm"),
      [...args, "--kubeconfig", inject("kubeconfig")],
      {
        maxBuffer: 16 << 20,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `helm template` of the chart for a release in a namespace, with --set values. */
export async function template(release: string, namespace: string, set: string[] = []): Promise<string> {
  const result = await helm([
    "template",
    release,
    CHART,
    "--namespace",
    namespace,
    "--kube-version",
    KUBE_VERSION,
    ...set.flatMap((s) => ["--set", s]),
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return result.stdout;
}

/** The chart's every optional object switched on, with a selector that keeps the webhook to one test's namespaces. */
export const EVERY_TOGGLE = [
  "certManager.enabled=true",
  "metrics.serviceMonitor.enabled=true",
  "metrics.serviceMonitor.labels.release=prometheus",
  "podDisruptionBudget.enabled=true",
  "priorityClassName=system-cluster-critical",
  "podAnnotations.example=yes",
  "serviceAccount.annotations.example=yes",
  "webhook.networkPolicy.enabled=true",
  "webhook.networkPolicy.from[0].ipBlock.cidr=10.0.0.0/24",
];

const MODULE_CRDS = [
  ["github.com/cert-manager/cert-manager@v1.21.2", "deploy/crds/cert-manager.io_certificates.yaml"],
  ["github.com/cert-manager/cert-manager@v1.21.2", "deploy/crds/cert-manager.io_issuers.yaml"],
  [
    "github.com/prometheus-operator/prometheus-operator@v0.85.0",
    "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
  ],
] as const;

/** Installs cert-manager's Certificate and Issuer and the ServiceMonitor CRD, from their Go modules. */
export async function installNeighbourCrds(): Promise<void> {
  for (const [module, path] of MODULE_CRDS) {
    const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8" }));
    const file = join(info.Dir as string, path);
    const applied = await kubectl(["apply", "--server-side", "-f", file]);
    if (applied.code !== 0) throw new Error(`cannot install ${path} from ${module}: ${applied.stderr}`);
    // kubectl wait fails at once, instead of waiting, while a new CRD has no status conditions yet.
    const wait = () => kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", file]);
    const ready = await eventually(async () => ((await wait()).code === 0 ? true : undefined), 60_000).catch(
      () => false,
    );
    if (!ready) throw new Error(`${path} did not become Established: ${(await wait()).stderr}`);
  }
}

/** A kubeconfig that authenticates with a TokenRequest token of the ServiceAccount: the pod's identity. */
export async function serviceAccountKubeconfig(
  kc: k8s.KubeConfig,
  serviceAccount: { namespace: string; name: string },
  dir: string,
): Promise<string> {
  const token = await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    ...serviceAccount,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster();
  if (!cluster || !token.status?.token) throw new Error("no current cluster, or the TokenRequest returned no token");
  const user = `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
    users: [{ name: user, user: { token: token.status.token } }],
    contexts: [{ name: "operator", context: { cluster: "local", user } }],
    "current-context": "operator",
  };
  const path = join(dir, `${serviceAccount.name}.kubeconfig`);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

/** The environment the chart's Deployment gives its container, with downward-API fields filled in. */
export function chartEnvironment(deployment: k8s.V1Deployment, pod: { namespace: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of deployment.spec?.template.spec?.containers[0]?.env ?? []) {
    // An empty value comes back from the API server as no value at all.
    if (!entry.valueFrom) env[entry.name] = entry.value ?? "";
    else if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[entry.name] = pod.namespace;
    else throw new Error(`the chart sets ${entry.name} from a source this test does not fill in`);
  }
  return env;
}

export interface OperatorProcess {
  output(): string;
  stop(): Promise<number | null>;
}

/** `ai-api-guard run` with exactly the given environment (and PATH), ended when this test process ends. */
export async function startInClusterOperator(env: Record<string, string>): Promise<OperatorProcess> {
  const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const withParent = fileURLToPath(new URL("../support/with-parent.ts", import.meta.url));
  const child = spawn(process.execPath, [withParent, String(process.pid), process.execPath, cli, "run"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", NO_PROXY: "127.0.0.1,localhost", ...env },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('"msg":"ai-api-guard is ready"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`ai-api-guard run did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      return exited.finally(() => clearTimeout(killer));
    },
  };
}
