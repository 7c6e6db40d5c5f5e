// The webhook under hostile load (part of `npm run bench:webhook`; alone: `npm run bench:webhook -- load`).
// 1. Through the API server, on a local control plane: a flood of 1.1 MiB server-side dry-run Pod creates
//    (15,000 credential-named env vars: only `create pods` is needed) while ordinary reviews continue.
// 2. Against the webhook port: thousands of idle connections and slow-body clients while ordinary
//    reviews continue; the server's memory sampled.
// 3. The event loop while heavy reviews run, with the worker and without it (in process).
// Everything is bounded in count and time, and on loopback only.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { evaluate } from "../src/engine/index.ts";
import { heavyReviews } from "../src/webhook/heavy-reviews.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { admissionReview, deployment } from "../test/support/admission.ts";
import { startOperator } from "../test/support/operator.ts";
import { webhookHarness } from "../test/support/webhook.ts";
import { rssMb, startTarget, stopTarget, writeCertificates } from "./targets.ts";

const execFileAsync = promisify(execFile);
const FLOOD = { concurrency: 60, maxRequests: 240, maxSeconds: 45 };
const ORDINARY_PER_SECOND = 10;
const PORT = { idle: 1_000, slow: 100, reconnectMs: 1_000, seconds: 15 };
const BASELINE_SECONDS = 10;

/** A Pod with `count` env vars whose names say credential and whose values look random: each one a finding. */
function credentialPod(name: string, namespace: string, count = 15_000) {
  const env = Array.from({ length: count }, (_, i) => ({
    name: `SERVICE_${i}_API_KEY`,
    value: randomBytes(24).toString("base64url"),
  }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: { containers: [{ name: "app", image: "registry.example/app:1", env }] },
  };
}

/** A small valid Deployment with env values and a reference, nothing to find. */
function cleanDeployment(name: string, namespace: string): k8s.V1Deployment {
  const labels = { app: "ordinary" };
  const env = [
    { name: "MODEL", value: "gpt-5" },
    { name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" },
    { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } },
  ];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "registry.example/app:1", env }] } },
    },
  };
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) * 10) / 10;
}

interface Ordinary {
  latencies: number[];
  errors: string[];
}

/** Clean Deployments, server-side dry-run creates, at a fixed rate until `stop()` says so. */
async function ordinaryReviews(apps: k8s.AppsV1Api, namespace: string, until: () => boolean): Promise<Ordinary> {
  const result: Ordinary = { latencies: [], errors: [] };
  const inFlight: Promise<void>[] = [];
  let i = 0;
  while (!until()) {
    const start = process.hrtime.bigint();
    const body = cleanDeployment(`ordinary-${i++}`, namespace);
    inFlight.push(
      apps.createNamespacedDeployment({ namespace, body, dryRun: "All" }).then(
        () => void result.latencies.push(ms(start)),
        (error: unknown) => void result.errors.push(messageOf(error).slice(0, 200)),
      ),
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
}

/** The flood, bounded in count and time, with ordinary reviews alongside until it ends. */
async function flood(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: string, pod: string): Promise<Flood> {
  let sent = 0;
  const floodEnd = Date.now() + FLOOD.maxSeconds * 1000;
  const outcomes = new Map<string, number>();
  const heavyLatencies: number[] = [];
  const more = () => sent < FLOOD.maxRequests && Date.now() < floodEnd;
  const attacker = async () => {
    while (more()) {
      const name = `heavy-${sent++}`;
      const start = process.hrtime.bigint();
      const body = { ...JSON.parse(pod), metadata: { name, namespace } };
      const outcome = await core.createNamespacedPod({ namespace, body, dryRun: "All" }).then(
        () => "admitted",
        (error: unknown) => classify(messageOf(error)),
      );
      heavyLatencies.push(ms(start));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  let flooding = true;
  const attackers = Promise.all(Array.from({ length: FLOOD.concurrency }, attacker)).then(() => {
    flooding = false;
  });
  const during = await ordinaryReviews(apps, namespace, () => !flooding);
  await attackers;
  return { sent, during, outcomes, heavyLatencies };
}

/** The webhook's own time per review (its decision log lines), by kind. */
function webhookDurations(output: string, kind: string): number[] {
  return output
    .split("\n")
    .filter((line) => line.includes('"msg":"admission decision"') && line.includes(`"kind":"${kind}"`))
    .map((line) => Number(JSON.parse(line).durationMs));
}

async function throughApiServer(): Promise<string[]> {
  const plane = await startControlPlane();
  const run = randomBytes(3).toString("hex");
  const namespace = `bench-${run}`;
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { "aiapiguard-bench": run } } } });
    const crds = fileURLToPath(new URL("../crds/", import.meta.url));
    const kubectl = join(plane.binDir, "kubectl");
    await execFileAsync(kubectl, ["--kubeconfig", plane.kubeconfig, "apply", "--server-side", "-f", crds]);
    const pod = JSON.stringify(credentialPod("heavy", namespace));
    const operator = await startOperator(plane.kubeconfig, [
      "--webhook-config-name",
      `bench-${run}`,
      "--namespace-selector",
      `aiapiguard-bench=${run}`,
    ]);
    console.error(`load: heavy Pod ${(pod.length / 2 ** 20).toFixed(2)} MiB; baseline ${BASELINE_SECONDS} s`);
    const baselineEnd = Date.now() + BASELINE_SECONDS * 1000;
    const baseline = await ordinaryReviews(apps, namespace, () => Date.now() > baselineEnd);
    console.error("load: the flood, with the webhook");
    const withWebhook = await flood(core, apps, namespace, pod);
    const output = operator.output();
    await operator.stop(); // unregisters the webhook
    console.error("load: the same flood, no webhook registered");
    const withoutWebhook = await flood(core, apps, namespace, pod);
    const reviewed = webhookDurations(output, "Deployment");
    const heavyReviewed = webhookDurations(output, "Pod");
    const timeouts = (o: Ordinary) => o.errors.filter((e) => /timeout|deadline|failed calling webhook/i.test(e)).length;
    const heavyLine = (f: Flood) =>
      `${[...f.outcomes].map(([k, v]) => `${v} ${k}`).join(", ")}; p50 ${percentile(f.heavyLatencies, 50)} ms, p99 ${percentile(f.heavyLatencies, 99)} ms`;
    return [
      `Through the API server (kube-apiserver of the local control plane, the operator as \`ai-api-guard run\`, both on this machine): ${FLOOD.concurrency} concurrent server-side dry-run creates of a ${(pod.length / 2 ** 20).toFixed(2)} MiB Pod with 15,000 credential-named env vars (at most ${FLOOD.maxRequests} requests or ${FLOOD.maxSeconds} s), while clean Deployments are dry-run created at ${ORDINARY_PER_SECOND}/s; then the same flood with the webhook unregistered, to tell the API server's own cost from the webhook's:`,
      "",
      "| ordinary reviews (client to API server and back) | count | p50 ms | p99 ms | max ms | errors | timeouts |",
      "|---|---|---|---|---|---|---|",
      row("alone, webhook registered", baseline, timeouts(baseline)),
      row("during the flood, webhook registered", withWebhook.during, timeouts(withWebhook.during)),
      row("during the flood, no webhook", withoutWebhook.during, timeouts(withoutWebhook.during)),
      "",
      `Inside the webhook (its decision log lines) during the whole run: ordinary Deployments ${reviewed.length} reviewed, p50 ${percentile(reviewed, 50)} ms, p99 ${percentile(reviewed, 99)} ms, max ${percentile(reviewed, 100)} ms; heavy Pods ${heavyReviewed.length} reviewed, p50 ${percentile(heavyReviewed, 50)} ms, p99 ${percentile(heavyReviewed, 99)} ms.`,
      `Heavy requests with the webhook (${withWebhook.sent} sent): ${heavyLine(withWebhook)}.`,
      `Heavy requests without it (${withoutWebhook.sent} sent): ${heavyLine(withoutWebhook)}.`,
      ...(withWebhook.during.errors.length > 0 ? [`First ordinary error: ${withWebhook.during.errors[0]}`] : []),
    ];
  } finally {
    await plane.stop();
  }
}

function row(label: string, o: Ordinary, timeouts: number): string {
  const l = o.latencies;
  return `| ${label} | ${l.length + o.errors.length} | ${percentile(l, 50)} | ${percentile(l, 99)} | ${percentile(l, 100)} | ${o.errors.length} | ${timeouts} |`;
}

/** The Status message of an API error, else the error as text. */
function messageOf(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  try {
    return String(JSON.parse(String(body)).message ?? body);
  } catch {
    return String(body ?? error);
  }
}

function classify(message: string): string {
  if (/budget of one review|waited behind/.test(message)) return "refused: review budget";
  if (/denied the request/.test(message)) return "refused: findings";
  const failed = /failed calling webhook "[^"]+": (.{0,90})/.exec(message);
  if (failed) return `failed calling the webhook (${failed[1]?.replace(/https:\/\/[^ ]+/, "URL")})`;
  if (/timeout|deadline/i.test(message)) return "timed out";
  return `other (${message.slice(0, 80)})`;
}

/** Idle connections and slow-body clients against the webhook port, ordinary reviews alongside. */
async function againstThePort(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "ai-api-guard-load-"));
  const ca = await writeCertificates(dir);
  const target = await startTarget("validate", dir);
  const pid = target.process.pid as number;
  const sockets = new Set<TLSSocket>();
  let stopping = false;
  try {
    const idleRss = rssMb(pid);
    const open = (onReady: (s: TLSSocket) => void) => {
      if (stopping) return;
      const socket = connect({ host: "127.0.0.1", port: target.port, ca }, () => onReady(socket));
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => sockets.delete(socket));
    };
    let closedByServer = 0;
    const idle = () =>
      open((s) =>
        s.once("close", () => {
          closedByServer++;
          setTimeout(idle, PORT.reconnectMs);
        }),
      );
    const slow = () =>
      open((s) => {
        s.write(
          "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{",
        );
        const drip = setInterval(() => s.writable && s.write(" "), 1000);
        s.once("close", () => {
          clearInterval(drip);
          setTimeout(slow, PORT.reconnectMs);
        });
      });
    for (let i = 0; i < PORT.idle; i++) idle();
    for (let i = 0; i < PORT.slow; i++) slow();
    console.error(`port: ${PORT.idle} idle and ${PORT.slow} slow clients started; RSS ${idleRss} MB before`);
    let peak = idleRss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 250);
    const progress = setInterval(
      () => console.error(`port: ${latencies.length} answered, ${failures} failed, ${sockets.size} sockets open`),
      2_000,
    );
    const agent = new Agent({ ca, keepAlive: true, maxSockets: 4 });
    const body = JSON.stringify(admissionReview(deployment()));
    const latencies: number[] = [];
    let failures = 0;
    const end = Date.now() + PORT.seconds * 1000;
    const pending: Promise<void>[] = [];
    while (Date.now() < end) {
      const start = process.hrtime.bigint();
      pending.push(
        post(agent, target.port, body).then(
          (status) => (status === 200 ? void latencies.push(ms(start)) : void failures++),
          () => void failures++,
        ),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(pending);
    clearInterval(sampler);
    clearInterval(progress);
    agent.destroy();
    return [
      `Against the webhook port (the validate target with the production limits: 512 connections, 10 s request timeout): ${PORT.idle} clients holding idle TLS connections and ${PORT.slow} sending a 1 MiB body a byte a second, each reconnecting ${PORT.reconnectMs} ms after it is closed, for ${PORT.seconds} s, while a client posts ordinary reviews every 20 ms over 4 keep-alive connections:`,
      "",
      `- ordinary reviews: ${latencies.length} answered, ${failures} failed; p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${percentile(latencies, 100)} ms`,
      `- connections closed by the server to make room or on timeout: ${closedByServer}`,
      `- server RSS: ${idleRss} MB idle, ${peak} MB at the peak`,
    ];
  } finally {
    stopping = true;
    for (const s of sockets) s.destroy();
    await stopTarget(target);
    rmSync(dir, { recursive: true, force: true });
  }
}

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/validate",
        method: "POST",
        agent,
        headers: { "content-type": "application/json" },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The event loop's delay while 20 heavy reviews run, in process, with the worker and without it. */
async function eventLoop(): Promise<string[]> {
  const rows: string[] = [];
  for (const worker of [false, true]) {
    const heavy = worker ? heavyReviews() : undefined;
    const h = await webhookHarness({ evaluate, heavy, config: {} });
    const heavyBody = admissionReview(credentialPod("heavy", "ml-team"));
    const small = admissionReview(deployment());
    // How late a 5 ms timer fires: what any other request waiting on the loop waits too.
    const lateness: number[] = [];
    let due = performance.now() + 5;
    const ticker = setInterval(() => {
      const now = performance.now();
      lateness.push(Math.max(0, now - due));
      due = now + 5;
    }, 5);
    const latencies: number[] = [];
    const heavies = Array.from({ length: 20 }, () => h.validate(heavyBody));
    for (let i = 0; i < 50; i++) {
      const start = process.hrtime.bigint();
      await h.validate(small);
      latencies.push(ms(start));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(heavies);
    clearInterval(ticker);
    console.error(`event loop, heavy reviews ${worker ? "in the worker" : "on the main thread"}: done`);
    rows.push(
      `| ${worker ? "in the worker (production)" : "on the main thread"} | ${percentile(lateness, 99)} | ${percentile(lateness, 100)} | ${percentile(latencies, 50)} | ${percentile(latencies, 99)} |`,
    );
    await h.app.close();
    await heavy?.close();
  }
  return [
    "The event loop while 20 reviews of the 1.1 MiB Pod are answered, and 50 ordinary reviews sent 10 ms apart (in process, through `inject()`):",
    "",
    "| heavy reviews | timer lateness p99 ms | timer lateness max ms | ordinary p50 ms | ordinary p99 ms |",
    "|---|---|---|---|---|",
    ...rows,
  ];
}

export async function loadReport(only?: string): Promise<string> {
  const phases = { loop: eventLoop, port: againstThePort, apiserver: throughApiServer };
  const parts: string[][] = [];
  for (const [name, phase] of Object.entries(phases)) if (!only || only === name) parts.push(await phase());
  return parts.map((lines) => lines.join("\n")).join("\n\n");
}
