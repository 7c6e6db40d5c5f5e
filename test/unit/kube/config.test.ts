import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../../src/kube/config.ts";

const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
afterEach(() => {
  for (const [key, value] of Object.entries(saved))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
});

/** A home folder, with a ~/.kube/config holding `kubeconfig` when given; KUBECONFIG unset. */
function home(kubeconfig?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "aag-home-"));
  if (kubeconfig !== undefined) {
    mkdirSync(join(dir, ".kube"));
    writeFileSync(join(dir, ".kube", "config"), kubeconfig);
  }
  process.env.HOME = dir;
  delete process.env.KUBECONFIG;
  return dir;
}

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

const TWO_CONTEXTS = `apiVersion: v1
kind: Config
clusters:
  - {name: c, cluster: {server: "https://127.0.0.1:6443"}}
  - {name: s, cluster: {server: "https://10.0.0.9:6443"}}
users: [{name: u, user: {token: t}}]
contexts:
  - {name: x, context: {cluster: c, user: u}}
  - {name: staging, context: {cluster: s, user: u}}
current-context: x
`;

describe("loadKubeConfig", () => {
  it("says no kubeconfig was found, and what to pass, when the default chain finds none", () => {
    home();
    // client-node falls back to http://localhost:8080, which it then refuses to call: the user would
    // read "HTTP protocol is not allowed" under a message about the CRD.
    expect(() => loadKubeConfig()).toThrow(
      "no kubeconfig found: KUBECONFIG is not set, there is no ~/.kube/config and no in-cluster service account; pass --kubeconfig PATH",
    );
  });

  it("reads ~/.kube/config when KUBECONFIG is not set", () => {
    home(KUBECONFIG);
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("names the file it cannot read", () => {
    expect(() => loadKubeConfig("/nonexistent/kubeconfig")).toThrow(
      /^cannot read the kubeconfig \/nonexistent\/kubeconfig: .*; pass --kubeconfig PATH$/,
    );
  });

  it("takes a context other than the current one, as kubectl --context does, and names the known ones when it is not there", () => {
    const path = join(mkdtempSync(join(tmpdir(), "aag-contexts-")), "config");
    writeFileSync(path, TWO_CONTEXTS);
    expect(loadKubeConfig(path).getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    expect(loadKubeConfig(path, "staging").getCurrentCluster()?.server).toBe("https://10.0.0.9:6443");
    expect(() => loadKubeConfig(path, "prod")).toThrow(
      `the kubeconfig ${path} has no context "prod" (it has: x, staging); pass one of them to --context`,
    );
  });
});
