// A dry-run flood through the API server (part of `npm run bench:webhook -- load`; alone: `-- load apiserver`).
// The attacker is a ServiceAccount allowed nothing but `create pods` in its namespace; it sends 60
// concurrent server-side dry-run creates of a 1.08 MiB Pod (15,000 credential-named env vars), while a
// "deployer" ServiceAccount (a CI system: `create deployments` in its own namespace) dry-run creates
// clean Deployments at 10/s. Both use tokens from the TokenRequest API, so API Priority and Fairness
// (APF) classifies them as it would in a cluster: the admin (system:masters) would be exempt from it.
// One run measures: ordinary reviews alone; during the flood with the webhook and deploy/apf-tenants.yaml
// applied; with the webhook and without the manifest; without the webhook and with the manifest.
// Bounded in count and time, loopback only; the control plane is the harness's, API server only.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { type Operator, startOperator } from "../test/support/operator.ts";
import { type Answer, type Client, clientOf, messageOf, send, tenant } from "../test/support/tenant-client.ts";
import { credentialPod, ms, percentile } from "./load-support.ts";

const execFileAsync = promisify(execFile);
const FLOOD = { concurrency: 60, maxRequests: 600, maxSeconds: 45 };
const ORDINARY_PER_SECOND = 10;
const BASELINE_SECONDS = 10;
const MANIFEST = fileURLToPath(new URL("../deploy/apf-tenants.yaml", import.meta.url));
const TENANT_LEVEL = "tenant-writes";

/** A small valid Deployment with env values and a reference, nothing to find. */
function cleanDeployment(namespace: string): Buffer {
  const labels = { app: "ordinary" };
  const env = [
    { name: "MODEL", value: "gpt-5" },
    { name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" },
    { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } },
  ];
  const body = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { generateName: "ordinary-", namespace },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "registry.example/app:1", env }] } },
    },
  };
  return Buffer.from(JSON.stringify(body));
}

interface Ordinary {
  latencies: number[];
  /** Refused by APF: 429. */
  throttled: number;
  /** The webhook could not be called or answered too late, or the request ran out of time. */
  timeouts: string[];
  others: string[];
  levels: Set<string>;
}

const TIMEOUT = /failed calling webhook|failed to call webhook|timeout|deadline|no answer within/i;

/** Clean Deployments, server-side dry-run creates by the deployer, at a fixed rate until `until()`. */
async function ordinaryReviews(deployer: Client, namespace: string, until: () => boolean): Promise<Ordinary> {
  const result: Ordinary = { latencies: [], throttled: 0, timeouts: [], others: [], levels: new Set() };
  const path = `/apis/apps/v1/namespaces/${namespace}/deployments?dryRun=All`;
  const body = cleanDeployment(namespace);
  const inFlight: Promise<void>[] = [];
  while (!until()) {
    const start = process.hrtime.bigint();
    inFlight.push(
      send(deployer, "POST", path, body).then((answer) => {
        if (answer.levelUid) result.levels.add(answer.levelUid);
        const message = messageOf(answer);
        if (answer.status === 201) result.latencies.push(ms(start));
        else if (answer.status === 429) result.throttled++;
        else (TIMEOUT.test(message) ? result.timeouts : result.others).push(`${answer.status} ${message}`);
      }),
    );
    await new Promise((r) => setTimeout(r, 1000 / ORDINARY_PER_SECOND));
  }
  await Promise.all(inFlight);
  return result;
}

interface Flood {
  sent: number;
  during: Ordinary;
  outcomes: Map<string, number>;
  heavyLatencies: number[];
  levels: Set<string>;
}

/** The flood, bounded in count and time, with ordinary reviews alongside until it ends. */
async function flood(attacker: Client, deployer: Client, namespaces: Namespaces, pod: Buffer): Promise<Flood> {
  const path = `/api/v1/namespaces/${namespaces.attacker}/pods?dryRun=All`;
  let sent = 0;
  const outcomes = new Map<string, number>();
  const heavyLatencies: number[] = [];
  const levels = new Set<string>();
  const floodEnd = Date.now() + FLOOD.maxSeconds * 1000;
  const more = () => sent < FLOOD.maxRequests && Date.now() < floodEnd;
  const attack = async () => {
    while (more()) {
      sent++;
      const start = process.hrtime.bigint();
      const answer = await send(attacker, "POST", path, pod);
      heavyLatencies.push(ms(start));
      if (answer.levelUid) levels.add(answer.levelUid);
      const outcome = classify(answer);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  let flooding = true;
  const attackers = Promise.all(Array.from({ length: FLOOD.concurrency }, attack)).then(() => {
    flooding = false;
  });
  const during = await ordinaryReviews(deployer, namespaces.deployer, () => !flooding);
  await attackers;
  return { sent, during, outcomes, heavyLatencies, levels };
}

function classify(answer: Answer): string {
  const { status } = answer;
  const message = messageOf(answer);
  if (status === 201) return "admitted";
  if (status === 429) return "429 from APF";
  if (/budget of one review|waited behind/.test(message)) return "refused: review budget";
  if (/denied the request/.test(message)) return "refused: findings";
  const failed = /failed (?:calling|to call) webhook "[^"]+": (.{0,90})/.exec(message);
  if (failed) return `failed calling the webhook (${failed[1]?.replace(/https:\/\/[^ ]+/, "URL")})`;
  if (TIMEOUT.test(message)) return `timed out (${status})`;
  return `other (${status} ${message.slice(0, 80)})`;
}

interface Namespaces {
  attacker: string;
  deployer: string;
}

/** APF's rejections so far, by priority level and reason, from the API server's metrics. */
async function apfRejected(admin: Client): Promise<Map<string, number>> {
  const { text } = await send(admin, "GET", "/metrics");
  const counts = new Map<string, number>();
  const line = /^apiserver_flowcontrol_rejected_requests_total\{(.*)\} (\S+)$/gm;
  for (const [, labels = "", value] of text.matchAll(line)) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1];
    const key = `${label("priority_level")}: ${label("reason")}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(value));
  }
  return counts;
}

function difference(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0));
}

/** Sends the attacker's small dry-run Pod and answers the priority level's uid it landed in. */
function podProbe(attacker: Client, namespace: string): () => Promise<string> {
  const body = Buffer.from(JSON.stringify(credentialPod("probe", namespace, 0)));
  return async () => (await send(attacker, "POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, body)).levelUid;
}

/**
 * Waits until the API server, which reads APF objects through an informer, classifies the probe into
 * `level`; `levels` learns every priority level's uid on the way (the manifest's changes at each apply).
 */
async function landsIn(
  probe: () => Promise<string>,
  admin: k8s.KubeConfig,
  levels: Map<string, string>,
  level: string,
) {
  const api = admin.makeApiClient(k8s.FlowcontrolApiserverV1Api);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const item of (await api.listPriorityLevelConfiguration()).items)
      levels.set(item.metadata?.uid ?? "", item.metadata?.name ?? "");
    if (levels.get(await probe()) === level) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the attacker's requests did not land in the priority level ${level} within 30 s`);
}

/** The webhook's own time per review (its decision log lines), by kind; not the probes. */
function webhookDurations(output: string, kind: string): number[] {
  return output
    .split("\n")
    .filter((line) => line.includes('"msg":"admission decision"') && line.includes(`"kind":"${kind}"`))
    .filter((line) => !line.includes('"name":"probe"'))
    .map((line) => Number(JSON.parse(line).durationMs));
}

export async function throughApiServer(): Promise<string[]> {
  const load = loadavg()[0] ?? 0;
  const plane = await startControlPlane({ apiOnly: true });
  const run = randomBytes(3).toString("hex");
  const namespaces: Namespaces = { attacker: `flood-${run}`, deployer: `ci-${run}` };
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(plane.kubeconfig);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const kubectl = (...args: string[]) =>
    execFileAsync(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args]);
  let operator: Operator | undefined;
  try {
    for (const name of Object.values(namespaces))
      await core.createNamespace({ body: { metadata: { name, labels: { "aiapiguard-bench": run } } } });
    await kubectl("apply", "--server-side", "-f", fileURLToPath(new URL("../crds/", import.meta.url)));
    const attacker = await tenant(
      admin,
      namespaces.attacker,
      "attacker",
      { apiGroups: [""], resources: ["pods"], verbs: ["create"] },
      FLOOD.concurrency,
    );
    const deployer = await tenant(
      admin,
      namespaces.deployer,
      "deployer",
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["create"] },
      16,
    );
    const pod = credentialPod("heavy", namespaces.attacker);
    const heavy = Buffer.from(JSON.stringify({ ...pod, metadata: { generateName: "heavy-" } }));
    const adminClient = await clientOf(admin, 1);
    const levels = new Map<string, string>();
    const probe = podProbe(attacker, namespaces.attacker);
    /** Applies or deletes the manifest with kubectl, then waits until the attacker is classified accordingly. */
    const manifest = async (verb: "apply" | "delete") => {
      await kubectl(verb, "-f", MANIFEST);
      await landsIn(probe, admin, levels, verb === "apply" ? TENANT_LEVEL : "workload-low");
    };

    operator = await startOperator(plane.kubeconfig, [
      "--webhook-config-name",
      `bench-${run}`,
      "--namespace-selector",
      `aiapiguard-bench=${run}`,
    ]);
    await manifest("apply");
    console.error(`apiserver: heavy Pod ${(heavy.length / 2 ** 20).toFixed(2)} MiB; baseline ${BASELINE_SECONDS} s`);
    const baselineEnd = Date.now() + BASELINE_SECONDS * 1000;
    const baseline = await ordinaryReviews(deployer, namespaces.deployer, () => Date.now() > baselineEnd);
    const phase = async (label: string) => {
      console.error(`apiserver: the flood, ${label}`);
      const before = await apfRejected(adminClient);
      const result = await flood(attacker, deployer, namespaces, heavy);
      const rejected = difference(await apfRejected(adminClient), before);
      await new Promise((r) => setTimeout(r, 5_000)); // let the API server settle before the next phase
      return { label, result, rejected };
    };
    const guarded = await phase("webhook and APF manifest");
    await manifest("delete");
    const unguarded = await phase("webhook, no APF manifest");
    await manifest("apply");
    const output = operator.output();
    await operator.stop(); // unregisters the webhook
    operator = undefined;
    const noWebhook = await phase("no webhook, APF manifest");

    const name = (uids: Set<string>) => [...uids].map((uid) => levels.get(uid) ?? uid).join(", ") || "none";
    const reviewed = webhookDurations(output, "Deployment");
    const heavyReviewed = webhookDurations(output, "Pod");
    const floods = [guarded, unguarded, noWebhook];
    return [
      `Through the API server (kube-apiserver ${(await admin.makeApiClient(k8s.VersionApi).getCode()).gitVersion} of the local control plane, API server only; the operator as \`ai-api-guard run\`, all on this machine): the attacker, a ServiceAccount with only \`create pods\` in its namespace, sends ${FLOOD.concurrency} concurrent server-side dry-run creates of a ${(heavy.length / 2 ** 20).toFixed(2)} MiB Pod with 15,000 credential-named env vars (at most ${FLOOD.maxRequests} requests or ${FLOOD.maxSeconds} s), while the deployer, a ServiceAccount with only \`create deployments\` in another namespace, dry-run creates clean Deployments at ${ORDINARY_PER_SECOND}/s. Both use tokens from the TokenRequest API; each answer's \`X-Kubernetes-PF-PriorityLevel-UID\` says which APF level served it. Load average (1 min) before: ${load.toFixed(2)}, after: ${(loadavg()[0] ?? 0).toFixed(2)}.`,
      "",
      "| ordinary reviews (deployer to API server and back) | APF level | count | p50 ms | p99 ms | max ms | 429 (APF) | webhook failures / timeouts | other errors |",
      "|---|---|---|---|---|---|---|---|---|",
      row("alone (webhook, APF manifest)", name(baseline.levels), baseline),
      ...floods.map((f) => row(`during the flood: ${f.label}`, name(f.result.during.levels), f.result.during)),
      "",
      "| the flood | APF level | sent | outcomes | p50 ms | p99 ms | APF rejections (level: reason) |",
      "|---|---|---|---|---|---|---|",
      ...floods.map(
        ({ label, result: f, rejected }) =>
          `| ${label} | ${name(f.levels)} | ${f.sent} | ${[...f.outcomes].map(([k, v]) => `${v} ${k}`).join("; ")} | ${percentile(f.heavyLatencies, 50)} | ${percentile(f.heavyLatencies, 99)} | ${[...rejected].map(([k, v]) => `${v} ${k}`).join("; ") || "none"} |`,
      ),
      "",
      `Inside the webhook (its decision log lines) while it was registered: ordinary Deployments ${reviewed.length} reviewed, p50 ${percentile(reviewed, 50)} ms, p99 ${percentile(reviewed, 99)} ms, max ${percentile(reviewed, 100)} ms; heavy Pods ${heavyReviewed.length} reviewed, p50 ${percentile(heavyReviewed, 50)} ms, p99 ${percentile(heavyReviewed, 99)} ms.`,
      ...[baseline, ...floods.map((f) => f.result.during)]
        .flatMap((o) => [...o.timeouts, ...o.others])
        .slice(0, 5)
        .map((error) => `Ordinary error: ${error}`),
    ];
  } finally {
    await operator?.stop();
    await plane.stop();
  }
}

function row(label: string, level: string, o: Ordinary): string {
  const l = o.latencies;
  const count = l.length + o.throttled + o.timeouts.length + o.others.length;
  return `| ${label} | ${level} | ${count} | ${percentile(l, 50)} | ${percentile(l, 99)} | ${percentile(l, 100)} | ${o.throttled} | ${o.timeouts.length} | ${o.others.length} |`;
}
