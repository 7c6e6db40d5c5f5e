// What the controller tests do with kubectl, as a user would: apply objects, read one back as JSON,
// and the AiApiPolicy they start from.
import { stringify } from "yaml";
import { kubectl } from "./cluster.ts";

/** `kubectl apply -f -` of these objects, as one multi-document YAML. */
export const applyObjects = (...objects: object[]) =>
  kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });

/** An object as `kubectl get -o json` prints it; undefined when kubectl finds none. */
export async function getObject<T extends object>(namespace: string, ...args: string[]): Promise<T | undefined> {
  const result = await kubectl(["-n", namespace, "get", ...args, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as T) : undefined;
}

/** An AiApiPolicy for https://api.example.com/v1, reviewed on 2026-11-01, with this spec besides. */
export function testPolicy(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name, namespace },
    spec: {
      api: {
        endpoint: "https://api.example.com/v1",
        authType: "APIKey",
        sensitivity: "High",
        lastReviewed: "2026-11-01",
      },
      ...spec,
    },
  };
}
