// listPages against a server that sheds load: the real API server cannot be made to answer 429 on cue
// (it does while a new CRD's storage initializes, or under load), so a local HTTP server plays that part.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIGMAP_TYPE, listPages } from "../../../src/kube/pages.ts";

let tooMany = 0;
const requests: string[] = [];
const server = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  requests.push(req.url ?? "");
  if (tooMany > 0) {
    tooMany--;
    res.statusCode = 429;
    res.setHeader("retry-after", "1");
    res.end(
      JSON.stringify({
        kind: "Status",
        status: "Failure",
        reason: "TooManyRequests",
        code: 429,
        message: "storage is (re)initializing",
      }),
    );
    return;
  }
  const second = req.url?.includes("continue=") ?? false;
  res.end(
    JSON.stringify({
      kind: "ConfigMapList",
      apiVersion: "v1",
      metadata: second ? {} : { continue: "page-2" },
      items: [{ metadata: { name: second ? "b" : "a", namespace: "ns" } }],
    }),
  );
});

let kc: k8s.KubeConfig;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function names(): Promise<string[]> {
  const out: string[] = [];
  for await (const page of listPages(kc, CONFIGMAP_TYPE, { pageSize: 1 }))
    out.push(...page.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`));
  return out;
}

describe("listPages", () => {
  it("follows continue tokens page by page, with limit, and sets kind on every item", async () => {
    requests.length = 0;
    expect(await names()).toEqual(["ConfigMap/a", "ConfigMap/b"]);
    expect(requests).toEqual(["/api/v1/configmaps?limit=1", "/api/v1/configmaps?limit=1&continue=page-2"]);
  });

  it("waits out a 429 as long as Retry-After says, then carries on", async () => {
    tooMany = 1;
    const started = Date.now();
    expect(await names()).toEqual(["ConfigMap/a", "ConfigMap/b"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
