import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ControlPlaneState {
  phase: "ready" | "stopped" | "failed";
  supervisorPid: number;
  message?: string;
  pids?: number[];
  server?: string;
  kubeconfig?: string;
  binDir?: string;
  /** The processes it runs, by binary name. */
  components?: string[];
}

export function writeState(dir: string, state: ControlPlaneState): void {
  const path = join(dir, "state.json");
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function readState(dir: string): ControlPlaneState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
