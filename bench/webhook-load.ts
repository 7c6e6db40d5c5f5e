// The webhook under hostile load (part of `npm run bench:webhook`; alone: `npm run bench:webhook -- load`).
// 1. Through the API server, on a local control plane: a flood of 1.1 MiB server-side dry-run Pod creates
//    (15,000 credential-named env vars: only `create pods` is needed) while ordinary reviews continue.
// 2. Against the webhook port: thousands of idle connections and slow-body clients while ordinary
//    reviews continue; the server's memory sampled.
// 3. The event loop while heavy reviews run, with the worker and without it (in process).
// Everything is bounded in count and time, and on loopback only.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import * as k8s from "@kubernetes/client-node";
import { evaluate } from "../src/engine/index.ts";
import { heavyReviews } from "../src/webhook/heavy-reviews.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { admissionReview, deployment } from "../test/support/admission.ts";
import { startOperator } from "../test/support/operator.ts";
import { webhookHarness } from "../test/support/webhook.ts";
import { rssMb, startTarget, stopTarget, writeCertificates } from "./targets.ts";

const FLOOD = { concurrency: 60, maxRequests: 240, maxSeconds: 45 };
const ORDINARY_PER_SECOND = 10;
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
    const body = deployment({ name: `ordinary-${i++}`, namespace }) as k8s.V1Deployment;
    inFlight.push(
      apps.createNamespacedDeployment({ namespace, body, dryRun: "All" }).then(
        () => void result.latencies.push(ms(start)),
        (error: unknown) => void result.errors.push(String((error as { body?: string }).body ?? error).slice(0, 200)),
      ),
    );
    await new Promise((r) => setTimeout(r, 1000 / ORDINARY_PER_SECOND));
  }
  await Promise.all(inFlight);
  return result;
}

async function throughApiServer(): Promise<string[]> {
  const plane = await startControlPlane();
  const run = randomBytes(3).toString("hex");
  const namespace = `bench-${run}`;
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { "aiapiguard-bench": run } } } });
  const operator = await startOperator(plane.kubeconfig, [
    "--webhook-config-name",
    `bench-${run}`,
    "--namespace-selector",
    `aiapiguard-bench=${run}`,
    "--log-level",
    "warn",
  ]);
  try {
    const pod = JSON.stringify(credentialPod("heavy", namespace));
    console.error(`load: heavy Pod ${(pod.length / 2 ** 20).toFixed(2)} MiB; baseline ${BASELINE_SECONDS} s`);
    const baselineEnd = Date.now() + BASELINE_SECONDS * 1000;
    const baseline = await ordinaryReviews(apps, namespace, () => Date.now() > baselineEnd);

    let sent = 0;
    const floodEnd = Date.now() + FLOOD.maxSeconds * 1000;
    const outcomes = new Map<string, number>();
    const heavyLatencies: number[] = [];
    const more = () => sent < FLOOD.maxRequests && Date.now() < floodEnd;
    const attacker = async () => {
      while (more()) {
        const name = `heavy-${sent++}`;
        const start = process.hrtime.bigint();
        const outcome = await core
          .createNamespacedPod({
            namespace,
            body: { ...JSON.parse(pod), metadata: { name, namespace } },
            dryRun: "All",
          })
          .then(
            () => "admitted",
            (error: unknown) => classify(String((error as { body?: string }).body ?? error)),
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
    const timeouts = (o: Ordinary) => o.errors.filter((e) => /timeout|deadline|failed calling webhook/i.test(e)).length;
    return [
      `Through the API server (kube-apiserver of the local control plane, the operator as \`ai-api-guard run\`, both on this machine): ${FLOOD.concurrency} concurrent server-side dry-run creates of a ${(pod.length / 2 ** 20).toFixed(2)} MiB Pod with 15,000 credential-named env vars (${sent} sent, at most ${FLOOD.maxSeconds} s), while clean Deployments are dry-run created at ${ORDINARY_PER_SECOND}/s:`,
      "",
      "| ordinary reviews | count | p50 ms | p99 ms | max ms | errors | timeouts |",
      "|---|---|---|---|---|---|---|",
      row("alone", baseline, timeouts(baseline)),
      row("during the flood", during, timeouts(during)),
      "",
      `Heavy requests: ${[...outcomes].map(([k, v]) => `${v} ${k}`).join(", ")}; p50 ${percentile(heavyLatencies, 50)} ms, p99 ${percentile(heavyLatencies, 99)} ms.`,
      ...(during.errors.length > 0 ? [`First ordinary error: ${during.errors[0]}`] : []),
    ];
  } finally {
    await operator.stop();
    await plane.stop();
  }
}

function row(label: string, o: Ordinary, timeouts: number): string {
  const l = o.latencies;
  return `| ${label} | ${l.length + o.errors.length} | ${percentile(l, 50)} | ${percentile(l, 99)} | ${percentile(l, 100)} | ${o.errors.length} | ${timeouts} |`;
}

function classify(message: string): string {
  if (/budget of one review|waited behind/.test(message)) return "refused: review budget";
  if (/denied the request/.test(message)) return "refused: findings";
  if (/failed calling webhook/.test(message)) return "failed calling the webhook";
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
    const idle = () => open((s) => s.once("close", () => void (closedByServer++, setTimeout(idle, 200))));
    const slow = () =>
      open((s) => {
        s.write(
          "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{",
        );
        const drip = setInterval(() => s.writable && s.write(" "), 1000);
        s.once("close", () => {
          clearInterval(drip);
          setTimeout(slow, 200);
        });
      });
    for (let i = 0; i < 2_000; i++) idle();
    for (let i = 0; i < 200; i++) slow();
    let peak = idleRss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 250);
    const agent = new Agent({ ca, keepAlive: true, maxSockets: 4 });
    const body = JSON.stringify(admissionReview(deployment()));
    const latencies: number[] = [];
    let failures = 0;
    const end = Date.now() + 15_000;
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
    agent.destroy();
    return [
      `Against the webhook port (the validate target with the production limits: 512 connections, 10 s request timeout): 2,000 clients holding idle TLS connections and 200 sending a 1 MiB body a byte a second, each reconnecting 200 ms after it is closed, for 15 s, while a client posts ordinary reviews at 50/s over 4 keep-alive connections:`,
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
    req.on("timeout", () => req.destroy(new Error("timeout")));
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
