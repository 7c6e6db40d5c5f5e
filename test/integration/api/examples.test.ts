// `kubectl apply -f examples/` after `kubectl apply -f crds/`, as the README tells users to do. The examples
// name their namespace, ai-demo, which stays: other test files (the demo) apply the same examples.
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../../support/cluster.ts";
import { installCrds } from "../../support/crds.ts";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));

beforeAll(installCrds);

describe("examples/", () => {
  it("are all accepted by the API server", async () => {
    const applied = await kubectl(["apply", "-f", EXAMPLES]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toBe("");
    for (const name of ["openai", "anthropic", "llm-gateway", "enrichment"]) {
      expect(applied.stdout).toMatch(new RegExp(`aiapipolicy.aiapiguard.dev/${name} (created|configured|unchanged)`));
    }
  });

  it("are listed by kubectl get aap with the printer columns", async () => {
    const listed = await kubectl(["get", "aap", "-n", "ai-demo"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trim().split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "ENDPOINT", "SENSITIVITY", "WORKLOADS", "READY", "AGE"]);
    expect(rows.find((r) => r.startsWith("openai "))).toMatch(/^openai\s+https:\/\/api\.openai\.com\/v1\s+High\s/);
  });
});
