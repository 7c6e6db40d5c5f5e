// An AiApiPolicy stored before an upgrade that the new schema refuses: a Gemini endpoint written with Google's
// `?key=`, as its docs show it, which the CRD's CEL rule (and zod) refuse since 5d03110. The API server keeps what it
// stored, and its validation ratcheting admits updates that leave the endpoint as it is; the controller must say so,
// ignore the policy, and never repeat the key. Its own control plane (API server only): the shared one's CRD is
// the current one, for every file.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
import { type Kubectl, kubectlFor } from "../support/cluster.ts";
import { untilEstablished } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { testPolicy } from "../support/objects.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const ns = "upgrade";
const CRD_FILE = fileURLToPath(new URL("../../crds/aiapipolicies.aiapiguard.dev.yaml", import.meta.url));
const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
const NODE = join(import.meta.dirname, "../../node_modules/.bin/node");
// A Google API key's shape ("AIza" and 35 characters): the tests look for its body anywhere.
const KEY = "AIzaSyUpgrade0TestKey0Qwertyuiop1234567";
const ENDPOINT = `https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key=${KEY}`;
const QUERY_RULE = "must not carry a credential in its query";
let plane: ControlPlane;
let kubectl: Kubectl;
let operator: Operator | undefined;

/** kubectl's output; a non-zero exit fails the test with kubectl's error. */
async function output(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** The CRD as the release before the rule had it: the same, without the endpoint's credential-query rule. */
function crdBeforeTheRule(): string {
  const crd = parse(readFileSync(CRD_FILE, "utf8"));
  const endpoint = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.api.properties.endpoint;
  const rules = endpoint["x-kubernetes-validations"] as { message: string }[];
  endpoint["x-kubernetes-validations"] = rules.filter((rule) => !rule.message.startsWith(QUERY_RULE));
  expect(endpoint["x-kubernetes-validations"].length, "the rule is in crds/").toBe(rules.length - 1);
  return stringify(crd);
}

async function installCrd(text: string): Promise<void> {
  await output(["apply", "--server-side", "--force-conflicts", "-f", "-"], text);
  const established = await untilEstablished(["crd/aiapipolicies.aiapiguard.dev"], kubectl);
  expect(established.code, established.stderr).toBe(0);
}

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  kubectl = kubectlFor(plane);
  await installCrd(crdBeforeTheRule());
  await output(["create", "namespace", ns]);
  const policy = testPolicy(ns, "gemini", { selector: { matchLabels: { app: "chat" } } });
  policy.spec.api.endpoint = ENDPOINT;
  // The new CRD's resource may not be served for a moment.
  await eventually(async () => (await kubectl(["apply", "-f", "-"], { input: stringify(policy) })).code === 0);
  await installCrd(readFileSync(CRD_FILE, "utf8"));
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

it("is kept by the API server after the upgrade, which refuses the same endpoint in a new policy", async () => {
  // Ratcheting: an update that leaves the endpoint as stored is admitted.
  await output(["-n", ns, "label", "aap", "gemini", "team=ml"]);
  const stored = parse(await output(["-n", ns, "get", "aap", "gemini", "-o", "yaml"]));
  expect(stored.spec.api.endpoint).toBe(ENDPOINT);
  expect(stored.metadata.labels.team).toBe("ml");
  const fresh = testPolicy(ns, "gemini-2", { selector: {} });
  fresh.spec.api.endpoint = ENDPOINT;
  const refused = await kubectl(["apply", "-f", "-"], { input: stringify(fresh) });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("spec.api.endpoint");
  expect(refused.stderr).toContain(QUERY_RULE);
});

it("is reported by the controller as ignored, naming the field, and its key is in no Event, status or log line", async () => {
  operator = await startOperator(plane.kubeconfig, [], { controllerNamespaces: [ns] });
  const event = await eventually(async () => {
    const events = JSON.parse(await output(["-n", ns, "get", "events", "-o", "json"])).items as {
      reason: string;
      message: string;
      involvedObject: { name: string };
    }[];
    return events.find((e) => e.reason === "InvalidPolicy" && e.involvedObject.name === "gemini");
  });
  expect(event.message).toContain("is ignored");
  expect(event.message).toContain(`spec.api.endpoint: ${QUERY_RULE}`);
  const everything = [
    await output(["-n", ns, "get", "events", "-o", "json"]),
    JSON.stringify(parse(await output(["-n", ns, "get", "aap", "gemini", "-o", "yaml"])).status ?? {}),
    operator.output(),
  ].join("\n");
  expect(everything).not.toContain(KEY.slice(4));
});

it("is named by `ai-api-guard inventory` as an input error, without its key", () => {
  const run = spawnSync(NODE, [MAIN, "inventory", "--kubeconfig", plane.kubeconfig, "-n", ns], { encoding: "utf8" });
  expect(run.stderr).toContain("AiApiPolicy upgrade/gemini: spec.api.endpoint: must not carry a credential");
  expect(run.stdout + run.stderr).not.toContain(KEY.slice(4));
});
