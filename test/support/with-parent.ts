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
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill(signal));
const watch = setInterval(() => {
  if (!isAlive(Number(pid))) child.kill("SIGTERM");
}, 500);
child.once("exit", (code, signal) => {
  clearInterval(watch);
  process.exitCode = code ?? (signal ? 1 : 0);
});
