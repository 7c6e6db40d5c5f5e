// Finds (or builds, once per machine) etcd, kube-apiserver, kubectl and helm. The build itself is
// scripts/build-controlplane.sh so CI can warm the cache before the tests start.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

export function controlPlaneBinaries(): string {
  const result = spawnSync("bash", [`${repoRoot}/scripts/build-controlplane.sh`], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (result.error) throw new Error(`cannot run scripts/build-controlplane.sh: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      "the local control plane binaries are missing and could not be built (see the lines above); " +
        "install Go 1.24+ and make the Go module proxy reachable, then run `npm run controlplane:build`",
    );
  }
  const bin = result.stdout.trim().split("\n").pop();
  if (!bin) throw new Error("scripts/build-controlplane.sh printed no bin folder");
  return bin;
}
