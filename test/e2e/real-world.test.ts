// The public manifests of test/fixtures/real-world (written by other projects, not by us), each
// workload and ConfigMap of a built-in kind created as a server-side dry run through the real API
// server and the running webhook: the webhook refuses exactly the objects in which the engine, as
// `scan` runs it, finds what the default action (Deny) refuses, naming the same rules.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { evaluate } from "../../src/engine/index.ts";
import { kubeConfig, kubeconfigPath, useTestNamespace } from "../support/cluster.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ROOT = join(import.meta.dirname, "../fixtures/real-world");
const KINDS = new Set(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ConfigMap"]);
/** What the default action refuses: unregistered-ai-api defaults to Audit. */
const REFUSED_RULES = new Set(["hardcoded-secret", "plaintext-endpoint", "credentials-in-url", "long-lived-token"]);

const ns = useTestNamespace("real-world");
let operator: Operator;

beforeAll(async () => {
  operator = await startOperator(kubeconfigPath(), [
    "--webhook-config-name",
    ns.name,
    "--namespace-selector",
    `kubernetes.io/metadata.name=${ns.name}`,
  ]);
});

afterAll(async () => {
  await operator?.stop();
});

/** Every object of a reviewed built-in kind, moved into the test namespace under a name of its own. */
function corpusObjects(namespace: string): { file: string; object: k8s.KubernetesObject }[] {
  const files = readdirSync(ROOT, { recursive: true, encoding: "utf8" }).filter((f) => /\.ya?ml$/.test(f));
  const objects: { file: string; object: k8s.KubernetesObject }[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(join(ROOT, file), "utf8"))) {
      if (doc.errors.length > 0) continue;
      const object = doc.toJS() as k8s.KubernetesObject | null;
      if (!object || !KINDS.has(object.kind ?? "")) continue;
      const { generateName: _, ...metadata } = object.metadata ?? {};
      object.metadata = { ...metadata, namespace, name: `object-${objects.length}` };
      objects.push({ file, object });
    }
  }
  return objects;
}

/** The rule ids a refusal lists, one per finding line ("- plaintext-endpoint in container ..."). */
function refusedRules(message: string): string[] {
  const lines = JSON.parse(message).message.split("\n") as string[];
  return [...new Set(lines.flatMap((line) => /^- ([a-z-]+) /.exec(line)?.[1] ?? []))].sort();
}

describe("public manifests through the webhook", () => {
  it("are refused exactly where the engine finds what Deny refuses, for the same rules", async () => {
    const kc = kubeConfig();
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const namespaces = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
    const clusterNamespaces = new Set(namespaces.items.map((n) => n.metadata?.name ?? ""));
    const mismatches: string[] = [];
    let reviewed = 0;
    let refused = 0;
    for (const { file, object } of corpusObjects(ns.name)) {
      const findings = evaluate(object, { clusterNamespaces }).findings.filter((f) => REFUSED_RULES.has(f.rule));
      const expected = [...new Set(findings.map((f) => f.rule))].sort();
      let got: string[] = [];
      try {
        await api.create(object, undefined, "All");
      } catch (error) {
        const message = String((error as { body?: unknown }).body ?? error);
        // Refused by the API server's own validation (or an API version it no longer serves): never reviewed.
        if (!message.includes("denied the request")) continue;
        got = refusedRules(message);
        refused += 1;
      }
      reviewed += 1;
      if (got.join() !== expected.join())
        mismatches.push(`${file} ${object.kind}: webhook [${got}], engine [${expected}]`);
    }
    expect(mismatches).toEqual([]);
    // Not vacuous: most of the corpus reached the webhook, and some of it was refused.
    expect(reviewed).toBeGreaterThan(700);
    expect(refused).toBeGreaterThan(20);
  });
});
