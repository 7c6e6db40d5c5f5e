// Runs `ai-api-guard run` out of cluster as a child process, the way a developer runs it: the webhook
// on a loopback port with a self-signed certificate, registered with the API server. Used by the
// end-to-end tests and by `npm run demo`.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { freePort } from "../controlplane/ports.ts";

const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const withParent = fileURLToPath(new URL("./with-parent.ts", import.meta.url));

export interface Operator {
  url: string;
  /** Everything the process wrote to stdout and stderr so far (its JSON log lines). */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL to the operator itself, as the kernel's OOM killer or a lost node ends it: no shutdown at all. */
  crash(): Promise<void>;
}

export interface OperatorOptions {
  /**
   * Run the controller too, scoped to these namespaces, and the webhook to the one namespace unless
   * extraArgs name a --namespace-selector (parallel test files do not meet). Default: webhook only.
   */
  controllerNamespaces?: readonly string[];
  /** The Lease several operators of one test share; a fresh one by default. */
  leaseName?: string;
  /** The CLI to run: the sources by default; the bench runs the build (dist/cli/main.js), as shipped. */
  entry?: string;
  /** How long it may take to say it is ready; then it is stopped and startOperator throws. */
  readyTimeoutMs?: number;
}

export async function startOperator(
  kubeconfig: string,
  extraArgs: string[] = [],
  options: OperatorOptions = {},
): Promise<Operator> {
  const url = `https://127.0.0.1:${await freePort()}`;
  const namespaces = options.controllerNamespaces;
  if (namespaces && namespaces.length !== 1 && !extraArgs.includes("--namespace-selector"))
    throw new Error("several namespaces: say which the webhook reviews with --namespace-selector");
  // The webhook reviews that namespace only: under the default Deny it would otherwise refuse what
  // parallel test files do in theirs.
  const scope =
    namespaces && !extraArgs.includes("--namespace-selector")
      ? ["--namespace-selector", `kubernetes.io/metadata.name=${namespaces[0]}`]
      : [];
  const controller = namespaces
    ? [
        "--namespaces",
        namespaces.join(","),
        "--lease-name",
        options.leaseName ?? `op-${randomBytes(4).toString("hex")}`,
      ]
    : ["--controller", "false"];
  const run = [
    process.execPath,
    options.entry ?? cli,
    "run",
    "--kubeconfig",
    kubeconfig,
    "--webhook-url",
    url,
    "--shutdown-delay-seconds",
    "0",
    ...controller,
    ...scope,
    ...extraArgs,
  ];
  const child = spawn(process.execPath, [withParent, String(process.pid), ...run], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_PROXY: "127.0.0.1,localhost" },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  await waitForReady(child, () => output, options.readyTimeoutMs);
  return {
    url,
    output: () => output,
    stop: () => stopped(child),
    async crash() {
      // The wrapper would pass a signal on as SIGTERM: the operator's own pid is in each of its log lines.
      const pid = Number(/"pid":(\d+)/.exec(output)?.[1]);
      if (!pid) throw new Error(`no pid in the operator's output:\n${output}`);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(pid, "SIGKILL");
      await exited;
    },
  };
}

/** SIGTERM, then the exit code. */
function stopped(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

async function waitForReady(child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (output().includes('"msg":"ai-api-guard is ready"')) return;
    if (child.exitCode !== null) throw new Error(`ai-api-guard run exited with ${child.exitCode}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // SIGTERM the wrapper, which passes it on (and ends the operator for good if it does not stop):
  // a SIGKILL would end the wrapper alone and leave the operator running.
  await stopped(child);
  throw new Error(`ai-api-guard run was not ready after ${timeoutMs / 1000} s:\n${output()}`);
}
