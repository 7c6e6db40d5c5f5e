// npm run image:test — builds the container image (scripts/image.sh) and runs it the ways a user does:
// `--version`, the uid it runs as, a `scan` of a mounted file, and `run` in the in-cluster environment
// (a ServiceAccount token and the cluster CA where Kubernetes mounts them, KUBERNETES_SERVICE_HOST/PORT,
// the chart's settings) against a local API server, until the webhook answers over TLS with the
// certificate the operator made for <service>.<namespace>.svc. With no Docker engine it runs the image
// with buildah (vfs, chroot: the host's network, so 127.0.0.1 is the local API server), and removes the
// containers and images afterwards. .ci/run calls it after `npm test`; exit 0 only when every check passed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { freePort } from "../test/controlplane/ports.ts";
import { fakeSecrets } from "../test/support/fake-secrets.ts";
import { CHART, KUBE_VERSION } from "./manifests.ts";

const root = new URL("../", import.meta.url).pathname;
const version = JSON.parse(readFileSync(`${root}package.json`, "utf8")).version as string;
const BASE_TAG = "localhost/ai-api-guard-base:node24";
const docker = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const env = {
  ...process.env,
  STORAGE_DRIVER: process.env.STORAGE_DRIVER ?? "vfs",
  BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? "chroot",
};
const results: string[] = [];

function check(what: string, ok: boolean, detail = ""): void {
  results.push(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  console.log(results.at(-1));
  if (!ok) process.exitCode = 1;
}

interface RunOptions {
  volumes?: [string, string][];
  env?: Record<string, string>;
}

/** The image's entrypoint with `args`, as `docker run` would start it (host network). */
function runArgs(tag: string, args: string[], options: RunOptions, entrypoint: string[]): [string, string[]] {
  const volumes = options.volumes ?? [];
  const vars = Object.entries(options.env ?? {});
  if (docker) {
    return [
      "docker",
      [
        "run",
        "--rm",
        "--network",
        "host",
        "--read-only",
        ...volumes.flatMap(([h, c]) => ["-v", `${h}:${c}:ro`]),
        ...vars.flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        tag,
        ...args,
      ],
    ];
  }
  const container = execFileSync("buildah", ["from", "--quiet", tag], { env, encoding: "utf8" }).trim();
  containers.push(container);
  return [
    "buildah",
    [
      "run",
      ...volumes.flatMap(([h, c]) => ["--volume", `${h}:${c}:ro`]),
      ...vars.flatMap(([k, v]) => ["--env", `${k}=${v}`]),
      container,
      "--",
      ...entrypoint,
      ...args,
    ],
  ];
}
const containers: string[] = [];

function runOnce(tag: string, entrypoint: string[], args: string[], options: RunOptions = {}) {
  const [command, argv] = runArgs(tag, args, options, entrypoint);
  return spawnSync(command, argv, { env, encoding: "utf8" });
}

/** GET over TLS, trusting only `ca` and checking the name `servername`; the status code, or the error. */
function tlsGet(port: number, path: string, ca: string, servername: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, ca, servername, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on("error", (error) => resolve(error.message));
    req.end();
  });
}

/** A temporary folder the image's user (uid 65532) can read: mkdtemp makes it 0700. */
function readableTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

async function inCluster(tag: string, entrypoint: string[]): Promise<void> {
  const plane = await startControlPlane();
  let operator: ChildProcess | undefined;
  try {
    const kubectl = (...args: string[]) =>
      execFileSync(`${plane.binDir}/kubectl`, ["--kubeconfig", plane.kubeconfig, ...args], { encoding: "utf8" });
    kubectl("apply", "--server-side", "-f", `${root}crds/`);
    const namespace = "ai-api-guard";
    kubectl("create", "namespace", namespace);
    const rendered = execFileSync(
      `${plane.binDir}/helm`,
      ["template", "ai-api-guard", CHART, "--namespace", namespace, "--kube-version", KUBE_VERSION, "--no-hooks"],
      { encoding: "utf8" },
    );
    execFileSync(`${plane.binDir}/kubectl`, ["--kubeconfig", plane.kubeconfig, "apply", "-f", "-"], {
      input: rendered,
      encoding: "utf8",
    });

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    const token = await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
      namespace,
      name: "ai-api-guard",
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    // Readable by the image's non-root user, as the kubelet mounts them (0644).
    const mounted = readableTempDir("aag-image-sa-");
    writeFileSync(join(mounted, "token"), token.status?.token ?? "");
    writeFileSync(join(mounted, "ca.crt"), Buffer.from(kc.getCurrentCluster()?.caData ?? "", "base64"));
    writeFileSync(join(mounted, "namespace"), namespace);

    const deployment = parseAllDocuments(rendered)
      .map((d) => d.toJS())
      .find((o) => o?.kind === "Deployment");
    const chartEnv: Record<string, string> = {};
    for (const entry of deployment.spec.template.spec.containers[0].env)
      chartEnv[entry.name] = entry.value ?? namespace;
    const [port, metricsPort] = [await freePort(), await freePort()];
    const server = new URL(plane.server);
    const [command, argv] = runArgs(
      tag,
      deployment.spec.template.spec.containers[0].args,
      {
        // Where Kubernetes mounts them; /var/run is a link to /run in the image, which buildah's chroot
        // mounts do not follow, so the same folder is named by its real path.
        volumes: [[mounted, "/run/secrets/kubernetes.io/serviceaccount"]],
        env: {
          ...chartEnv,
          KUBERNETES_SERVICE_HOST: server.hostname,
          KUBERNETES_SERVICE_PORT: server.port,
          AI_API_GUARD_PORT: String(port),
          AI_API_GUARD_METRICS_PORT: String(metricsPort),
        },
      },
      entrypoint,
    );
    let output = "";
    operator = spawn(command, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    operator.stdout?.on("data", (chunk) => (output += chunk));
    operator.stderr?.on("data", (chunk) => (output += chunk));

    const ready = await until(
      async () =>
        (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.ok ? true : undefined,
      60_000,
    );
    check(
      "run in the in-cluster environment: /readyz on the plain-HTTP port",
      ready === true,
      ready ? "" : output.slice(-2000),
    );
    const secret = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace, name: "ai-api-guard-tls" });
    const ca = Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64").toString();
    const answer = await tlsGet(port, "/healthz", ca, `ai-api-guard.${namespace}.svc`);
    check(
      "the webhook answers over TLS with its own certificate for ai-api-guard.ai-api-guard.svc",
      answer === 200,
      String(answer),
    );
    check(
      "no request of the operator was forbidden (the chart's RBAC, the ServiceAccount token)",
      !/\b403\b|forbidden/i.test(output),
    );
  } finally {
    operator?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1_000));
    await plane.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const tag =
    execFileSync("bash", [`${root}scripts/image.sh`], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
      .trim()
      .split("\n")
      .at(-1) ?? "";
  check("npm run image builds", tag !== "", `${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const config = docker
    ? JSON.parse(execFileSync("docker", ["image", "inspect", tag], { encoding: "utf8" }))[0].Config
    : JSON.parse(execFileSync("buildah", ["inspect", "--type", "image", tag], { env, encoding: "utf8" })).OCIv1.config;
  const entrypoint = config.Entrypoint as string[];
  const size = docker
    ? execFileSync("docker", ["image", "ls", tag, "--format", "{{.Size}}"], { encoding: "utf8" }).trim()
    : execFileSync("buildah", ["images", "--format", "{{.Size}}", tag], { env, encoding: "utf8" }).trim();
  console.log(`image ${tag}: ${size}, entrypoint ${JSON.stringify(entrypoint)}`);

  const versionRun = runOnce(tag, entrypoint, ["--version"]);
  check("--version", versionRun.stdout.trim() === version, versionRun.stdout.trim() || versionRun.stderr);
  const uid = runOnce(tag, ["node", "-e", "process.stdout.write(String(process.getuid()))"], []);
  check("runs as a non-root uid", uid.stdout === "65532", uid.stdout || uid.stderr);

  const dir = readableTempDir("aag-image-scan-");
  mkdirSync(join(dir, "manifests"), { mode: 0o755 });
  const key = fakeSecrets(7).openai as string;
  writeFileSync(
    join(dir, "manifests", "deploy.yaml"),
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: summarizer, namespace: ml}\nspec:\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n    spec:\n      containers:\n        - name: app\n          image: example/s:1\n          env: [{name: OPENAI_API_KEY, value: "${key}"}]\n`,
  );
  const scan = runOnce(tag, entrypoint, ["scan", "--format", "json", "/scan/manifests"], { volumes: [[dir, "/scan"]] });
  const findings = scan.status === 1 ? (JSON.parse(scan.stdout).findings as { rule: string }[]) : [];
  check(
    "scan of a mounted folder finds the hardcoded key (exit 1), without printing it",
    findings.some((f) => f.rule === "hardcoded-secret") && !scan.stdout.includes(key),
    `exit ${scan.status}`,
  );

  await inCluster(tag, entrypoint);
}

// KEEP_IMAGES=1 leaves the images in buildah's storage (for a second run while working on this script).
try {
  await main();
} catch (error) {
  check("image test", false, (error as Error).stack ?? String(error));
} finally {
  // vfs storage keeps a full copy per layer: remove what this run made.
  for (const container of containers) spawnSync("buildah", ["rm", container], { env, stdio: "ignore" });
  if (!docker && !process.env.KEEP_IMAGES) {
    spawnSync("buildah", ["rmi", "--force", `localhost/ai-api-guard:${version}`, BASE_TAG], { env, stdio: "ignore" });
    spawnSync("buildah", ["rmi", "--prune"], { env, stdio: "ignore" });
  }
  console.log(
    `\n${results.filter((r) => r.startsWith("ok")).length} passed, ${results.filter((r) => r.startsWith("FAIL")).length} failed`,
  );
}
