// Small builders for engine tests: a Deployment with given env, args or command.
import { type EvaluationContext, evaluate, type Finding } from "../../../src/engine/index.ts";
import { FAKE_NOW } from "../../support/fake-secrets.ts";

export type Env = Record<string, unknown>[];

export function deployment(container: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", ...metadata },
    spec: { template: { spec: { containers: [{ name: "app", image: "registry.example/app:1.0", ...container }] } } },
  };
}

/** Findings for one env var `NAME=value` in a Deployment. */
export function envFindings(name: string, value: string, context: EvaluationContext = {}): Finding[] {
  return evaluate(deployment({ env: [{ name, value }] }), { now: FAKE_NOW, ...context }).findings;
}

export function rulesOf(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.rule);
}
