// What the hostile-load benchmarks share: the heavy Pod and latency arithmetic.
import { randomBytes } from "node:crypto";

/** A Pod with `count` env vars whose names say credential and whose values look random: each one a finding. */
export function credentialPod(name: string, namespace: string, count = 15_000) {
  const env = Array.from({ length: count }, (_, i) => ({
    name: `SERVICE_${i}_API_KEY`,
    value: randomBytes(24).toString("base64url"),
  }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: { containers: [{ name: "app", image: "registry.example/app:1", env }] },
  };
}

/** Milliseconds since `start` (a process.hrtime.bigint()). */
export const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) * 10) / 10;
}
