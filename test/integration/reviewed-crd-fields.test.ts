// The field probe (test/support/field-probe.ts) over the real CRDs of the AI kinds the webhook reviews, taken from
// their projects' Go modules and installed in the API server: KServe, KubeRay, Kubeflow's training operator, MPI
// operator and Trainer, LeaderWorkerSet, Knative Serving, Argo Rollouts and Argo Workflows. A CRD's schema is what
// its project generated from its Go types, not what Kubernetes validates in a Pod: a probe's scheme or a hook's stop
// signal is a free string there, and the API server stores a key in it. Each inlined type (a pod template, a
// container) is probed once per kind under the same field name. Not here: Notebook, Knative's Configuration and
// TrainingRuntime, which webhook-hostile.test.ts installs with open schemas of its own; the cluster-scoped kinds
// are checked against the table only (see beforeAll).
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { workloadKind } from "../../src/api/workload-kinds.ts";
import { kubectl, useTestNamespace } from "../support/cluster.ts";
import { installTestCrd } from "../support/crds.ts";
import {
  expectRefusedWithoutTrace,
  fieldsWhere,
  type Json,
  type Outcome,
  type Probed,
  type ProbedKind,
  probeFields,
  type Schema,
} from "../support/field-probe.ts";
import { aiCrdFiles } from "../support/tools.ts";

const ns = useTestNamespace("crdfields");

type Crd = Json & {
  metadata: { name: string };
  spec: {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: { kind: string; plural: string };
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
};

/** The schemas a path pattern of src/api/workload-kinds.ts reaches ("*": every element or map entry). */
function schemasAt(schema: Schema | undefined, path: readonly string[]): Schema[] {
  if (!schema) return [];
  const [head, ...rest] = path;
  if (head === undefined) return [schema];
  if (head !== "*") return schemasAt(schema.properties?.[head], rest);
  return schemasAt(schema.type === "array" ? schema.items : schema.additionalProperties, rest);
}

const crds: Crd[] = [];
const namespaced = () => crds.filter((crd) => crd.spec.scope === "Namespaced");
let results = new Map<string, Probed>();

/** The kind a CRD serves, at its storage version: its schema is published as io.kserve.serving.v1beta1.Kind. */
function probedKind(crd: Crd): ProbedKind {
  const { group, names } = crd.spec;
  const version = crd.spec.versions.find((v) => v.storage)?.name ?? "";
  const schema = `${group.split(".").reverse().join(".")}.${version}.${names.kind}`;
  return { kind: names.kind, doc: `apis/${group}/${version}`, schema, plural: names.plural, base: {}, once: true };
}

beforeAll(async () => {
  for (const file of await aiCrdFiles())
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) crds.push(doc.toJS() as Crd);
  await Promise.all(crds.map(installTestCrd));
  // Cluster-scoped kinds are in the table check only: no namespace selector keeps the other test files' webhooks
  // from reviewing (and refusing) a dry run of theirs; webhook-cluster-scoped.test.ts reviews them on its own.
  results = await probeFields(namespaced().map(probedKind), ns.name);
}, 300_000);

afterAll(async () => {
  await kubectl(["delete", "crd", "--wait=false", "--ignore-not-found", ...crds.map((crd) => crd.metadata.name)]);
});

describe("a key in any string field of a real AI CRD that the API server stores it in", () => {
  const where = (outcome: Outcome) => fieldsWhere(results, outcome);

  it("is reported by the engine", () => {
    expect(where("missed")).toEqual([]);
    // Before: 14 (a hook's httpGet scheme and named port, a lifecycle's stopSignal). Measured with these releases:
    // 5,521 of 5,870 fields take a key. Fewer means the probe broke: a filler the API server now refuses, or a
    // schema not found under the name it is looked up by.
    expect(where("found").length).toBeGreaterThanOrEqual(5_400);
    for (const crd of namespaced())
      expect(
        where("found").some((field) => field.startsWith(`${crd.spec.names.kind} `)),
        crd.spec.names.kind,
      ).toBe(true);
  });

  it("is shown by its hint in every finding", () => {
    expect([...results].filter(([, r]) => r.leaked).map(([field]) => field)).toEqual([]);
  });

  it("is refused by the webhook, or warned of, and is in no response, log line or Event", async () => {
    await expectRefusedWithoutTrace(results);
  });
});

describe("the table of workload kinds (src/api/workload-kinds.ts), against the real CRDs", () => {
  it("names each kind's resource, scope and a served version, and points at pod specs and containers that exist", () => {
    const wrong: string[] = [];
    for (const crd of crds) {
      const { group, names } = crd.spec;
      const row = workloadKind(group, names.kind);
      const version = crd.spec.versions.find((v) => v.name === row?.version);
      if (
        !row ||
        row.resource !== names.plural ||
        !version?.served ||
        (row.clusterScoped === true) !== (crd.spec.scope === "Cluster")
      ) {
        wrong.push(`${names.kind}: resource ${row?.resource}, version ${row?.version}, scope ${row?.clusterScoped}`);
        continue;
      }
      const root = version.schema.openAPIV3Schema;
      const holds = (path: readonly string[], fields: readonly string[]) =>
        schemasAt(root, path).some((schema) => fields.some((field) => schema.properties?.[field]));
      // Where the webhook and the controller read pods and containers: a path the CRD does not have reads nothing.
      for (const path of row.podSpecs)
        if (!holds(path, ["containers", "initContainers"])) wrong.push(`${names.kind} pod spec ${path.join(".")}`);
      for (const path of row.containers)
        if (!holds(path, ["env", "image"])) wrong.push(`${names.kind} container ${path.join(".")}`);
      if (row.podTemplate && !holds(row.podTemplate, ["spec"]))
        wrong.push(`${names.kind} pod template ${row.podTemplate.join(".")}`);
    }
    expect(wrong).toEqual([]);
    expect(crds.length).toBe(21);
  });
});
