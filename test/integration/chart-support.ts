// What the chart tests share: helm from the local control plane's bin folder, and the real CRDs of the
// projects the chart's optional objects belong to (cert-manager, the Prometheus Operator), taken from
// their Go modules at pinned versions.
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { CHART, KUBE_VERSION } from "../../scripts/manifests.ts";
import { kubectl } from "../support/cluster.ts";

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
    const ready = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", file]);
    if (ready.code !== 0) throw new Error(`${path} did not become Established: ${ready.stderr}`);
  }
}
