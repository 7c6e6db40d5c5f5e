// Owns one local cluster: etcd and kube-apiserver started the way controller-runtime's envtest
// starts them, then (unless --api-only) kube-controller-manager, kube-scheduler and kwok with one
// fake node, so Deployments get Pods that reach Running, owned objects are garbage-collected and
// namespaces delete. It writes <dir>/state.json once the API server is ready (and, for the full
// cluster, the fake node is Ready), and stops every process on SIGTERM/SIGINT, when a process it
// started dies, or when the process it watches (the test run) is gone, so an interrupted run
// leaves no orphans.
//
// usage: node supervisor.ts <dir> <binDir> [--watch-pid PID] [--api-only]
// With --watch-pid the dir is the run's own temp dir and is removed on shutdown.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { createCertificateAuthority, createSigningKeyPair, issueCertificate } from "../../src/tls/certificates.ts";
import { freePort } from "./ports.ts";
import { type ControlPlaneState, isAlive, writeState } from "./state.ts";

const [dir, binDir, ...flags] = process.argv.slice(2);
if (!dir || !binDir) {
  console.error("usage: node supervisor.ts <dir> <binDir> [--watch-pid PID] [--api-only]");
  process.exit(2);
}
const watchPidAt = flags.indexOf("--watch-pid");
const watchPid = watchPidAt >= 0 ? Number(flags[watchPidAt + 1]) : undefined;
const apiOnly = flags.includes("--api-only");
const children: ChildProcess[] = [];
let stopping = false;

function start(name: string, args: string[]): ChildProcess {
  const log = openSync(join(dir as string, `${name}.log`), "a");
  const child = spawn(join(binDir as string, name), args, {
    stdio: ["ignore", log, log],
    env: { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" },
  });
  child.once("exit", (code, signal) => {
    if (!stopping) void shutdown(`${name} exited (code ${code}, signal ${signal}); ${logTail(name)}`, 1);
  });
  children.push(child);
  return child;
}

function logTail(name: string): string {
  const path = join(dir as string, `${name}.log`);
  const lines = readFileSync(path, "utf8").trimEnd().split("\n").slice(-5);
  return `last lines of ${path}:\n${lines.join("\n")}`;
}

function get(url: string, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const done = (status: number) => resolve(status);
    const req = (url.startsWith("https") ? request : httpRequest)(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("error", () => done(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, url: string, ca: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await get(url, ca)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready at ${url} after ${timeoutMs / 1000} s; ${logTail(what)}`);
}

async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  writeState(dir as string, { phase: code === 0 ? "stopped" : "failed", message: reason, supervisorPid: process.pid });
  // Everything that talks to etcd first, together, so nothing logs etcd connection errors on its way
  // down and a stop takes at most two grace periods.
  const [etcd, ...rest] = children;
  await Promise.all(rest.map(stopChild));
  if (etcd) await stopChild(etcd);
  // A failed start keeps its logs for diagnosis.
  if (watchPid && code === 0) rmSync(dir as string, { recursive: true, force: true });
  process.exit(code);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 4000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const d = dir as string;
  mkdirSync(join(d, "pki"), { recursive: true });
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];

  const ca = await createCertificateAuthority("ai-api-guard-local-ca");
  const serving = await issueCertificate(ca, {
    subject: "CN=kube-apiserver",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1", "10.0.0.1"],
    usage: "server",
  });
  const admin = await issueCertificate(ca, { subject: "CN=admin, O=system:masters", usage: "client" });
  const sa = await createSigningKeyPair();
  const pki = (name: string, content: string) => {
    const path = join(d, "pki", name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  start("etcd", [
    "--name=default",
    `--data-dir=${join(d, "etcd-data")}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ]);
  await waitFor("etcd", `http://127.0.0.1:${etcdClient}/health`, undefined, 30_000);

  const server = `https://127.0.0.1:${apiPort}`;
  start("kube-apiserver", [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--tls-cert-file=${pki("apiserver.crt", serving.certPem)}`,
    `--tls-private-key-file=${pki("apiserver.key", serving.keyPem)}`,
    `--client-ca-file=${pki("ca.crt", ca.certPem)}`,
    `--secure-port=${apiPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--authorization-mode=RBAC",
    "--disable-admission-plugins=ServiceAccount",
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${pki("sa.pub", sa.publicKeyPem)}`,
    `--service-account-signing-key-file=${pki("sa.key", sa.privateKeyPem)}`,
    "--v=0",
  ]);
  await waitFor("kube-apiserver", `${server}/readyz`, ca.certPem, 90_000);

  const kubeconfig = writeKubeconfig(d, server, ca.certPem, admin);
  if (!apiOnly) await startNodeComponents(kubeconfig);
  const state: ControlPlaneState = {
    phase: "ready",
    supervisorPid: process.pid,
    pids: children.map((c) => c.pid ?? 0),
    server,
    kubeconfig,
    binDir: binDir as string,
    components: children.map((c) => c.spawnfile.split("/").pop() ?? ""),
  };
  writeState(d, state);
}

function writeKubeconfig(d: string, server: string, caPem: string, admin: { certPem: string; keyPem: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const kubeconfig = join(d, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server, "certificate-authority-data": b64(caPem) } }],
      users: [
        {
          name: "admin",
          user: { "client-certificate-data": b64(admin.certPem), "client-key-data": b64(admin.keyPem) },
        },
      ],
      contexts: [{ name: "ai-api-guard-local", context: { cluster: "local", user: "admin", namespace: "default" } }],
      "current-context": "ai-api-guard-local",
    }),
    { mode: 0o600 },
  );
  return kubeconfig;
}

/** The fake node kwok manages: room for a few hundred pods, no taint (it is the only node). */
const fakeNode = {
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name: "kwok-node-0",
    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: { "kubernetes.io/hostname": "kwok-node-0", "kubernetes.io/os": "linux", type: "kwok" },
  },
  status: {
    allocatable: { cpu: "64", memory: "256Gi", pods: "500" },
    capacity: { cpu: "64", memory: "256Gi", pods: "500" },
  },
};

async function startNodeComponents(kubeconfig: string): Promise<void> {
  // No cloud, and no service-account token controller (the harness mints no token secrets); the
  // rest (garbage collector, namespace, deployment, replicaset, job, cronjob, endpoints, ...) runs.
  start("kube-controller-manager", [
    `--kubeconfig=${kubeconfig}`,
    "--leader-elect=false",
    "--controllers=*,-serviceaccount-token",
    "--secure-port=0",
    "--use-service-account-credentials=false",
    "--concurrent-gc-syncs=5",
    "--v=0",
  ]);
  start("kube-scheduler", [`--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0", "--v=0"]);
  start("kwok", [
    `--kubeconfig=${kubeconfig}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--node-ip=10.0.1.1",
    "--cidr=10.244.0.0/16",
    "--server-address=127.0.0.1:0",
    `--config=${join(binDir as string, "kwok-stages.yaml")}`,
  ]);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNode({ body: fakeNode });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const node = await core.readNode({ name: fakeNode.metadata.name });
    if (node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the fake node did not become Ready in 60 s; ${logTail("kwok")}`);
}

process.on("SIGTERM", () => void shutdown("stopped by SIGTERM", 0));
process.on("SIGINT", () => void shutdown("stopped by SIGINT", 0));
if (watchPid) {
  setInterval(() => {
    if (!isAlive(watchPid)) void shutdown(`the process that started it (pid ${watchPid}) is gone`, 0);
  }, 500).unref();
}
main().catch((error: unknown) => void shutdown(error instanceof Error ? error.message : String(error), 1));
