// npm run bench:audit — the background audit over 10,000 workloads on a local control plane of its own
// (started here, stopped at the end): time and peak memory per run, next to a baseline that only lists
// the same objects in the same pages, and at several page sizes (memory bounded by the page).
// Not a test: figures go to docs/benchmarks.md with the machine they came from.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { runAudit } from "../src/audit/audit.ts";
import { CONFIGMAP_TYPE, listPages, WORKLOAD_TYPES } from "../src/kube/pages.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { fakeSecrets } from "../test/support/fake-secrets.ts";

const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 10_000);
const NAMESPACES = 20;
const CONFIGMAPS = WORKLOADS / 10;
const DIRTY_EVERY = 50;
const CONCURRENCY = 16;
const PAGE_SIZES = [100, 500, 2_000];

const fake = Object.values(fakeSecrets(7)).filter((v) => !v.includes("\n"));

function deployment(i: number): k8s.V1Deployment {
  const env: k8s.V1EnvVar[] = [
    { name: "LOG_LEVEL", value: "info" },
    { name: "UPSTREAM_URL", value: `http://svc-${i % 37}.apps.svc.cluster.local:8080` },
    { name: "OPENAI_BASE_URL", value: i % 7 === 0 ? "https://api.openai.com/v1" : "https://llm.internal.example/v1" },
    { name: "API_KEY", valueFrom: { secretKeyRef: { name: "api", key: "key" } } },
    { name: "BUILD", value: `build-${i}` },
  ];
  if (i % DIRTY_EVERY === 0) env.push({ name: "OPENAI_API_KEY", value: fake[i % fake.length] ?? "" });
  const labels = { app: `app-${i}` };
  return {
    metadata: { name: `app-${i}`, labels },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "app", image: `registry.example.com/app-${i}:1.0`, args: ["--port=8080"], env }],
          volumes: [{ name: "config", configMap: { name: `config-${i % CONFIGMAPS}` } }],
        },
      },
    },
  };
}

async function pool<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

interface Measured {
  ms: number;
  peakHeapMB: number;
  maxRssMB: number;
  summary: string;
}

/** In a child process of its own (argv: --child list|audit PAGE_SIZE KUBECONFIG): one run, its time and peaks. */
async function child(mode: string, pageSize: number, kubeconfig: string): Promise<Measured> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed);
    peakRss = Math.max(peakRss, now.rss);
  };
  sample();
  const sampler = setInterval(sample, 5);
  const began = performance.now();
  let summary: string;
  if (mode === "list") summary = `${await listOnly(kc, pageSize)} objects listed`;
  else {
    const r = await runAudit({ kc, logger: pino({ level: "silent" }), pageSize });
    summary = `${r.workloads} workloads, ${r.configMaps} ConfigMaps, ${r.findings.length} findings; reports written ${r.written.length}, unchanged ${r.unchanged.length}`;
  }
  const ms = performance.now() - began;
  clearInterval(sampler);
  sample();
  // Sampled, not getrusage's maxrss: a child's high-water mark starts from its parent's at fork.
  return { ms, peakHeapMB: peakHeap / 2 ** 20, maxRssMB: peakRss / 2 ** 20, summary };
}

function measureInChild(
  mode: "list" | "audit",
  pageSize: number,
  kubeconfig: string,
  nodeArgs: string[] = [],
): Measured {
  const script = fileURLToPath(import.meta.url);
  const args = [...nodeArgs, script, "--child", mode, String(pageSize), kubeconfig];
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${mode} run failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string) as Measured;
}

async function listOnly(kc: k8s.KubeConfig, pageSize: number): Promise<number> {
  let count = 0;
  for (const type of [CONFIGMAP_TYPE, ...WORKLOAD_TYPES])
    for await (const page of listPages(kc, type, { pageSize })) count += page.length;
  return count;
}

if (process.argv[2] === "--child") {
  const [, , , mode = "audit", pageSize = "500", kubeconfig = ""] = process.argv;
  console.log(JSON.stringify(await child(mode, Number(pageSize), kubeconfig)));
} else await main();

async function main(): Promise<void> {
  const plane = await startControlPlane();
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    const kubectl = (...args: string[]) => {
      const run = spawnSync(`${plane.binDir}/kubectl`, ["--kubeconfig", plane.kubeconfig, ...args], {
        encoding: "utf8",
      });
      if (run.status !== 0) throw new Error(run.stderr);
    };
    const crds = fileURLToPath(new URL("../third-party/crds/openreports.io/", import.meta.url));
    kubectl("apply", "--server-side", "-f", fileURLToPath(new URL("../crds/", import.meta.url)));
    kubectl("apply", "--server-side", "-f", crds);
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds);

    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const namespaces = Array.from({ length: NAMESPACES }, (_, n) => `bench-${n}`);
    for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
    const setupStarted = performance.now();
    await pool(
      Array.from({ length: CONFIGMAPS }, (_, i) => i),
      (i) =>
        core.createNamespacedConfigMap({
          namespace: namespaces[i % NAMESPACES] as string,
          body: {
            metadata: { name: `config-${i}` },
            data: {
              "app.yaml": `upstream: ${i % 10 === 0 ? "https://api.anthropic.com" : "https://search.internal.example"}\n`,
              PORT: "8080",
            },
          },
        }),
    );
    await pool(
      Array.from({ length: WORKLOADS }, (_, i) => i),
      (i) => apps.createNamespacedDeployment({ namespace: namespaces[i % NAMESPACES] as string, body: deployment(i) }),
    );
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(`created ${WORKLOADS} Deployments and ${CONFIGMAPS} ConfigMaps in ${setupSeconds.toFixed(1)} s`);
    // Wait for the API server's watch caches to settle before timing anything.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const rows: string[] = [];
    const row = (what: string, m: Measured) =>
      rows.push(
        `| ${what} | ${(m.ms / 1000).toFixed(2)} s | ${m.peakHeapMB.toFixed(0)} MB | ${m.maxRssMB.toFixed(0)} MB | ${m.summary} |`,
      );
    row("audit, first run (writes the reports), pages of 500", measureInChild("audit", 500, plane.kubeconfig));
    // Bounded memory, shown the blunt way: the whole audit in a 64 MB old generation.
    const capped = ["--max-old-space-size=64"];
    row("audit, pages of 500, --max-old-space-size=64", measureInChild("audit", 500, plane.kubeconfig, capped));
    for (const pageSize of PAGE_SIZES) {
      row(`list only, pages of ${pageSize}`, measureInChild("list", pageSize, plane.kubeconfig));
      row(`audit, pages of ${pageSize}`, measureInChild("audit", pageSize, plane.kubeconfig));
    }
    console.log(
      `\nmachine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), Node ${process.version}, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    console.log("each run in a process of its own: its wall time, peak heap used and peak RSS (sampled every 5 ms)\n");
    console.log("| run | time | peak heap | peak RSS | |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const line of rows) console.log(line);
  } finally {
    await plane.stop();
  }
}
