// npm run demo: what a platform team and a developer see, on a local control plane that this script
// starts and stops. Every step prints the command and its output as kubectl prints it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "../test/controlplane/binaries.ts";
import { type ControlPlane, startControlPlane } from "../test/controlplane/harness.ts";
import { startOperator } from "../test/support/operator.ts";

const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

function step(title: string): void {
  console.log(`\n${bold(`── ${title}`)}`);
}

function kubectl(plane: ControlPlane, args: string[], input?: string): number {
  console.log(`$ kubectl ${args.join(" ")}${input !== undefined ? " <<EOF ... EOF" : ""}`);
  const result = spawnSync(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], {
    cwd: repoRoot,
    input,
    encoding: "utf8",
  });
  const out = `${result.stdout}${result.stderr}`.trimEnd();
  if (out) console.log(out.replace(/^/gm, "  "));
  return result.status ?? 1;
}

/** Waits on a kubectl command without printing it (rollout progress lines are noise here). */
function quietKubectl(plane: ControlPlane, args: string[]): void {
  const result = spawnSync(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], {
    encoding: "utf8",
  });
  if (result.status !== 0) console.log(`  (kubectl ${args.join(" ")} failed: ${result.stderr.trim()})`);
}

/** A fake key in OpenAI's project-key format, made fresh for this run. */
function fakeOpenAiKey(): string {
  const part = () => randomBytes(60).toString("base64url").replace(/[-_]/g, "").slice(0, 40);
  return `sk-proj-${part()}${"T3Blbk"}FJ${part()}`;
}

function deployment(name: string, app: string, env: object[]): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "ai-demo" },
    spec: {
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: "app", image: "ghcr.io/example/summarizer:1.0.0", env }] },
      },
    },
  };
}

async function demo(plane: ControlPlane): Promise<void> {
  step("1. A platform engineer installs the AiApiPolicy CRD");
  kubectl(plane, ["apply", "-f", "crds/"]);
  kubectl(plane, ["wait", "--for=condition=Established", "-f", "crds/"]);

  step("2. ...and runs the operator (here out of cluster: webhook on loopback, self-signed, registered)");
  const operator = await startOperator(plane.kubeconfig, [], { controllerNamespaces: ["ai-demo"] });
  try {
    console.log(`  webhook serving at ${operator.url}/validate`);
    kubectl(plane, ["get", "validatingwebhookconfigurations"]);
    await developerSteps(plane);
  } finally {
    step("9. The operator stops and removes its webhook configuration");
    await operator.stop();
    kubectl(plane, ["get", "validatingwebhookconfigurations"]);
  }
}

async function developerSteps(plane: ControlPlane): Promise<void> {
  step("3. Teams declare the AI APIs they call (examples/): the inventory");
  kubectl(plane, ["apply", "-f", "examples/"]);
  await controllerSteps(plane);

  const key = fakeOpenAiKey();
  step(`4. A developer pastes an OpenAI key into a Deployment (OPENAI_API_KEY: ${key.slice(0, 12)}…)`);
  // A new Deployment: on a refused update, kubectl's client-side apply echoes the whole patch, key included.
  const pasted = deployment("summarizer-v2", "summarizer", [{ name: "OPENAI_API_KEY", value: key }]);
  kubectl(plane, ["apply", "-f", "-"], stringify(pasted));

  step(
    "5. A cluster admin lets ai-demo's policies go below the Deny floor; under Warn the key is admitted, with warnings",
  );
  kubectl(plane, ["label", "namespace", "ai-demo", "aiapiguard.dev/action-floor=Warn"]);
  const warnPolicy = {
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name: "prototype", namespace: "ai-demo" },
    spec: {
      api: { endpoint: "https://api.openai.com/v1", authType: "APIKey", sensitivity: "Low", owner: "Prototyping" },
      selector: { matchLabels: { app: "prototype" } },
      admission: { action: "Warn" },
    },
  };
  kubectl(plane, ["apply", "-f", "-"], stringify(warnPolicy));
  await new Promise((r) => setTimeout(r, 1000)); // the webhook learns of new policies through its watch
  kubectl(
    plane,
    ["apply", "-f", "-"],
    stringify(deployment("prototype", "prototype", [{ name: "OPENAI_API_KEY", value: key }])),
  );

  step("6. The fix: the key from a Secret, the endpoint over TLS — admitted");
  const fixed = deployment("summarizer-v2", "summarizer", [
    { name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" },
    { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai-api-key", key: "api-key" } } },
  ]);
  kubectl(plane, ["apply", "-f", "-"], stringify(fixed));

  step("7. The admitted Deployments roll out: their Pods run on the cluster's (simulated) node");
  for (const name of ["summarizer", "assistant", "rag", "enrichment", "summarizer-v2", "prototype"]) {
    quietKubectl(plane, ["rollout", "status", `deployment/${name}`, "-n", "ai-demo", "--timeout=60s"]);
  }
  kubectl(plane, ["get", "pods", "-n", "ai-demo", "-o", "wide"]);

  step("8. What the platform team sees: Events on the refused object (redacted)");
  await new Promise((r) => setTimeout(r, 500));
  kubectl(plane, ["get", "events", "-n", "ai-demo", "--field-selector", "reason=AdmissionDenied"]);
}

/** What the controller made of the policies, as kubectl shows it. */
async function controllerSteps(plane: ControlPlane): Promise<void> {
  step("3b. The controller reconciles each policy: Ready, with a reason when not");
  kubectl(plane, [
    "wait",
    "aap",
    "--all",
    "-n",
    "ai-demo",
    "--for=jsonpath={.status.observedGeneration}=1",
    "--timeout=30s",
  ]);
  kubectl(plane, ["get", "aap", "-n", "ai-demo"]);
  kubectl(plane, [
    "get",
    "aap",
    "openai",
    "-n",
    "ai-demo",
    "-o",
    "jsonpath={range .status.conditions[?(@.status!='True')]}{.type}={.status} {.reason}: {.message}{'\\n'}{end}",
  ]);

  step("3c. Egress: a NetworkPolicy per policy (what it allows is in the policy's EgressReady message)");
  kubectl(plane, ["get", "networkpolicy", "-n", "ai-demo"]);
  kubectl(plane, [
    "get",
    "aap",
    "enrichment",
    "-n",
    "ai-demo",
    "-o",
    "jsonpath={.status.conditions[?(@.type=='EgressReady')].message}{'\\n'}",
  ]);

  step("3d. Rate limits on the Ingress in front of the enrichment workload");
  kubectl(plane, ["annotate", "--list", "ingress/enrichment", "-n", "ai-demo"]);

  step("3e. The credential, mounted read-only (0400 = 256) into the selected Deployment and its new Pods");
  kubectl(plane, [
    "get",
    "deployment",
    "enrichment",
    "-n",
    "ai-demo",
    "-o",
    "jsonpath={.spec.template.spec.volumes}{'\\n'}{.spec.template.spec.containers[0].volumeMounts}{'\\n'}",
  ]);
  kubectl(plane, [
    "get",
    "pods",
    "-n",
    "ai-demo",
    "-l",
    "app=enrichment",
    "-o",
    "jsonpath={range .items[*]}{.metadata.name}: {.spec.volumes[?(@.name=='aiapiguard-enrichment')].secret}{'\\n'}{end}",
  ]);

  step("3f. Every change is an Event on the policy");
  kubectl(plane, [
    "get",
    "events",
    "-n",
    "ai-demo",
    "--field-selector",
    "involvedObject.kind=AiApiPolicy",
    "--sort-by=.lastTimestamp",
  ]);
}

async function main(): Promise<number> {
  step("0. Starting a local Kubernetes cluster (v1.34: API server, controllers, scheduler, a kwok node)");
  const plane = await startControlPlane();
  console.log(`  ready at ${plane.server} in ${plane.startSeconds.toFixed(1)} s`);
  try {
    await demo(plane);
  } finally {
    await plane.stop();
    console.log("\nCluster stopped; nothing is left running.");
  }
  return 0;
}

process.exitCode = await main();
