// The background audit reads the AI custom resources too: a key written into a KServe ServingRuntime or a Ray
// RayJob before the webhook ran is reported where the developer wrote it (before, only the Pods and Deployments
// their operators make were read: a runtime or a job not yet running was never reported). Real CRDs from the
// projects' Go modules, on a control plane of its own: the shared one's CRDs of these kinds are installed and
// deleted by other test files while this one runs.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { runAudit } from "../../src/audit/audit.ts";
import { credentialResponder } from "../../src/audit/response.ts";
import { eventRecorder } from "../../src/kube/events.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { clusterSources } from "../../src/readapi/index.ts";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { type Kubectl, kubectlFor } from "../support/cluster.ts";
import { untilEstablished } from "../support/crds.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { aiCrdFiles } from "../support/tools.ts";
import { serviceAccountKubeconfig } from "./chart-support.ts";

const KEY = fakeSecrets(2028).openai as string;
const NS = "models";
/** KServe's and KubeRay's CRDs; the other AI kinds are not installed, as in most clusters. */
const CRDS = /serving\.kserve\.io_(cluster)?servingruntimes|ray\.io_rayjobs|ray\.io_rayclusters/;
const OUR_CRDS = fileURLToPath(new URL("../../crds/", import.meta.url));
const REPORT_CRDS = fileURLToPath(new URL("../../third-party/crds/openreports.io/", import.meta.url));
let plane: ControlPlane;
let kubectl: Kubectl;
let kc: k8s.KubeConfig;

const env = [{ name: "OPENAI_API_KEY", value: KEY }];
const podSpec = { containers: [{ name: "ray-head", image: "rayproject/ray:2.9.0", env }] };
const rayClusterSpec = { headGroupSpec: { rayStartParams: {}, template: { spec: podSpec } } };

async function apply(object: Record<string, unknown>): Promise<void> {
  const applied = await kubectl(["apply", "-f", "-"], { input: stringify(object) });
  expect(applied.code, applied.stderr).toBe(0);
}

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  kubectl = kubectlFor(plane);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  for (const path of [OUR_CRDS, REPORT_CRDS, ...(await aiCrdFiles()).filter((file) => CRDS.test(file))]) {
    const applied = await kubectl(["apply", "--server-side", "-f", path]);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await untilEstablished(["-f", path], kubectl)).code).toBe(0);
  }
  expect((await kubectl(["create", "namespace", NS])).code).toBe(0);
  await apply({
    apiVersion: "serving.kserve.io/v1alpha1",
    kind: "ServingRuntime",
    metadata: { name: "vllm", namespace: NS },
    spec: {
      supportedModelFormats: [{ name: "huggingface" }],
      containers: [{ name: "kserve-container", image: "vllm:1", env }],
    },
  });
  await apply({
    apiVersion: "ray.io/v1",
    kind: "RayJob",
    metadata: { name: "finetune", namespace: NS },
    spec: { entrypoint: "python train.py", rayClusterSpec },
  });
  // The RayCluster KubeRay makes for the job: a copy of its spec, controlled by it.
  const job = JSON.parse((await kubectl(["get", "rayjob", "finetune", "-n", NS, "-o", "json"])).stdout);
  await apply({
    apiVersion: "ray.io/v1",
    kind: "RayCluster",
    metadata: {
      name: "finetune-raycluster",
      namespace: NS,
      ownerReferences: [
        { apiVersion: "ray.io/v1", kind: "RayJob", name: "finetune", uid: job.metadata.uid, controller: true },
      ],
    },
    spec: rayClusterSpec,
  });
}, 180_000);

afterAll(async () => {
  await plane?.stop();
});

it("reports a key in a ServingRuntime and a RayJob where it was written, the job's RayCluster not again", async () => {
  const warnings: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  const result = await runAudit({ kc, logger, namespaces: [NS] });
  expect(result.findings.map((f) => [f.kind, f.name, f.path])).toEqual([
    ["ServingRuntime", "vllm", "spec.containers[0].env[0].value"],
    ["RayJob", "finetune", "spec.rayClusterSpec.headGroupSpec.template.spec.containers[0].env[0].value"],
  ]);
  expect(result.workloads).toBe(2);
  expect(result.written).toEqual([NS]);
  const report = JSON.parse((await kubectl(["get", "reports.openreports.io", "-n", NS, "-o", "json"])).stdout);
  expect(report.items[0].results.map((r: { resources: { kind: string }[] }) => r.resources[0]?.kind).sort()).toEqual([
    "RayJob",
    "ServingRuntime",
  ]);
  expect(JSON.stringify(report)).not.toContain(KEY.slice(-12));
  // The kinds whose CRDs are not installed (Argo, Kubeflow, Knative...) are left out without a word.
  expect(warnings).toEqual([]);
});

// Before, the audit listed no custom resource, so it needed no RBAC for them; now a kind the audit may not list is
// left out with a warning that says so, its results of the last run kept, and the rest of the run goes on.
it("leaves out a kind it may not list, says so, keeps its last results, and still reports the others", async () => {
  await apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "auditor", namespace: NS } });
  await apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "auditor-without-kserve" },
    rules: [
      {
        apiGroups: ["", "apps", "batch", "networking.k8s.io", "aiapiguard.dev", "openreports.io", "ray.io"],
        resources: ["*"],
        verbs: ["*"],
      },
    ],
  });
  await apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "auditor-without-kserve" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "auditor-without-kserve" },
    subjects: [{ kind: "ServiceAccount", name: "auditor", namespace: NS }],
  });
  const auditor = new k8s.KubeConfig();
  auditor.loadFromFile(
    await serviceAccountKubeconfig(kc, { namespace: NS, name: "auditor" }, mkdtempSync(join(tmpdir(), "aag-"))),
  );
  const warnings: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  const resolved: string[] = [];
  const result = await runAudit({
    kc: auditor,
    logger,
    namespaces: [NS],
    onResolvedFinding: (finding) => resolved.push(finding.kind),
  });
  // Not listed is not fixed: the ServingRuntime's result of the last run stays, and is not announced as resolved.
  expect(result.findings.map((f) => f.kind)).toEqual(["RayJob", "ServingRuntime"]);
  expect(result.unchanged).toEqual([NS]);
  expect(resolved).toEqual([]);
  expect(warnings.map((line) => JSON.parse(line).msg)).toEqual([
    expect.stringMatching(/^audit: cannot list servingruntimes\.serving\.kserve\.io \(.*forbidden.*\): left out$/),
  ]);
});

// Before, a ClusterServingRuntime (a runtime a platform team shares with every namespace) was reviewed at
// admission only: one written before ai-api-guard ran was never reported, nor was any cluster-scoped object.
it("reports a cluster-scoped runtime in the ClusterReport when it reads every namespace, and deletes it once fixed", async () => {
  const runtime = (container: Record<string, unknown>) => ({
    apiVersion: "serving.kserve.io/v1alpha1",
    kind: "ClusterServingRuntime",
    metadata: { name: "hosted-llm" },
    spec: {
      supportedModelFormats: [{ name: "huggingface" }],
      containers: [{ name: "kserve-container", image: "vllm:1", ...container }],
    },
  });
  await apply(runtime({ env }));
  const logger = pino({ level: "silent" });
  const clusterReport = async () => {
    const got = await kubectl(["get", "clusterreports.openreports.io", "ai-api-guard", "-o", "json"]);
    return got.code === 0 ? JSON.parse(got.stdout) : undefined;
  };

  // One namespace read: the cluster-scoped objects are not, and the ClusterReport is not this run's.
  const scoped = await runAudit({ kc, logger, namespaces: [NS] });
  expect(scoped.findings.map((f) => f.kind)).not.toContain("ClusterServingRuntime");
  expect(await clusterReport()).toBeUndefined();

  const onNewFinding = credentialResponder(eventRecorder(new KubeRest(kc), logger), logger);
  const all = await runAudit({ kc, logger, onNewFinding });
  const found = all.findings.filter((f) => f.kind === "ClusterServingRuntime");
  expect(found.map((f) => [f.namespace, f.name, f.path])).toEqual([
    ["", "hosted-llm", "spec.containers[0].env[0].value"],
  ]);
  expect(all.written).toEqual([""]);
  const written = await clusterReport();
  expect(written?.summary).toMatchObject({ fail: 1 });
  expect(written?.results[0].resources[0]).toMatchObject({ kind: "ClusterServingRuntime", name: "hosted-llm" });
  expect(JSON.stringify(written)).not.toContain(KEY.slice(-12));
  // The read API, on any replica, serves it from there (to whoever may list clusterreports: readapi.test.ts).
  const served = await clusterSources(kc, { format: "openreports" }).findings();
  expect(served.filter((f) => f.namespace === "")).toEqual(found);
  // Its Event goes to "default", where Kubernetes' own recorders put a cluster-scoped object's.
  const events = await kubectl([
    "get",
    "events",
    "-n",
    "default",
    "--field-selector",
    "reason=CredentialExposed",
    "-o",
    "json",
  ]);
  expect(
    JSON.parse(events.stdout).items.map((e: { involvedObject: { kind: string } }) => e.involvedObject.kind),
  ).toEqual(["ClusterServingRuntime"]);

  await apply(
    runtime({ env: [{ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } }] }),
  );
  const fixed = await runAudit({ kc, logger });
  expect(fixed.deleted).toEqual([""]);
  expect(await clusterReport()).toBeUndefined();
});
