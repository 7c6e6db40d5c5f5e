// An AiApiPolicy stored before an upgrade that the new schema refuses: a Gemini endpoint written with Google's
// `?key=`, as its docs show it, which the CRD's CEL rule (and zod) refuse since 5d03110. The API server keeps what it
// stored, and its validation ratcheting admits updates that leave the endpoint as it is; the controller must say so,
// ignore the policy, and never repeat the key. Its own control plane (API server only): the shared one's CRD is
// the current one, for every file.
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.ts";
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
let plane: ControlPlane;
let operator: Operator | undefined;

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = promisify(execFile)(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], {
    maxBuffer: 64 << 20,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

/** The CRD as the release before the rule had it: the same, without the endpoint's credential-query rule. */
function crdBeforeTheRule(): string {
  const text = readFileSync(CRD_FILE, "utf8");
  const withoutRule = text.replace(/^ *- rule: "!self\.matches\('\(\?i\)\[\?&\]\(key\|.*\n^ *message: .*\n/m, "");
  expect(withoutRule.length, "the rule is where this test expects it in crds/").toBeLessThan(text.length);
  return withoutRule;
}

async function installCrd(text: string): Promise<void> {
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], text);
  await eventually(() =>
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/aiapipolicies.aiapiguard.dev"]).catch(
      () => "",
    ),
  );
}

beforeAll(async () => {
  plane = await startControlPlane({ apiOnly: true });
  await installCrd(crdBeforeTheRule());
  await kubectl(["create", "namespace", ns]);
  const policy = testPolicy(ns, "gemini", { selector: { matchLabels: { app: "chat" } } });
  policy.spec.api.endpoint = ENDPOINT;
  await eventually(() => kubectl(["apply", "-f", "-"], stringify(policy)).catch(() => ""));
  await installCrd(readFileSync(CRD_FILE, "utf8"));
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

it("is kept by the API server after the upgrade, which refuses the same endpoint in a new policy", async () => {
  // Ratcheting: an update that leaves the endpoint as stored is admitted.
  await kubectl(["-n", ns, "label", "aap", "gemini", "team=ml"]);
  const stored = parse(await kubectl(["-n", ns, "get", "aap", "gemini", "-o", "yaml"]));
  expect(stored.spec.api.endpoint).toBe(ENDPOINT);
  expect(stored.metadata.labels.team).toBe("ml");
  const fresh = testPolicy(ns, "gemini-2", { selector: {} });
  fresh.spec.api.endpoint = ENDPOINT;
  const refused = await kubectl(["apply", "-f", "-"], stringify(fresh)).then(
    () => "",
    (error: { stderr: string }) => error.stderr,
  );
  expect(refused).toContain("spec.api.endpoint");
  expect(refused).toContain("must not carry a credential in its query");
});

it("is reported by the controller as ignored, naming the field, and its key is in no Event, status or log line", async () => {
  operator = await startOperator(plane.kubeconfig, [], { controllerNamespaces: [ns] });
  const event = await eventually(async () => {
    const events = JSON.parse(await kubectl(["-n", ns, "get", "events", "-o", "json"])).items as {
      reason: string;
      message: string;
      involvedObject: { name: string };
    }[];
    return events.find((e) => e.reason === "InvalidPolicy" && e.involvedObject.name === "gemini");
  });
  expect(event.message).toContain("is ignored");
  expect(event.message).toContain("spec.api.endpoint: must not carry a credential in its query");
  const everything = [
    await kubectl(["-n", ns, "get", "events", "-o", "json"]),
    JSON.stringify(parse(await kubectl(["-n", ns, "get", "aap", "gemini", "-o", "yaml"])).status ?? {}),
    operator.output(),
  ].join("\n");
  expect(everything).not.toContain(KEY.slice(4));
});

it("is named by `ai-api-guard inventory` as an input error, without its key", () => {
  const run = spawnSync(NODE, [MAIN, "inventory", "--kubeconfig", plane.kubeconfig, "-n", ns], { encoding: "utf8" });
  expect(run.stderr).toContain("AiApiPolicy upgrade/gemini: spec.api.endpoint: must not carry a credential");
  expect(run.stdout + run.stderr).not.toContain(KEY.slice(4));
});
