// The cluster-scoped runtimes and templates a platform team shares with every namespace (KServe's
// ClusterServingRuntime, Kubeflow Trainer's ClusterTrainingRuntime, Argo's ClusterWorkflowTemplate), reviewed
// through kubectl and the real API server: their CRDs from the projects' Go modules. Its own control plane (API
// server only): a namespace selector does not keep a webhook from reviewing cluster-scoped objects, so in the shared
// one every other file's operator would review these objects too.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { type Kubectl, kubectlFor } from "../support/cluster.ts";
import { untilEstablished } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";
import { aiCrdFiles } from "../support/tools.ts";

const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
const KEY = fakeSecrets(11).openai as string;
const DENIED = 'admission webhook "validate.aiapiguard.dev" denied the request:';
/** The cluster-scoped kinds' CRDs among the AI kinds' (one of each group is enough to reach the webhook's rules). */
const CLUSTER_CRDS = /serving\.kserve\.io_clusterservingruntimes|argoproj\.io_clusterworkflowtemplates/;
let plane: ControlPlane;
let kubectl: Kubectl;
let operator: Operator | undefined;

const container = (env: { name: string; value: string }[]) => ({ name: "kserve-container", image: "vllm:1", env });

/** KServe's ClusterServingRuntime for a hosted model, the way a platform team writes one. */
const runtime = (name: string, env: { name: string; value: string }[]) => ({
  apiVersion: "serving.kserve.io/v1alpha1",
  kind: "ClusterServingRuntime",
  metadata: { name },
  spec: { supportedModelFormats: [{ name: "huggingface" }], containers: [container(env)] },
});

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  kubectl = kubectlFor(plane);
  for (const path of [CRD_DIR, ...(await aiCrdFiles()).filter((file) => CLUSTER_CRDS.test(file))]) {
    const applied = await kubectl(["apply", "--server-side", "-f", path]);
    expect(applied.code, applied.stderr).toBe(0);
    const established = await untilEstablished(["-f", path], kubectl);
    expect(established.code, established.stderr).toBe(0);
  }
  operator = await startOperator(plane.kubeconfig);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

it("refuses a ClusterServingRuntime with a key in a container's env, names it, and records the refusal in default", async () => {
  // The API server may not have the webhook's rules yet: until it refuses, the runtime would be stored.
  const refused = await eventually(async () => {
    const result = await kubectl(["apply", "-f", "-"], {
      input: stringify(runtime("hosted-llm", [{ name: "OPENAI_API_KEY", value: KEY }])),
    });
    return result.stderr.includes(DENIED) ? result : undefined;
  });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(
    'hardcoded-secret in container "kserve-container" at spec.containers[0].env[0].value',
  );
  expect(refused.stderr).toContain("ClusterServingRuntime hosted-llm has 1 finding (default action Deny)");
  expect(refused.stderr).not.toContain(KEY.slice(-16));
  const admitted = await kubectl(["apply", "-f", "-"], {
    input: stringify(runtime("hosted-llm", [{ name: "MODEL_ID", value: "meta-llama/Llama-3.1-8B" }])),
  });
  expect(admitted.code, admitted.stderr).toBe(0);
  const event = await eventually(async () => {
    const events = JSON.parse((await kubectl(["-n", "default", "get", "events", "-o", "json"])).stdout).items as {
      reason: string;
      message: string;
      involvedObject: { kind: string; name: string };
    }[];
    return events.find((e) => e.reason === "AdmissionDenied" && e.involvedObject.kind === "ClusterServingRuntime");
  });
  expect(event.involvedObject.name).toBe("hosted-llm");
  expect(event.message).not.toContain(KEY.slice(-16));
});

it("refuses a ClusterWorkflowTemplate with a key in a script's source", async () => {
  const template = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "ClusterWorkflowTemplate",
    metadata: { name: "summarize" },
    spec: {
      templates: [
        {
          name: "main",
          script: { image: "python:3.12", command: ["python"], source: `import openai\nopenai.api_key = "${KEY}"\n` },
        },
      ],
    },
  };
  const refused = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: stringify(template) });
  expect(refused.stderr).toContain(DENIED);
  expect(refused.stderr).toContain("spec.templates[0].script.source");
  expect(refused.stderr).not.toContain(KEY.slice(-16));
});

it("honours an exemption on one only for a user who may exempt cluster-wide", async () => {
  const rbac = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "runtime-writer" },
      rules: [{ apiGroups: ["serving.kserve.io"], resources: ["clusterservingruntimes"], verbs: ["*"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "runtime-writer" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "runtime-writer" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "platform-dev" }],
    },
  ];
  const granted = await kubectl(["apply", "-f", "-"], { input: rbac.map((o) => stringify(o)).join("---\n") });
  expect(granted.code, granted.stderr).toBe(0);
  const exempted = runtime("legacy-llm", [{ name: "OPENAI_API_KEY", value: KEY }]);
  Object.assign(exempted.metadata, { annotations: { "aiapiguard.dev/exempt": "hardcoded-secret" } });
  const asDev = await kubectl(["apply", "--dry-run=server", "--as=platform-dev", "-f", "-"], {
    input: stringify(exempted),
  });
  expect(asDev.stderr).toContain(DENIED);
  expect(asDev.stderr).toContain("platform-dev may not grant exemptions cluster-wide");
  // The cluster admin (system:masters) may.
  const asAdmin = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: stringify(exempted) });
  expect(asAdmin.code, asAdmin.stderr).toBe(0);
  expect(asAdmin.stderr).toContain("exempted by annotation aiapiguard.dev/exempt");
  expect(asDev.stderr + asAdmin.stderr).not.toContain(KEY.slice(-16));
});
