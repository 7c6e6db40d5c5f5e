import { describe, expect, it } from "vitest";
import {
  CORE_KINDS,
  DEFAULT_EXTRA_RESOURCES,
  MOUNTED_KINDS,
  reviewedKinds,
  workloadKind,
  workloadKindOf,
} from "../../../src/api/workload-kinds.ts";
import { evaluate } from "../../../src/engine/index.ts";

const KEY = `sk-proj-${"Ab3dE5gH7jK9mN1pQ3sT5vW7yZ".repeat(2)}`;
const secretEnv = { name: "OPENAI_API_KEY", value: KEY };
const container = (name: string) => ({ name, image: "ray:2", env: [secretEnv] });
const template = (name: string) => ({ spec: { containers: [container(name)] } });

describe("the table of workload kinds", () => {
  it("holds the core kinds and the AI custom resources, all reviewed by default", () => {
    expect(CORE_KINDS.map((k) => k.kind).sort()).toEqual(
      [
        "ConfigMap",
        "CronJob",
        "DaemonSet",
        "Deployment",
        "Job",
        "Pod",
        "PodTemplate",
        "ReplicaSet",
        "ReplicationController",
        "StatefulSet",
      ].sort(),
    );
    expect(DEFAULT_EXTRA_RESOURCES).toEqual(
      expect.arrayContaining([
        "inferenceservices.serving.kserve.io",
        "rayclusters.ray.io",
        "pytorchjobs.kubeflow.org",
        "trainjobs.trainer.kubeflow.org",
        "trainingruntimes.trainer.kubeflow.org",
        "clustertrainingruntimes.trainer.kubeflow.org",
        "clusterservingruntimes.serving.kserve.io",
        "clusterworkflowtemplates.argoproj.io",
        "notebooks.kubeflow.org",
        "services.serving.knative.dev",
        "configurations.serving.knative.dev",
        "rollouts.argoproj.io",
        "workflows.argoproj.io",
        "leaderworkersets.leaderworkerset.x-k8s.io",
      ]),
    );
    expect(reviewedKinds().length).toBe(CORE_KINDS.length + DEFAULT_EXTRA_RESOURCES.length);
    expect(reviewedKinds([]).length).toBe(CORE_KINDS.length);
  });

  it("gives the controller the pod template and label paths of the kinds it mounts into", () => {
    expect(MOUNTED_KINDS.map((k) => k.kind)).toEqual(["Deployment", "StatefulSet", "DaemonSet"]);
    for (const k of MOUNTED_KINDS) {
      expect(k.podTemplate).toEqual(["spec", "template"]);
      expect(k.labels).toEqual(["spec", "template", "metadata", "labels"]);
    }
    expect(workloadKind("batch", "CronJob")?.labels).toEqual([
      "spec",
      "jobTemplate",
      "spec",
      "template",
      "metadata",
      "labels",
    ]);
  });

  it("tells a custom resource that reuses a core name from the core kind", () => {
    expect(workloadKindOf({ apiVersion: "v1", kind: "Service" })).toBeUndefined();
    expect(workloadKindOf({ apiVersion: "serving.knative.dev/v1", kind: "Service" })?.extra).toBe(true);
    expect(workloadKindOf({ apiVersion: "example.com/v1", kind: "Deployment" })).toBeUndefined();
    expect(workloadKindOf({ kind: "Deployment" })?.group).toBe("apps");
  });
});

describe("the engine reads custom resources where the table says", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "RayCluster",
      {
        apiVersion: "ray.io/v1",
        kind: "RayCluster",
        spec: { headGroupSpec: { template: template("head") }, workerGroupSpecs: [{ template: template("worker") }] },
      },
      "spec.workerGroupSpecs[0].template.spec.containers[0].env[0].value",
    ],
    [
      "PyTorchJob",
      {
        apiVersion: "kubeflow.org/v1",
        kind: "PyTorchJob",
        spec: { pytorchReplicaSpecs: { Worker: { template: template("w") } } },
      },
      "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].env[0].value",
    ],
    [
      "InferenceService",
      {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        spec: { predictor: { model: { env: [secretEnv] } } },
      },
      "spec.predictor.model.env[0].value",
    ],
    [
      "Workflow",
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Workflow",
        spec: { templates: [{ name: "a", script: { env: [secretEnv] } }] },
      },
      "spec.templates[0].script.env[0].value",
    ],
    [
      "LeaderWorkerSet",
      {
        apiVersion: "leaderworkerset.x-k8s.io/v1",
        kind: "LeaderWorkerSet",
        spec: { leaderWorkerTemplate: { workerTemplate: template("w") } },
      },
      "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].env[0].value",
    ],
  ])("finds a key in a %s", (_kind, object, path) => {
    const { findings, unreadable } = evaluate(object);
    expect(unreadable).toBeUndefined();
    expect(findings.map((f) => f.path)).toContain(path);
  });

  it("honours an exemption on a Ray worker's pod template, and reports a container list of the wrong type", () => {
    const exempt = { metadata: { annotations: { "aiapiguard.dev/exempt": "hardcoded-secret" } }, ...template("w") };
    const cluster = { apiVersion: "ray.io/v1", kind: "RayCluster", spec: { workerGroupSpecs: [{ template: exempt }] } };
    expect(evaluate(cluster).findings.every((f) => f.exempt)).toBe(true);
    // The engine reads any container list wherever it sits (issue 12): a list of the wrong type is unreadable.
    const group = { template: { spec: { containers: "x" } } };
    const broken = { apiVersion: "ray.io/v1", kind: "RayCluster", metadata: {}, spec: { workerGroupSpecs: [group] } };
    expect(evaluate(broken).unreadable).toMatch(
      /spec\.workerGroupSpecs\[0\]\.template\.spec\.containers is a string, not a list/,
    );
  });
});
