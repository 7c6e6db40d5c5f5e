// npm run cluster:up [-- --api-only] / cluster:down: a local cluster in .cluster/ that outlives the command.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "./binaries.ts";
import { runningControlPlane, startControlPlane, stopControlPlane } from "./harness.ts";

const dir = join(repoRoot, ".cluster");
const command = process.argv[2];

async function up(): Promise<void> {
  const running = runningControlPlane(dir);
  if (running) {
    console.log(`already running at ${running.server}; kubeconfig: .cluster/kubeconfig`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const plane = await startControlPlane({ dir, detached: true, apiOnly: process.argv.includes("--api-only") });
  symlinkSync(plane.binDir, join(dir, "bin"));
  const what = process.argv.includes("--api-only") ? "control plane (API server only)" : "cluster";
  console.log(`${what} ready at ${plane.server} in ${plane.startSeconds.toFixed(1)} s`);
  console.log(`kubeconfig: ${relative(process.cwd(), plane.kubeconfig)}`);
  console.log(`try: .cluster/bin/kubectl --kubeconfig .cluster/kubeconfig version`);
}

async function down(): Promise<void> {
  const stopped = await stopControlPlane(dir);
  console.log(stopped ? "cluster stopped" : "no cluster was running in .cluster/");
}

if (command === "up") await up();
else if (command === "down") await down();
else {
  console.error("usage: node test/controlplane/cli.ts up [--api-only] | down");
  process.exitCode = 2;
}
