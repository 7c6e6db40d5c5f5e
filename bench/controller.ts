// npm run bench:controller — the controller at scale on a local API server: 200 policies over 2,000
// Deployments in 20 namespaces, then 10,000 Deployments. Time to converge (every policy Ready with
// all its workloads), API writes per object (aiapiguard_api_writes_total; and none in the 10 s after
// convergence), the operator's peak RSS and its heap per cached workload, against a baseline in the
// same run: the same operator with the controller off (webhook and policy cache only).
// Not a test: figures go to docs/benchmarks.md with the machine and its load.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { get } from "node:https";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadKubeConfig } from "../src/kube/config.ts";
import { KubeRest } from "../src/kube/rest.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { type Operator, startOperator } from "../test/support/operator.ts";

const NAMESPACES = Number(process.env.NAMESPACES ?? 20);
const POLICIES_PER_NS = Number(process.env.POLICIES_PER_NS ?? 10);
const STAGES = (process.env.DEPLOYMENTS ?? "2000,10000").split(",").map(Number);
const CONVERGE_TIMEOUT_MS = Number(process.env.CONVERGE_TIMEOUT_S ?? 900) * 1000;
const QUIET_MS = 10_000;
const CRD_DIR = fileURLToPath(new URL("../crds/", import.meta.url));
// The build, as the image runs it: the sources would add Node's TypeScript stripping to the memory.
// OPERATOR_ENTRY names another build (e.g. of the previous commit) to compare against.
const entry = process.env.OPERATOR_ENTRY ?? fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

const scope = ["--namespace-selector", "aiapiguard-bench=on"];
const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i).padStart(2, "0")}`);

const plane = await startControlPlane({ apiOnly: true });
const kubectl = (args: string[]) =>
  execFileSync(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
const rest = new KubeRest(loadKubeConfig(plane.kubeconfig));
// Node flags for the operators only (e.g. "--max-semi-space-size=2"), to compare memory settings.
if (process.env.OPERATOR_NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.OPERATOR_NODE_OPTIONS;
const operators: Operator[] = [];

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

const deployment = (namespace: string, i: number) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: `app-${i}`, namespace },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: `a${i % POLICIES_PER_NS}`, n: String(i) } },
    template: {
      metadata: { labels: { app: `a${i % POLICIES_PER_NS}`, n: String(i) } },
      spec: {
        containers: [
          {
            name: "app",
            image: "registry.example/app:1",
            env: [{ name: "MODEL", value: "small" }],
            resources: { requests: { cpu: "10m", memory: "32Mi" } },
          },
        ],
      },
    },
  },
});

const policy = (namespace: string, j: number) => ({
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name: `p${j}`, namespace },
  spec: {
    api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low", lastReviewed: "2026-11-01" },
    selector: { matchLabels: { app: `a${j}` } },
    egress: { cidrs: ["203.0.113.0/24"] },
    credentials: { secretName: "api-key" },
  },
});

async function createDeployments(from: number, to: number): Promise<number> {
  const began = performance.now();
  const work = namespaces.flatMap((ns) => Array.from({ length: to - from }, (_, k) => deployment(ns, from + k)));
  await pool(work, 16, (d) =>
    rest.request(`/apis/apps/v1/namespaces/${d.metadata.namespace}/deployments`, { method: "POST", body: d }),
  );
  return (performance.now() - began) / 1000;
}

function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(new URL("/metrics", url), { rejectUnauthorized: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

function metric(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const [series, value] = line.split(" ");
    out[series ?? ""] = Number(value);
  }
  return out;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
}

const pidOf = (operator: Operator) => Number(/"pid":(\d+)/.exec(operator.output())?.[1]);

/** Every policy Ready, selecting `perPolicy` workloads. */
function converged(perPolicy: number): boolean {
  const list = JSON.parse(kubectl(["get", "aap", "-A", "-o", "json"])) as {
    items: { status?: { conditions?: { type: string; status: string }[]; workloads?: { count: number } } }[];
  };
  return (
    list.items.length === NAMESPACES * POLICIES_PER_NS &&
    list.items.every(
      (p) =>
        p.status?.workloads?.count === perPolicy &&
        p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    )
  );
}

async function waitConverged(perPolicy: number, since: number): Promise<number> {
  while (performance.now() - since < CONVERGE_TIMEOUT_MS) {
    if (converged(perPolicy)) return (performance.now() - since) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`not converged within ${CONVERGE_TIMEOUT_MS / 1000} s`);
}

async function baselineRss(): Promise<number> {
  const webhookOnly = await startOperator(
    plane.kubeconfig,
    [...scope, "--webhook-config-name", "bench-baseline", "--namespaces", namespaces.join(",")],
    { entry },
  );
  await new Promise((r) => setTimeout(r, 5000));
  const rss = memory(pidOf(webhookOnly)).rssMiB;
  await webhookOnly.stop();
  return rss;
}

try {
  console.log(`operator ${entry}, NODE_OPTIONS: ${process.env.OPERATOR_NODE_OPTIONS ?? "(none)"}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  kubectl(["apply", "--server-side", "-f", CRD_DIR]);
  kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRD_DIR]);
  for (const ns of namespaces) {
    kubectl(["create", "namespace", ns]);
    kubectl(["label", "namespace", ns, "aiapiguard-bench=on"]);
    kubectl(["-n", ns, "create", "secret", "generic", "api-key", "--from-literal=api-key=placeholder"]);
  }
  // One operator, leader at once (no other replica); its webhook reviews the bench namespaces only.
  const operator = await startOperator(plane.kubeconfig, [...scope, "--webhook-config-name", "bench-controller"], {
    controllerNamespaces: namespaces,
    entry,
  });
  operators.push(operator);
  const pid = pidOf(operator);
  await new Promise((r) => setTimeout(r, 3000));
  const idle = metric(await scrape(operator.url), "nodejs_heap_size_used_bytes");
  console.log(`operator started (pid ${pid}): RSS ${memory(pid).rssMiB.toFixed(0)} MiB with nothing to cache`);
  const perNs = (STAGES[0] ?? 2000) / NAMESPACES;
  console.log(`creating ${STAGES[0]} Deployments: ${(await createDeployments(0, perNs)).toFixed(1)} s`);

  const began = performance.now();
  const policies = namespaces.flatMap((ns) => Array.from({ length: POLICIES_PER_NS }, (_, j) => policy(ns, j)));
  await pool(policies, 8, (p) =>
    rest.request(`/apis/aiapiguard.dev/v1alpha1/namespaces/${p.metadata.namespace}/aiapipolicies`, {
      method: "POST",
      body: p,
    }),
  );
  let workloads = STAGES[0] ?? 2000;
  let previousWrites: Record<string, number> = {};
  let previous = { heap: sum(idle), workloads: 0 };
  for (const [stage, target] of STAGES.entries()) {
    let since = began;
    if (stage > 0) {
      const from = workloads / NAMESPACES;
      console.log(
        `creating ${target - workloads} more Deployments: ${(await createDeployments(from, target / NAMESPACES)).toFixed(1)} s`,
      );
      since = performance.now();
      workloads = target;
    }
    const seconds = await waitConverged(workloads / NAMESPACES / POLICIES_PER_NS, since);
    const atConvergence = await scrape(operator.url);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const later = await scrape(operator.url);
    const writes = metric(atConvergence, "aiapiguard_api_writes_total");
    const stageWrites = Object.fromEntries(
      Object.entries(writes).map(([k, v]) => [
        k.replace("aiapiguard_api_writes_total", ""),
        v - (previousWrites[k] ?? 0),
      ]),
    );
    previousWrites = writes;
    const heap = sum(metric(later, "nodejs_heap_size_used_bytes"));
    const heapTotal = sum(metric(later, "nodejs_heap_size_total_bytes"));
    const external = sum(metric(later, "nodejs_external_memory_bytes"));
    const mem = memory(pid);
    console.log(`\n${workloads} Deployments, ${policies.length} policies, ${NAMESPACES} namespaces:`);
    console.log(
      `  converged in ${seconds.toFixed(1)} s (${stage === 0 ? "from the first policy created" : "from the last Deployment created"})`,
    );
    console.log(`  writes in this stage: ${JSON.stringify(stageWrites)}`);
    console.log(
      `  writes in the ${QUIET_MS / 1000} s after convergence: ${sum(metric(later, "aiapiguard_api_writes_total")) - sum(writes)}`,
    );
    console.log(
      `  RSS ${mem.rssMiB.toFixed(0)} MiB, peak ${mem.peakMiB.toFixed(0)} MiB; heap used ${(heap / 2 ** 20).toFixed(0)} of ${(heapTotal / 2 ** 20).toFixed(0)} MiB, external ${(external / 2 ** 20).toFixed(0)} MiB (${((heap - previous.heap) / (workloads - previous.workloads)).toFixed(0)} bytes per Deployment added in this stage; no forced GC, so noisy at small counts)`,
    );
    previous = { heap, workloads };
    console.log(`  baseline (controller off, same objects): RSS ${(await baselineRss()).toFixed(0)} MiB`);
    console.log(
      `  load: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  }
} finally {
  for (const operator of operators) await operator.stop();
  await plane.stop();
}
