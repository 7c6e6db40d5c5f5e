// vegeta, the open-loop constant-rate load generator: built once from its Go module into the
// product's tools cache, then driven with a JSON target file.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const VERSION = "v12.13.0";

/** The vegeta binary, installed from its Go module by scripts/go-tool.sh on first use. */
export async function ensureVegeta(): Promise<string> {
  const goTool = fileURLToPath(new URL("../scripts/go-tool.sh", import.meta.url));
  const { stdout } = await run("bash", [goTool, "vegeta", "github.com/tsenart/vegeta/v12", VERSION], {
    timeout: 600_000,
  });
  return stdout.trim();
}

export interface Attack {
  vegeta: string;
  /** A file of JSON targets, one per line. */
  targets: string;
  /** Where the raw results go. */
  output: string;
  caFile: string;
  rate: number;
  seconds: number;
}

export interface LatencyReport {
  rate: number;
  requests: number;
  success: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** One constant-rate attack, bounded by its duration (so rate × seconds requests) and a per-request timeout. */
export async function attack({ vegeta, targets, output, caFile, rate, seconds }: Attack): Promise<LatencyReport> {
  const args = [
    "attack",
    "-format=json",
    `-targets=${targets}`,
    `-rate=${rate}/1s`,
    `-duration=${seconds}s`,
    "-timeout=5s",
    `-root-certs=${caFile}`,
    "-http2=false",
    "-max-workers=2000",
    `-output=${output}`,
  ];
  await run(vegeta, args, { timeout: (seconds + 30) * 1000 });
  const { stdout } = await run(vegeta, ["report", "-type=json", output], { timeout: 60_000 });
  const report = JSON.parse(stdout) as { requests: number; success: number; latencies: Record<string, number> };
  const ms = (key: string) => Math.round((report.latencies[key] ?? Number.NaN) / 1e4) / 100;
  return {
    rate,
    requests: report.requests,
    success: report.success,
    p50Ms: ms("50th"),
    p90Ms: ms("90th"),
    p99Ms: ms("99th"),
    maxMs: ms("max"),
  };
}
