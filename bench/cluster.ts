// npm run bench:cluster — what the full local cluster costs next to the API-server-only plane: time
// to ready, time from start to a Running Pod, and the resident memory of every process it runs.
// Not a test: figures go to docs/benchmarks.md with the machine they came from.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type ControlPlane, startControlPlane } from "../test/controlplane/harness.ts";
import { readState } from "../test/controlplane/state.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 3);

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

function memory(plane: ControlPlane): Record<string, number> {
  const state = readState(plane.dir);
  const out: Record<string, number> = {};
  (state?.components ?? []).forEach((name, i) => {
    out[name] = rssMiB(state?.pids?.[i] ?? 0);
  });
  return out;
}

function kubectl(plane: ControlPlane, args: string[]): string {
  return execFileSync(join(plane.binDir, "kubectl"), ["--kubeconfig", plane.kubeconfig, ...args], { encoding: "utf8" });
}

async function round(apiOnly: boolean) {
  const began = performance.now();
  const plane = await startControlPlane({ apiOnly });
  const ready = (performance.now() - began) / 1000;
  let running: number | undefined;
  if (!apiOnly) {
    kubectl(plane, ["create", "deployment", "bench", "--image=registry.example/app:1", "-n", "default"]);
    kubectl(plane, ["wait", "--for=jsonpath={.status.phase}=Running", "pod", "-l", "app=bench", "--timeout=60s"]);
    running = (performance.now() - began) / 1000;
  }
  await new Promise((r) => setTimeout(r, 5000)); // let the controllers' first sync settle before reading memory
  const rss = memory(plane);
  await plane.stop();
  return { ready, running, rss };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const results = { api: [] as Awaited<ReturnType<typeof round>>[], full: [] as Awaited<ReturnType<typeof round>>[] };
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, load ${loadavg()[0]?.toFixed(2)}`,
);
for (let i = 0; i < ROUNDS; i++) {
  results.api.push(await round(true));
  results.full.push(await round(false));
}
for (const [mode, rounds] of Object.entries(results)) {
  const total = rounds.map((r) => Object.values(r.rss).reduce((a, b) => a + b, 0));
  console.log(
    `${mode}: ready ${median(rounds.map((r) => r.ready)).toFixed(1)} s` +
      (mode === "full" ? `, a Running Pod ${median(rounds.map((r) => r.running ?? 0)).toFixed(1)} s after start` : "") +
      `, RSS ${median(total).toFixed(0)} MiB (${Object.entries(rounds[0]?.rss ?? {})
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(", ")})`,
  );
  console.log(`  rounds: ${rounds.map((r) => r.ready.toFixed(1)).join(", ")} s`);
}
console.log(`load after: ${loadavg()[0]?.toFixed(2)}`);
