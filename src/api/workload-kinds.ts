// The one table of workload kinds: what the webhook registers and reviews (its rules), where a kind
// keeps its pods' labels (which policy governs it), where it holds pod specs and containers (for the
// unregistered-ai-api rule, which names the container and follows its ConfigMap references), and which
// kinds the controller watches and mounts credentials into. The engine's other rules need no table:
// their extraction reads any container list wherever it sits (src/engine/extract.ts). Everything else
// derives from it; pure data and pure functions, no I/O.
//
// API:
//   WorkloadKind                       one row: group, version, kind, resource, podSpecs, containers,
//                                      labels, podTemplate (single template kinds), mounts, extra
//   CORE_KINDS, EXTRA_KINDS            the core kinds (always reviewed) and the catalog of AI custom resources
//   DEFAULT_EXTRA_RESOURCES            "resource.group" names of the extras reviewed by default (all of them)
//   MOUNTED_KINDS                      the kinds the controller mounts into (Deployment, StatefulSet, DaemonSet)
//   reviewedKinds(extraResources?)     core kinds plus the named extras; throws naming the known ones
//   workloadKind(group, kind)          the row of any known kind, or undefined (a CR reusing a core name is not one)
//   workloadKindOf(object)             the row for an object's apiVersion and kind (no apiVersion: core kinds only)
//   resourceName(row)                  "deployments.apps", "pods": how the configuration names a resource
//
// A path is a list of keys; "*" matches every key of an object or every index of a list.

export type PathPattern = readonly string[];

export interface WorkloadKind {
  group: string;
  /** The version the table was written against; the webhook's rules match every version. */
  version: string;
  kind: string;
  /** Plural resource name, as the webhook configuration's rules and RBAC name it. */
  resource: string;
  /** Where the object holds pod specs (objects with `containers`, `initContainers`, ...). */
  podSpecs: readonly PathPattern[];
  /** Where it holds single containers outside a pod spec (Argo's `container` and `script`, a TrainJob's trainer). */
  containers: readonly PathPattern[];
  /** Where it keeps the labels its pods will carry (its own labels when it has no single template). */
  labels: PathPattern;
  /** The pod template of kinds that have exactly one (metadata + spec), for the controller's patches. */
  podTemplate?: PathPattern;
  /** Whether the controller mounts policy credentials into its pod template. */
  mounts: boolean;
  /** A custom resource from the configurable list (absent from a cluster without its CRD). */
  extra: boolean;
  /**
   * A cluster-scoped kind (a runtime or template a platform team shares with every namespace): no policy, which
   * lives in a namespace, selects it, so the default action governs it.
   */
  clusterScoped?: true;
}

const OWN_LABELS = ["metadata", "labels"];
const TEMPLATE = ["spec", "template"];

type Row = Omit<WorkloadKind, "containers" | "mounts" | "extra" | "labels"> &
  Partial<Pick<WorkloadKind, "containers" | "mounts" | "labels">>;

const row = (r: Row, extra: boolean): WorkloadKind => ({
  containers: [],
  mounts: false,
  labels: r.podTemplate ? [...r.podTemplate, "metadata", "labels"] : OWN_LABELS,
  ...r,
  extra,
});

/** A kind with one pod template at `template` (spec.template by default). */
const templated = (group: string, version: string, kind: string, resource: string, template = TEMPLATE): Row => ({
  group,
  version,
  kind,
  resource,
  podSpecs: [[...template, "spec"]],
  podTemplate: template,
});

export const CORE_KINDS: readonly WorkloadKind[] = [
  { group: "", version: "v1", kind: "Pod", resource: "pods", podSpecs: [["spec"]] },
  { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", podSpecs: [] },
  templated("", "v1", "ReplicationController", "replicationcontrollers"),
  templated("", "v1", "PodTemplate", "podtemplates", ["template"]),
  { ...templated("apps", "v1", "Deployment", "deployments"), mounts: true },
  { ...templated("apps", "v1", "StatefulSet", "statefulsets"), mounts: true },
  { ...templated("apps", "v1", "DaemonSet", "daemonsets"), mounts: true },
  templated("apps", "v1", "ReplicaSet", "replicasets"),
  templated("batch", "v1", "Job", "jobs"),
  templated("batch", "v1", "CronJob", "cronjobs", ["spec", "jobTemplate", "spec", "template"]),
].map((r) => row(r, false));

/** Kubeflow's training operator: one map of replica specs, each with a pod template. */
const kubeflowJob = (version: string, kind: string, replicaSpecs: string): Row => ({
  group: "kubeflow.org",
  version,
  kind,
  resource: `${kind.toLowerCase()}s`,
  podSpecs: [["spec", replicaSpecs, "*", "template", "spec"]],
});

/** Ray's cluster spec: a head group and a list of worker groups, each with a pod template. */
const rayCluster = (...at: string[]): PathPattern[] => [
  [...at, "headGroupSpec", "template", "spec"],
  [...at, "workerGroupSpecs", "*", "template", "spec"],
];

/** Argo Workflows' templates: each a container, a script, a container set, init containers and sidecars. */
const argoTemplates = (...at: string[]): Pick<Row, "podSpecs" | "containers"> => ({
  podSpecs: [
    [...at, "templates", "*"],
    [...at, "templates", "*", "containerSet"],
  ],
  containers: [
    [...at, "templates", "*", "container"],
    [...at, "templates", "*", "script"],
    [...at, "templates", "*", "sidecars", "*"],
  ],
});

/** A training runtime's JobSet template: its replicated jobs' pods run the training. */
const TRAINING_RUNTIME_PODS: PathPattern[] = [
  ["spec", "template", "spec", "replicatedJobs", "*", "template", "spec", "template", "spec"],
];

const CLUSTER_SCOPED = { clusterScoped: true } as const;

export const EXTRA_KINDS: readonly WorkloadKind[] = [
  {
    group: "serving.kserve.io",
    version: "v1beta1",
    kind: "InferenceService",
    resource: "inferenceservices",
    podSpecs: [
      ["spec", "predictor"],
      ["spec", "transformer"],
      ["spec", "explainer"],
    ],
    containers: [["spec", "predictor", "model"]],
  },
  {
    group: "serving.kserve.io",
    version: "v1alpha1",
    kind: "ServingRuntime",
    resource: "servingruntimes",
    podSpecs: [["spec"]],
  },
  {
    // The runtimes KServe ships, and a platform team's own: every namespace's InferenceServices may use them.
    group: "serving.kserve.io",
    version: "v1alpha1",
    kind: "ClusterServingRuntime",
    resource: "clusterservingruntimes",
    podSpecs: [["spec"]],
    ...CLUSTER_SCOPED,
  },
  { group: "ray.io", version: "v1", kind: "RayCluster", resource: "rayclusters", podSpecs: rayCluster("spec") },
  {
    group: "ray.io",
    version: "v1",
    kind: "RayJob",
    resource: "rayjobs",
    podSpecs: [...rayCluster("spec", "rayClusterSpec"), ["spec", "submitterPodTemplate", "spec"]],
  },
  {
    group: "ray.io",
    version: "v1",
    kind: "RayService",
    resource: "rayservices",
    podSpecs: rayCluster("spec", "rayClusterConfig"),
  },
  kubeflowJob("v1", "PyTorchJob", "pytorchReplicaSpecs"),
  kubeflowJob("v1", "TFJob", "tfReplicaSpecs"),
  kubeflowJob("v1", "XGBoostJob", "xgbReplicaSpecs"),
  kubeflowJob("v1", "PaddleJob", "paddleReplicaSpecs"),
  kubeflowJob("v1", "JAXJob", "jaxReplicaSpecs"),
  kubeflowJob("v2beta1", "MPIJob", "mpiReplicaSpecs"),
  // A Jupyter notebook server: where a key is pasted first.
  templated("kubeflow.org", "v1", "Notebook", "notebooks"),
  {
    group: "trainer.kubeflow.org",
    version: "v1alpha1",
    kind: "TrainJob",
    resource: "trainjobs",
    podSpecs: [],
    containers: [
      ["spec", "trainer"],
      ["spec", "initializer", "dataset"],
      ["spec", "initializer", "model"],
    ],
  },
  {
    // The runtime a TrainJob names: a JobSet template whose jobs' pods run the training.
    group: "trainer.kubeflow.org",
    version: "v1alpha1",
    kind: "TrainingRuntime",
    resource: "trainingruntimes",
    podSpecs: TRAINING_RUNTIME_PODS,
  },
  {
    group: "trainer.kubeflow.org",
    version: "v1alpha1",
    kind: "ClusterTrainingRuntime",
    resource: "clustertrainingruntimes",
    podSpecs: TRAINING_RUNTIME_PODS,
    ...CLUSTER_SCOPED,
  },
  templated("serving.knative.dev", "v1", "Service", "services"),
  // What a Knative Service manages, and what a developer can write without one.
  templated("serving.knative.dev", "v1", "Configuration", "configurations"),
  templated("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
  { group: "argoproj.io", version: "v1alpha1", kind: "Workflow", resource: "workflows", ...argoTemplates("spec") },
  {
    group: "argoproj.io",
    version: "v1alpha1",
    kind: "WorkflowTemplate",
    resource: "workflowtemplates",
    ...argoTemplates("spec"),
  },
  {
    group: "argoproj.io",
    version: "v1alpha1",
    kind: "ClusterWorkflowTemplate",
    resource: "clusterworkflowtemplates",
    ...argoTemplates("spec"),
    ...CLUSTER_SCOPED,
  },
  {
    group: "argoproj.io",
    version: "v1alpha1",
    kind: "CronWorkflow",
    resource: "cronworkflows",
    ...argoTemplates("spec", "workflowSpec"),
  },
  {
    group: "leaderworkerset.x-k8s.io",
    version: "v1",
    kind: "LeaderWorkerSet",
    resource: "leaderworkersets",
    podSpecs: [
      ["spec", "leaderWorkerTemplate", "leaderTemplate", "spec"],
      ["spec", "leaderWorkerTemplate", "workerTemplate", "spec"],
    ],
    labels: ["spec", "leaderWorkerTemplate", "workerTemplate", "metadata", "labels"],
  },
].map((r) => row(r, true));

export const MOUNTED_KINDS: readonly WorkloadKind[] = CORE_KINDS.filter((k) => k.mounts);

export function resourceName(k: Pick<WorkloadKind, "group" | "resource">): string {
  return k.group === "" ? k.resource : `${k.resource}.${k.group}`;
}

export const DEFAULT_EXTRA_RESOURCES: readonly string[] = EXTRA_KINDS.map(resourceName);

/** The core kinds and the named extras ("inferenceservices.serving.kserve.io"); an unknown name throws. */
export function reviewedKinds(extraResources: readonly string[] = DEFAULT_EXTRA_RESOURCES): readonly WorkloadKind[] {
  const byName = new Map(EXTRA_KINDS.map((k) => [resourceName(k), k]));
  const unknown = extraResources.filter((name) => !byName.has(name));
  if (unknown.length > 0)
    throw new Error(
      `unknown extra resource ${unknown.join(", ")}: choose from ${DEFAULT_EXTRA_RESOURCES.join(", ")} (or none)`,
    );
  return [...CORE_KINDS, ...extraResources.map((name) => byName.get(name) as WorkloadKind)];
}

const BY_GROUP_KIND = new Map([...CORE_KINDS, ...EXTRA_KINDS].map((k) => [`${k.group}/${k.kind}`, k]));
const CORE_BY_KIND = new Map(CORE_KINDS.map((k) => [k.kind, k]));

export function workloadKind(group: string, kind: string): WorkloadKind | undefined {
  return BY_GROUP_KIND.get(`${group}/${kind}`);
}

/** The row for a manifest: by apiVersion's group and kind; without an apiVersion, a core kind by name. */
export function workloadKindOf(object: { apiVersion?: unknown; kind?: unknown }): WorkloadKind | undefined {
  if (typeof object.kind !== "string") return undefined;
  if (typeof object.apiVersion !== "string") return CORE_BY_KIND.get(object.kind);
  const slash = object.apiVersion.indexOf("/");
  return workloadKind(slash < 0 ? "" : object.apiVersion.slice(0, slash), object.kind);
}
