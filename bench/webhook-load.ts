// The webhook under hostile load (part of `npm run bench:webhook`; alone: `npm run bench:webhook -- load`).
// 1. Through the API server, on a local control plane: a flood of 1.1 MiB server-side dry-run Pod creates
//    by a tenant allowed only `create pods`, while another tenant's reviews continue (apiserver-flood.ts).
// 2. Against the webhook port: thousands of idle connections and slow-body clients while ordinary
//    reviews continue; the server's memory sampled.
// 3. The event loop while heavy reviews run, with the worker and without it (in process).
// 4. Large reviews from many connections against the webhook in a memory cgroup of the chart's limit.
// Everything is bounded in count and time, and on loopback only.
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { defaults } from "../src/config/chart-values.ts";
import { evaluate } from "../src/engine/index.ts";
import { heavyReviews } from "../src/webhook/heavy-reviews.ts";
import { bodyBytesInFlight } from "../src/webhook/limits.ts";
import { admissionReview, deployment } from "../test/support/admission.ts";
import { webhookHarness } from "../test/support/webhook.ts";
import { throughApiServer } from "./apiserver-flood.ts";
import { memoryCgroup } from "./cgroup.ts";
import { credentialPod, ms, percentile } from "./load-support.ts";
import { imageNodeFlags, rssMb, startTarget, stopTarget, writeCertificates } from "./targets.ts";

const PORT = { idle: 1_000, slow: 100, reconnectMs: 1_000, seconds: 15 };

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
    const reasons = new Map<string, number>();
    const failed = (reason: string) => {
      failures++;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    };
    const end = Date.now() + PORT.seconds * 1000;
    const pending: Promise<void>[] = [];
    while (Date.now() < end) {
      const start = process.hrtime.bigint();
      pending.push(
        post(agent, target.port, body).then(
          (status) => (status === 200 ? void latencies.push(ms(start)) : failed(`HTTP ${status}`)),
          (error: NodeJS.ErrnoException) => failed(error.code ?? error.message),
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
      `- ordinary reviews: ${latencies.length} answered, ${failures} failed${failures ? ` (${[...reasons].map(([r, n]) => `${r}: ${n}`).join(", ")})` : ""}; p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${percentile(latencies, 100)} ms`,
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

const BODIES = { connections: 100, mib: 3, seconds: 15 };

/**
 * The webhook in a memory cgroup of the chart's default limit, with the image's Node flags, while BODIES.connections
 * connections post reviews of a 3 MiB HTML ConfigMap (escaped by the API server as it writes the review) as fast as
 * they are answered, and a client posts ordinary reviews every 20 ms: whether the kernel kills it, as it would the pod.
 */
async function underTheMemoryLimit(): Promise<string[]> {
  const quantity = String((defaults() as { resources: { limits: { memory: string } } }).resources.limits.memory);
  const limit = Number(/^(\d+)Mi$/.exec(quantity)?.[1]) * 2 ** 20;
  const title = `Under the chart's memory limit (${quantity}, a memory cgroup; the image's Node flags): ${BODIES.connections} connections posting reviews of a ${BODIES.mib} MiB HTML ConfigMap for ${BODIES.seconds} s, while a client posts ordinary reviews every 20 ms:`;
  const cgroup = memoryCgroup(`ai-api-guard-bench-${process.pid}`, limit);
  if (typeof cgroup === "string") return [title, "", `- not measured: ${cgroup}`];
  const dir = mkdtempSync(join(tmpdir(), "ai-api-guard-load-"));
  const ca = await writeCertificates(dir);
  const target = await startTarget("validate", dir, imageNodeFlags(), false, cgroup.procs);
  try {
    const html = { data: { "page.html": `<p>${"a".repeat(BODIES.mib * 2 ** 20)}</p>` } };
    const large = JSON.stringify(
      admissionReview({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "page", namespace: "web" }, ...html }),
    )
      .replaceAll("<", "\\u003c")
      .replaceAll(">", "\\u003e");
    const ordinary = JSON.stringify(admissionReview(deployment()));
    const statuses = new Map<string, number>();
    const count = (status: number | NodeJS.ErrnoException) => {
      const key = typeof status === "number" ? `HTTP ${status}` : (status.code ?? status.message);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    };
    const alive = () => target.process.exitCode === null && target.process.signalCode === null;
    const end = Date.now() + BODIES.seconds * 1000;
    const flooding = new Agent({ ca, keepAlive: true, maxSockets: BODIES.connections });
    const flood = Array.from({ length: BODIES.connections }, async () => {
      while (Date.now() < end && alive()) await post(flooding, target.port, large).then(count, count);
    });
    const agent = new Agent({ ca, keepAlive: true, maxSockets: 4 });
    const latencies: number[] = [];
    let failures = 0;
    const pending: Promise<void>[] = [];
    while (Date.now() < end && alive()) {
      const start = process.hrtime.bigint();
      pending.push(
        post(agent, target.port, ordinary).then(
          (status) => (status === 200 ? void latencies.push(ms(start)) : void failures++),
          () => void failures++,
        ),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all([...flood, ...pending]);
    flooding.destroy();
    agent.destroy();
    const killed = cgroup.oomKills();
    return [
      title,
      "",
      `- the webhook: ${killed > 0 ? `**OOM-killed** (${killed} kill${killed > 1 ? "s" : ""})` : "not killed"}; the cgroup's peak ${Math.round(cgroup.peakBytes() / 2 ** 20)} MiB; bodies read at once at most ${bodyBytesInFlight(limit) / 2 ** 20} MiB`,
      `- large reviews: ${[...statuses].map(([status, n]) => `${status}: ${n}`).join(", ")}`,
      `- ordinary reviews: ${latencies.length} answered, ${failures} failed; p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
    ];
  } finally {
    await stopTarget(target);
    cgroup.remove();
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
  const phases = { loop: eventLoop, port: againstThePort, memory: underTheMemoryLimit, apiserver: throughApiServer };
  const parts: string[][] = [];
  for (const [name, phase] of Object.entries(phases)) if (!only || only === name) parts.push(await phase());
  return parts.map((lines) => lines.join("\n")).join("\n\n");
}
