// The test helper that runs the operator must not leave it running when it gives up waiting for it. No
// API server here: a black hole stands in for one that never answers.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { startOperator } from "../support/operator.ts";

const marker = `op-timeout-${randomBytes(4).toString("hex")}`;
const sockets = new Set<Socket>();
let blackHole: Server;
let kubeconfig: string;

/** The processes this test started (the wrapper and the operator): their command lines carry the marker. */
function ours(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

beforeAll(async () => {
  // An "API server" that accepts connections and never answers: the operator never gets ready.
  blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  const { port } = blackHole.address() as { port: number };
  kubeconfig = join(tmpdir(), `${marker}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  );
});

afterAll(async () => {
  // Whatever a failed run left behind is ours to end, by pid.
  for (const pid of ours()) process.kill(pid, "SIGKILL");
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

it("ends the operator, not only its wrapper, when it is not ready in time", async () => {
  await expect(startOperator(kubeconfig, ["--webhook-config-name", marker], { readyTimeoutMs: 3_000 })).rejects.toThrow(
    /was not ready after 3 s/,
  );
  await eventually(() => ours().length === 0, 15_000, "no process of this test left");
}, 30_000);
