// Benchmark targets (bench/webhook-target.ts), each in a process of its own so the load generator does
// not share its event loop; and the certificate they all serve.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createCertificateAuthority, issueCertificate } from "../src/tls/certificates.ts";

export type Mode = "validate" | "walk-only" | "no-rules" | "parse-only" | "hello";

export interface Target {
  mode: Mode;
  port: number;
  process: ChildProcess;
}

/**
 * `nodeFlags`: V8 and Node flags for the target's process (e.g. the image's NODE_OPTIONS). `pauses`: the
 * target watches its event loop and GC and answers GET /bench/pauses (a 1 ms timer: not for throughput).
 * `cgroupProcs`: the target runs in that cgroup (bench/cgroup.ts), joined before Node starts.
 */
export async function startTarget(
  mode: Mode,
  certDir: string,
  nodeFlags: readonly string[] = [],
  pauses = false,
  cgroupProcs?: string,
): Promise<Target> {
  const script = join(import.meta.dirname, "webhook-target.ts");
  const args = [...nodeFlags, script, mode, certDir, ...(pauses ? ["pauses"] : [])];
  const [command, argv] = cgroupProcs
    ? ["sh", ["-c", `echo $$ > '${cgroupProcs}' && exec "$0" "$@"`, process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill(), 15_000);
  for await (const line of lines) {
    const match = /^listening (\d+)$/.exec(line);
    if (match) {
      clearTimeout(timer);
      return { mode, port: Number(match[1]), process: child };
    }
  }
  throw new Error(`the ${mode} target did not start: see its output above`);
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s (a drain held open by an attacker's sockets). */
export async function stopTarget(target: Target): Promise<void> {
  // Exited already, or killed (by the kernel's OOM killer, say): no exit event is coming.
  if (target.process.exitCode !== null || target.process.signalCode !== null) return;
  const exited = once(target.process, "exit");
  target.process.kill("SIGTERM");
  const timer = setTimeout(() => target.process.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Writes tls.crt, tls.key and ca.crt (for 127.0.0.1) into `dir`; returns the CA's PEM. */
export async function writeCertificates(dir: string): Promise<string> {
  const ca = await createCertificateAuthority("ai-api-guard bench CA");
  const leaf = await issueCertificate(ca, { subject: "CN=127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  writeFileSync(join(dir, "tls.crt"), leaf.certPem);
  writeFileSync(join(dir, "tls.key"), leaf.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "ca.crt"), ca.certPem);
  return ca.certPem;
}

/** A process's resident memory in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
}

/**
 * The Node flags the image runs with, read from the Dockerfile's NODE_OPTIONS so the benchmark follows it:
 * small semi-spaces collect young garbage more often.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
  const options = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('the Dockerfile has no ENV NODE_OPTIONS="..." line to benchmark with');
  return options.split(/\s+/).filter(Boolean);
}
