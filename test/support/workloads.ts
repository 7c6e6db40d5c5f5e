// Manifests the cluster tests apply with kubectl.
import type { PolicyReportObject } from "../../src/audit/report.ts";
import { kubectl } from "./cluster.ts";

/** A Deployment whose pods are labelled app=<name> (plus `labels`), with one container and these env entries (YAML flow). */
export function deploymentYaml(namespace: string, name: string, env: string, labels = ""): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${labels ? `, ${labels}` : ""}}}
    spec:
      containers: [{name: app, image: app:1, env: [${env}]}]
`;
}

/** kubectl apply -f - of the YAML; throws with kubectl's error. */
export async function applyYaml(yaml: string): Promise<void> {
  const applied = await kubectl(["apply", "-f", "-"], { input: yaml });
  if (applied.code !== 0) throw new Error(applied.stderr);
}

/** An AiApiPolicy for https://api.openai.com/v1 selecting pods labelled app=<app>; `extra` adds spec lines. */
export function openaiPolicyYaml(namespace: string, app: string, extra = ""): string {
  return `
apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: openai, namespace: ${namespace}}
spec:
  api: {endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: High}
  selector: {matchLabels: {app: ${app}}}
${extra}`;
}

/** The audit's Report in the namespace, as kubectl gets it, or undefined when there is none. */
export async function auditReport(
  namespace: string,
): Promise<(PolicyReportObject & { metadata: { resourceVersion: string } }) | undefined> {
  const got = await kubectl(["get", "reports.openreports.io", "ai-api-guard", "-n", namespace, "-o", "json"]);
  return got.code === 0 ? JSON.parse(got.stdout) : undefined;
}

/** The Events of the namespace that match a field selector (e.g. reason=CredentialExposed). */
export async function eventsWhere(namespace: string, fieldSelector: string) {
  const listed = await kubectl(["get", "events", "-n", namespace, "--field-selector", fieldSelector, "-o", "json"]);
  return (
    JSON.parse(listed.stdout).items as {
      reason: string;
      involvedObject: { kind: string; name: string };
      message: string;
    }[]
  ).map((e) => ({ reason: e.reason, kind: e.involvedObject.kind, name: e.involvedObject.name, message: e.message }));
}
