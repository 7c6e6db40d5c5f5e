// A test run or a demo that is killed with SIGKILL gets no chance to clean up: the cluster's
// supervisor notices its starter is gone and stops every process it started.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAlive, readState } from "../controlplane/state.ts";
import { eventually } from "../support/eventually.ts";

const harness = fileURLToPath(new URL("../controlplane/harness.ts", import.meta.url));
const starter = `
  const { startControlPlane } = await import(${JSON.stringify(harness)});
  const plane = await startControlPlane();
  console.log(plane.dir);
  setInterval(() => {}, 1000);
`;

describe("a killed starter", () => {
  it("leaves no etcd, kube-apiserver, kube-controller-manager, kube-scheduler or kwok behind within 10 s", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", starter], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const dir = await eventually(async () => out.trim().split("\n")[0] || undefined, 120_000, "the cluster started");
    const state = readState(dir);
    expect(state?.components).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]);
    const pids = [state?.supervisorPid, ...(state?.pids ?? [])];
    expect(pids.every(isAlive)).toBe(true);

    child.kill("SIGKILL");
    await eventually(async () => (pids.some(isAlive) ? undefined : true), 10_000, "every process gone");
  }, 180_000);
});
