// npm run bench:scan — what the rules cost next to parsing, and one evaluation on the admission path.
// Not a test: figures go to docs/benchmarks.md with the machine they came from.
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseAllDocuments, stringify } from "yaml";
import { evaluate } from "../src/engine/index.ts";
import { fakeSecrets, seeded } from "../test/support/fake-secrets.ts";

const MANIFESTS = 2_400;
const DIRTY_EVERY = 10;
const ROUNDS = 7;
const SINGLE_ITERATIONS = 20_000;

const random = seeded(42);
const fake = Object.values(fakeSecrets(42));

function env(i: number, dirty: boolean) {
  const vars = [
    { name: "LOG_LEVEL", value: "info" },
    { name: "PORT", value: String(8000 + (i % 100)) },
    { name: "UPSTREAM_URL", value: `http://svc-${i % 37}.apps.svc.cluster.local:8080` },
    { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://otel-collector.observability.svc:4317" },
    { name: "FEATURE_FLAGS", value: "search-v2,checkout-beta" },
    { name: "BUILD_SHA", value: random(40, "0123456789abcdef") },
    { name: "API_KEY", valueFrom: { secretKeyRef: { name: "api", key: "key" } } },
    { name: "HTTPS_PROXY", value: "http://proxy.corp.example.com:3128" },
  ];
  if (dirty) vars.push({ name: "OPENAI_API_KEY", value: fake[i % fake.length] ?? "" });
  return vars;
}

function podSpec(i: number, dirty: boolean) {
  return {
    containers: [
      {
        name: "app",
        image: `registry.example.com/team/app-${i}:1.${i % 10}.0`,
        args: ["--listen=0.0.0.0:8080", `--config=/etc/app/config-${i}.yaml`],
        env: env(i, dirty),
        resources: { requests: { cpu: "100m", memory: "128Mi" } },
      },
    ],
  };
}

function manifest(i: number): unknown {
  const dirty = i % DIRTY_EVERY === 0;
  const metadata = { name: `app-${i}`, namespace: `team-${i % 20}`, labels: { app: `app-${i}` } };
  const template = { metadata: { labels: metadata.labels }, spec: podSpec(i, dirty) };
  switch (i % 6) {
    case 0:
      return { apiVersion: "apps/v1", kind: "Deployment", metadata, spec: { replicas: 2, template } };
    case 1:
      return { apiVersion: "apps/v1", kind: "StatefulSet", metadata, spec: { serviceName: metadata.name, template } };
    case 2:
      return {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata,
        spec: { schedule: "0 * * * *", jobTemplate: { spec: { template } } },
      };
    case 3: {
      const data = {
        "app.properties": `server.port=8080\ncache.ttl=300\nupstream=https://api.example.com\n${dirty ? `api.key=${fake[i % fake.length]}\n` : ""}`,
      };
      return { apiVersion: "v1", kind: "ConfigMap", metadata, data };
    }
    case 4:
      return {
        apiVersion: "v1",
        kind: "Service",
        metadata,
        spec: { selector: metadata.labels, ports: [{ port: 80, targetPort: 8080 }] },
      };
    default:
      return { apiVersion: "v1", kind: "Pod", metadata, spec: podSpec(i, dirty) };
  }
}

/** A ~10 KB Deployment: three containers with many env vars, args and a shell command. */
function largeDeployment() {
  const containers = ["api", "worker", "sidecar"].map((name, c) => ({
    name,
    image: `registry.example.com/team/${name}:2.4.1`,
    command: ["sh", "-c", `exec /app/${name} --config /etc/app/config.yaml --log-format json`],
    args: ["--metrics-port=9090", "--upstream=https://api.example.com/v1", `--shard=${c}`],
    env: Array.from({ length: 50 }, (_, i) => ({
      name: `SETTING_${name.toUpperCase()}_${i}`,
      value: i % 5 === 0 ? `http://dep-${i}.apps.svc.cluster.local:80${i}` : `value-${random(12)}`,
    })),
  }));
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "large", namespace: "bench" },
    spec: { template: { spec: { containers } } },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Times `run` in milliseconds. */
function time(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const corpus = Array.from({ length: MANIFESTS }, (_, i) => stringify(manifest(i))).join("---\n");
const megabytes = Buffer.byteLength(corpus) / 1e6;

// Parsing and evaluating are timed alternately in each round, so a busy neighbour slows both alike;
// the medians of the rounds are reported.
const parseTimes: number[] = [];
const evaluateTimes: number[] = [];
let findings = 0;
for (let round = 0; round <= ROUNDS; round++) {
  let objects: unknown[] = [];
  const parsing = time(() => {
    objects = parseAllDocuments(corpus).map((doc) => doc.toJS());
  });
  const evaluating = time(() => {
    findings = 0;
    for (const object of objects) findings += evaluate(object).findings.length;
  });
  if (round === 0) continue; // warm-up
  parseTimes.push(parsing);
  evaluateTimes.push(evaluating);
}
const parseOnly = median(parseTimes);
const evaluateOnly = median(evaluateTimes);

const large = largeDeployment();
const largeKb = Buffer.byteLength(JSON.stringify(large)) / 1024;
for (let i = 0; i < 2_000; i++) evaluate(large);
// Wall time is what admission sees; CPU time (process.cpuUsage) leaves out the time a busy machine
// gave to other processes, so it shows the engine's own cost when the two differ.
const wall = new Float64Array(SINGLE_ITERATIONS);
const cpu = new Float64Array(SINGLE_ITERATIONS);
for (let i = 0; i < SINGLE_ITERATIONS; i++) {
  const cpuStart = process.cpuUsage();
  const started = process.hrtime.bigint();
  evaluate(large);
  wall[i] = Number(process.hrtime.bigint() - started) / 1e3;
  const used = process.cpuUsage(cpuStart);
  cpu[i] = used.user + used.system;
}
wall.sort();
cpu.sort();
const percentile = (samples: Float64Array, p: number) =>
  (samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0).toFixed(1);

const row = (label: string, ms: number) =>
  `| ${label} | ${(megabytes / (ms / 1000)).toFixed(1)} MB/s | ${((ms * 1000) / MANIFESTS).toFixed(1)} µs | ${ms.toFixed(0)} ms |`;
console.log(
  [
    `machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at the end`,
    `corpus: ${MANIFESTS} manifests (${megabytes.toFixed(2)} MB, every ${DIRTY_EVERY}th dirty), ${findings} findings; median of ${ROUNDS} rounds`,
    "",
    "| step | throughput | per object | whole corpus |",
    "|---|---|---|---|",
    row("parse only (yaml parseAllDocuments + toJS)", parseOnly),
    row("evaluate only (the parsed objects)", evaluateOnly),
    row("parse + evaluate", parseOnly + evaluateOnly),
    "",
    `rules add ${((evaluateOnly / parseOnly) * 100).toFixed(1)}% to parsing (goal < 50%)`,
    `evaluate(${largeKb.toFixed(1)} KB Deployment) over ${SINGLE_ITERATIONS} runs (goal p99 < 200 µs):`,
    `  wall time p50 ${percentile(wall, 0.5)} µs, p99 ${percentile(wall, 0.99)} µs`,
    `  CPU time  p50 ${percentile(cpu, 0.5)} µs, p99 ${percentile(cpu, 0.99)} µs`,
  ].join("\n"),
);
