// The AiApiPolicy CRD on a real kube-apiserver: it installs, serves its names, documents its fields,
// applies its defaults and refuses every invalid spec with the field named.

import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CRD_NAME } from "../../../src/api/index.ts";
import {
  INVALID_SPECS,
  invalidPolicy,
  MINIMAL_SPEC_DEFAULTED,
  minimalPolicy,
  validPolicy,
} from "../../fixtures/policies.ts";
import { kubectl, useTestNamespace } from "../../support/cluster.ts";
import { installCrds } from "../../support/crds.ts";

const ns = useTestNamespace("api");

beforeAll(installCrds);

/** kubectl explain reads the OpenAPI the server publishes a moment after the CRD is Established. */
async function explain(field: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const result = await kubectl(["explain", field]);
    if (result.code === 0 || attempt === 30) return result.stdout + result.stderr;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("the AiApiPolicy CRD", () => {
  it("is Established, with its short name and category", async () => {
    const crd = JSON.parse((await kubectl(["get", "crd", CRD_NAME, "-o", "json"])).stdout);
    const established = crd.status.conditions.find((c: { type: string }) => c.type === "Established");
    expect(established.status).toBe("True");
    expect(crd.status.acceptedNames).toMatchObject({ shortNames: ["aap"], categories: ["ai-api-guard"] });
  });

  it("teaches the user through kubectl explain", async () => {
    const text = await explain("aiapipolicy.spec.egress.cidrs");
    expect(text).toContain("FIELD: cidrs <[]string>");
    expect(text).toContain("Address blocks the API lives in");
  });

  it("applies the defaults to a minimal spec", async () => {
    const minimal = minimalPolicy("minimal", ns.name);
    const created = await kubectl(["create", "-f", "-", "-o", "json"], { input: JSON.stringify(minimal) });
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).spec).toEqual(MINIMAL_SPEC_DEFAULTED);
  });

  it.each(INVALID_SPECS)("refuses $name, naming $field", async (c) => {
    const policy = invalidPolicy(c, "invalid", ns.name);
    const result = await kubectl(["create", "-f", "-"], { input: stringify(policy) });
    expect(result.code, `the server accepted ${c.name}`).not.toBe(0);
    // The field, or a map entry in it (matchLabels[app]: a record's key is named by the server only).
    const named = [`${c.field}:`, `${c.field}[`].some((text) => result.stderr.includes(text));
    expect(named, result.stderr).toBe(true);
  });

  it("accepts a future lastReviewed without the webhook: CEL in CRDs has no clock (the webhook refuses it)", async () => {
    const policy = validPolicy("reviewed-in-future", ns.name);
    policy.spec.api.lastReviewed = "2999-01-01";
    const created = await kubectl(["create", "-f", "-"], { input: stringify(policy) });
    expect(created.code, created.stderr).toBe(0);
  });

  it("is listed by its category and selectable by sensitivity", async () => {
    const listed = await kubectl(["get", "ai-api-guard", "-n", ns.name, "-o", "name"]);
    expect(listed.stdout).toContain("aiapipolicy.aiapiguard.dev/minimal");
    const selected = await kubectl([
      "get",
      "aap",
      "-n",
      ns.name,
      "--field-selector",
      "spec.api.sensitivity=Low",
      "-o",
      "name",
    ]);
    expect(selected.code, selected.stderr).toBe(0);
    expect(selected.stdout.trim()).toBe("aiapipolicy.aiapiguard.dev/minimal");
  });
});
