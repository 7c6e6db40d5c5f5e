// usage: node with-parent.ts <pid> <command> [args...]
// Runs the command and ends it (SIGTERM) when process <pid> is gone, so a test run that is killed
// does not leave the operator it started running. Signals sent to this process are passed on.
import { spawn } from "node:child_process";
import { isAlive } from "../controlplane/state.ts";

const [pid, command, ...args] = process.argv.slice(2);
if (!pid || !command) {
  console.error("usage: node with-parent.ts <pid> <command> [args...]");
  process.exit(2);
}
const child = spawn(command, args, { stdio: "inherit" });
/** Asks the child to stop; one that has not within the grace period is killed, so it never outlives this. */
const GRACE_MS = 10_000;
let killer: NodeJS.Timeout | undefined;
function end(signal: NodeJS.Signals): void {
  child.kill(signal);
  killer ??= setTimeout(() => child.kill("SIGKILL"), GRACE_MS);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => end(signal));
const watch = setInterval(() => {
  if (!isAlive(Number(pid))) end("SIGTERM");
}, 500);
child.once("exit", (code, signal) => {
  clearInterval(watch);
  clearTimeout(killer);
  process.exitCode = code ?? (signal ? 1 : 0);
});
