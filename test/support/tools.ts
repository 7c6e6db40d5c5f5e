// Tools and files from Go modules that the tests check ai-api-guard's output against, fetched once
// per machine into caches (the Go module cache; ~/.cache/ai-api-guard/tools), never committed.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const goTool = fileURLToPath(new URL("../../scripts/go-tool.sh", import.meta.url));

/** The folder of a Go module, downloaded (`go mod download -json`) unless cached. */
async function goModuleDir(module: string, version: string): Promise<string> {
  const { stdout } = await run("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd: tmpdir(), // outside any module: nothing here changes a go.mod
    maxBuffer: 1 << 20,
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? stdout}`);
  return info.Dir;
}

/** The path of a file inside a Go module. */
export async function goModuleFile(module: string, version: string, path: string): Promise<string> {
  return join(await goModuleDir(module, version), path);
}

/** Each project's CRD files, at a release the Go module proxy serves. */
const AI_CRD_SOURCES = [
  {
    module: "github.com/kserve/kserve",
    version: "v0.15.2",
    files: ["inferenceservices", "servingruntimes", "clusterservingruntimes"].map(
      (plural) => `config/crd/full/serving.kserve.io_${plural}.yaml`,
    ),
  },
  {
    module: "github.com/ray-project/kuberay/ray-operator",
    version: "v1.5.0",
    files: ["rayclusters", "rayjobs", "rayservices"].map((plural) => `config/crd/bases/ray.io_${plural}.yaml`),
  },
  {
    module: "github.com/kubeflow/training-operator",
    version: "v1.9.2",
    files: ["jaxjobs", "pytorchjobs", "tfjobs", "xgboostjobs", "paddlejobs"].map(
      (plural) => `manifests/base/crds/kubeflow.org_${plural}.yaml`,
    ),
  },
  // MPIJob v2beta1, which replaced the training operator's v1.
  {
    module: "github.com/kubeflow/mpi-operator",
    version: "v0.6.0",
    files: ["manifests/base/kubeflow.org_mpijobs.yaml"],
  },
  {
    module: "github.com/kubeflow/trainer/v2",
    version: "v2.0.0",
    files: ["trainjobs", "clustertrainingruntimes"].map(
      (plural) => `manifests/base/crds/trainer.kubeflow.org_${plural}.yaml`,
    ),
  },
  {
    module: "sigs.k8s.io/lws",
    version: "v0.7.0",
    files: ["config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml"],
  },
  { module: "knative.dev/serving", version: "v0.46.0", files: ["config/core/300-resources/service.yaml"] },
  { module: "github.com/argoproj/argo-rollouts", version: "v1.8.3", files: ["manifests/crds/rollout-crd.yaml"] },
  {
    module: "github.com/argoproj/argo-workflows/v3",
    version: "v3.7.3",
    files: ["workflows", "workflowtemplates", "cronworkflows", "clusterworkflowtemplates"].map(
      (plural) => `manifests/base/crds/full/argoproj.io_${plural}.yaml`,
    ),
  },
];

/** The real CRDs of the AI kinds the webhook reviews (a file may hold several), one download per module. */
export async function aiCrdFiles(): Promise<string[]> {
  const dirs = await Promise.all(AI_CRD_SOURCES.map(({ module, version }) => goModuleDir(module, version)));
  return AI_CRD_SOURCES.flatMap(({ files }, i) => files.map((file) => join(dirs[i] as string, file)));
}

/** cyclonus, the NetworkPolicy analyzer, installed from its Go module by scripts/go-tool.sh. */
export async function cyclonus(): Promise<string> {
  const module = "github.com/mattfenwick/cyclonus/cmd/cyclonus";
  const { stdout } = await run("bash", [goTool, "cyclonus", module, "v0.5.6"], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

export const CILIUM_CRD = () =>
  goModuleFile(
    "github.com/cilium/cilium",
    "v1.20.2",
    "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml",
  );

export const TRAEFIK_CRDS = () =>
  goModuleFile(
    "github.com/traefik/traefik/v3",
    "v3.7.13",
    "docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml",
  );

/**
 * The OASIS SARIF 2.1.0 schema (errata01, JSON Schema draft-04), as go-sarif embeds it for its own Validate():
 * the Go source file holds it as one raw string constant.
 */
export async function sarifSchema(): Promise<Record<string, unknown>> {
  const file = await goModuleFile("github.com/owenrumney/go-sarif/v3", "v3.3.1", "pkg/report/v210/sarif/schema.go");
  const source = await readFile(file, "utf8");
  const schema = /^const schema = `([^`]+)`/m.exec(source)?.[1];
  if (!schema) throw new Error(`${file} holds no \`const schema = \`...\`\`: has go-sarif moved it?`);
  return JSON.parse(schema);
}
