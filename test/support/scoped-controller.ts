// The controller tests' setup: a namespace of their own and an operator whose controller watches only it.
import { afterAll, beforeAll } from "vitest";
import { kubeconfigPath, kubectl, useTestNamespace } from "./cluster.ts";
import { installCrds } from "./crds.ts";
import { type Operator, startOperator } from "./operator.ts";

/**
 * A test namespace and an operator scoped to it, started once the CRDs are installed. On teardown the
 * namespace's policies are deleted first, while the operator still runs to take its finalizer off.
 */
export function useScopedController(prefix: string): { readonly name: string } {
  const ns = useTestNamespace(prefix);
  let operator: Operator | undefined;
  beforeAll(async () => {
    await installCrds();
    operator = await startOperator(kubeconfigPath(), [], { controllerNamespaces: [ns.name] });
  });
  afterAll(async () => {
    await kubectl(["-n", ns.name, "delete", "aap", "--all", "--timeout=30s"]);
    await operator?.stop();
  });
  return ns;
}
