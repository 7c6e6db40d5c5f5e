// A memory cgroup for a benchmark target: the container's memory limit, as a pod has it, so that the
// kernel's OOM killer acts as it would in the cluster. cgroup v2 or v1; creating one needs the rights to.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface MemoryCgroup {
  /** The file a process joins the cgroup by writing its pid to. */
  procs: string;
  /** The most memory the cgroup has used, in bytes. */
  peakBytes(): number;
  /** Processes the kernel killed for passing the limit. */
  oomKills(): number;
  remove(): void;
}

const ROOT = "/sys/fs/cgroup";

/** A new cgroup limited to `limitBytes`, or why there cannot be one here. */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | string {
  const v2 = existsSync(join(ROOT, "cgroup.controllers"));
  const dir = v2 ? join(ROOT, name) : join(ROOT, "memory", name);
  try {
    mkdirSync(dir);
    if (v2) {
      writeFileSync(join(dir, "memory.max"), String(limitBytes));
      if (existsSync(join(dir, "memory.swap.max"))) writeFileSync(join(dir, "memory.swap.max"), "0");
    } else {
      writeFileSync(join(dir, "memory.limit_in_bytes"), String(limitBytes));
      if (existsSync(join(dir, "memory.memsw.limit_in_bytes")))
        writeFileSync(join(dir, "memory.memsw.limit_in_bytes"), String(limitBytes));
    }
  } catch (error) {
    return `no memory cgroup can be made at ${dir}: ${(error as Error).message}`;
  }
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  const counter = (file: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(read(file))?.[1] ?? 0);
  return {
    procs: join(dir, "cgroup.procs"),
    peakBytes: () => Number(read(v2 ? "memory.peak" : "memory.max_usage_in_bytes")),
    oomKills: () => counter(v2 ? "memory.events" : "memory.oom_control", "oom_kill"),
    remove: () => rmdirSync(dir),
  };
}
