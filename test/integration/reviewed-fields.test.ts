// Every string field of every built-in kind the webhook reviews, taken from the API server's own OpenAPI schema (what
// no one here wrote): where the API server stores a key (a server-side dry run says so, and hands back the object as
// it would be stored), the engine reports it and shows it by its hint, and the webhook refuses it (or warns) with no
// trace of it in its response, log lines or Events. A DeepSeek key ("sk-" and 32 hex) fits most
// fields, names included; where it does not, it is tried as a path, a host and an assignment. Fields the API server
// refuses it in (enums, formats, fields that need other fields) or drops (features that are off) cannot carry it,
// so are not counted. A workload's pod template is read as a Pod's spec is: its fields are probed in the Pod only.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestNamespace } from "../support/cluster.ts";
import {
  CLAIM,
  expectRefusedWithoutTrace,
  fieldsWhere,
  type Json,
  type Probed,
  type ProbedKind,
  probeFields,
} from "../support/field-probe.ts";

const ns = useTestNamespace("podfields");

const template = (labels: Json) => ({
  metadata: { labels },
  spec: { restartPolicy: "Never", containers: [{ name: "app", image: "app:1" }] },
});
const POD_TEMPLATE = ["spec", "template", "spec"];

const KINDS: ProbedKind[] = [
  {
    kind: "Pod",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.Pod",
    base: { spec: { containers: [{ name: "app", image: "app:1" }] } },
  },
  { kind: "ConfigMap", doc: "api/v1", schema: "io.k8s.api.core.v1.ConfigMap", base: {} },
  {
    kind: "PodTemplate",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.PodTemplate",
    base: { template: template({ app: "x" }) },
    skip: ["template", "spec"],
  },
  {
    kind: "ReplicationController",
    doc: "api/v1",
    schema: "io.k8s.api.core.v1.ReplicationController",
    base: {
      spec: {
        selector: { app: "x" },
        template: { ...template({ app: "x" }), spec: { containers: [{ name: "app", image: "app:1" }] } },
      },
    },
    skip: POD_TEMPLATE,
  },
  ...["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"].map((kind) => ({
    kind,
    doc: "apis/apps/v1",
    schema: `io.k8s.api.apps.v1.${kind}`,
    base: {
      spec: {
        selector: { matchLabels: { app: "x" } },
        template: { ...template({ app: "x" }), spec: { containers: [{ name: "app", image: "app:1" }] } },
        // A claim needs a name, a size and an access mode, which the schema does not mark required.
        ...(kind === "StatefulSet" && {
          volumeClaimTemplates: [{ metadata: { name: "data" }, ...CLAIM }],
        }),
      },
    },
    skip: POD_TEMPLATE,
  })),
  {
    kind: "Job",
    doc: "apis/batch/v1",
    schema: "io.k8s.api.batch.v1.Job",
    base: { spec: { template: template({ app: "x" }) } },
    skip: POD_TEMPLATE,
  },
  {
    kind: "CronJob",
    doc: "apis/batch/v1",
    schema: "io.k8s.api.batch.v1.CronJob",
    base: { spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: template({ app: "x" }) } } } },
    skip: ["spec", "jobTemplate", ...POD_TEMPLATE],
  },
];

let results = new Map<string, Probed>();

beforeAll(async () => {
  results = await probeFields(KINDS, ns.name);
}, 180_000);

describe("a key in any string field of a reviewed kind that the API server stores it in", () => {
  const where = (outcome: Parameters<typeof fieldsWhere>[1]) => fieldsWhere(results, outcome);

  it("is reported by the engine", () => {
    // Before: 17 of a Pod's, among them env[].valueFrom's names, httpHeaders[].name, csi.driver, gitRepo.revision.
    expect(where("missed")).toEqual([]);
    // Measured on Kubernetes 1.34 with this harness: 535 of 931 fields take a key (a Pod's: 217 of 470). Fewer means
    // the probe broke: a base object or a filler the API server now refuses.
    expect(where("found").length).toBeGreaterThanOrEqual(520);
    for (const kind of KINDS)
      expect(
        where("found").some((field) => field.startsWith(`${kind.kind} `)),
        kind.kind,
      ).toBe(true);
  });

  it("is shown by its hint in every finding", () => {
    expect([...results].filter(([, r]) => r.leaked).map(([field]) => field)).toEqual([]);
  });

  it("is refused by the webhook, or warned of, and is in no response, log line or Event", async () => {
    await expectRefusedWithoutTrace(results);
  });
});
