// Starts and stops a local cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kwok and one fake node) through supervisor.ts. Used by the test run's global setup,
// `npm run cluster:up` and `npm run demo`.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { controlPlaneBinaries } from "./binaries.ts";
import { type ControlPlaneState, isAlive, readState } from "./state.ts";

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  binDir: string;
  /** Seconds from spawning the supervisor to ready: /readyz, and for the full cluster the node Ready. */
  startSeconds: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Where state, certificates, logs and etcd data go; a fresh temp dir by default. */
  dir?: string;
  /** Keep running after this process exits (cluster:up). Otherwise it stops, and removes its dir, when this process is gone. */
  detached?: boolean;
  /** etcd and kube-apiserver only: no controllers, no scheduler, no node, so no Pods run. */
  apiOnly?: boolean;
}

const supervisor = fileURLToPath(new URL("./supervisor.ts", import.meta.url));

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const binDir = controlPlaneBinaries();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "ai-api-guard-cp-"));
  rmSync(join(dir, "state.json"), { force: true });
  const began = performance.now();
  const args = [
    supervisor,
    dir,
    binDir,
    ...(options.detached ? [] : ["--watch-pid", String(process.pid)]),
    ...(options.apiOnly ? ["--api-only"] : []),
  ];
  // A detached supervisor must not hold this process's stdio open, or `npm run cluster:up | ...` never ends.
  const stderr = options.detached ? openSync(join(dir, "supervisor.log"), "a") : "inherit";
  const child = spawn(process.execPath, args, { detached: options.detached, stdio: ["ignore", "ignore", stderr] });
  if (options.detached) child.unref();
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const state = await waitForState(dir, () => exited, 180_000);
  if (state.phase !== "ready" || !state.server || !state.kubeconfig) {
    throw new Error(`the local control plane did not start: ${state.message ?? state.phase} (logs in ${dir})`);
  }
  const startSeconds = (performance.now() - began) / 1000;
  return {
    dir,
    server: state.server,
    kubeconfig: state.kubeconfig,
    binDir,
    startSeconds,
    stop: async () => {
      await stopControlPlane(dir);
    },
  };
}

async function waitForState(dir: string, gone: () => boolean, timeoutMs: number): Promise<ControlPlaneState> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = readState(dir);
    if (state) return state;
    if (gone()) return { phase: "failed", supervisorPid: 0, message: "the supervisor exited before it was ready" };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { phase: "failed", supervisorPid: 0, message: `not ready after ${timeoutMs / 1000} s` };
}

/** Stops the control plane whose state lives in dir and waits until none of its processes is left. */
export async function stopControlPlane(dir: string): Promise<boolean> {
  const state = readState(dir);
  if (!state) return false;
  const pids = [state.supervisorPid, ...(state.pids ?? [])];
  if (isAlive(state.supervisorPid)) process.kill(state.supervisorPid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isAlive)) process.kill(pid, "SIGKILL");
  return true;
}

export function runningControlPlane(dir: string): ControlPlaneState | undefined {
  const state = readState(dir);
  return state?.phase === "ready" && isAlive(state.supervisorPid) ? state : undefined;
}

export function kubeconfigText(plane: { kubeconfig: string }): string {
  return readFileSync(plane.kubeconfig, "utf8");
}
