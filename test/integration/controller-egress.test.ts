// What the NetworkPolicy the controller writes means, asked of an independent analyzer (cyclonus,
// query-traffic mode) rather than compared as YAML: the selected pods reach the API's CIDR on its
// TLS port and kube-dns on 53, nothing else; pods the policy does not select are untouched.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { stringify } from "yaml";
import { kubectl } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";
import { useScopedController } from "../support/scoped-controller.ts";
import { cyclonus } from "../support/tools.ts";

const ns = useScopedController("ctl-eg");

const policy = (name: string, egress: Record<string, unknown>) => ({
  apiVersion: "aiapiguard.dev/v1alpha1",
  kind: "AiApiPolicy",
  metadata: { name, namespace: ns.name },
  spec: {
    api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low", lastReviewed: "2026-11-01" },
    selector: { matchLabels: { app: "agent" } },
    egress,
  },
});

interface Flow {
  what: string;
  from: Record<string, string>;
  to: { ip: string; pod?: { namespace: string; labels: Record<string, string> } };
  protocol: "TCP" | "UDP";
  port: number;
}

/** cyclonus's verdict for each flow, in order, on the policies in `policyFile`. */
async function verdicts(policyFile: string, flows: Flow[]): Promise<Record<string, boolean>> {
  const internal = (namespace: string, labels: Record<string, string>) => ({
    PodLabels: labels,
    NamespaceLabels: { "kubernetes.io/metadata.name": namespace },
    Namespace: namespace,
  });
  const traffic = flows.map((f) => ({
    Source: { Internal: internal(ns.name, f.from), IP: "10.244.0.5" },
    Destination: { ...(f.to.pod && { Internal: internal(f.to.pod.namespace, f.to.pod.labels) }), IP: f.to.ip },
    Protocol: f.protocol,
    ResolvedPort: f.port,
  }));
  const trafficFile = join(mkdtempSync(join(tmpdir(), "cyclonus-")), "traffic.json");
  writeFileSync(trafficFile, JSON.stringify(traffic));
  const { stdout } = await promisify(execFile)(
    await cyclonus(),
    ["analyze", "--mode", "query-traffic", "--policy-path", policyFile, "--traffic-path", trafficFile],
    { maxBuffer: 16 << 20 },
  );
  const answers = [...stdout.matchAll(/IS ALLOWED\? \|\s+(TRUE|FALSE)/g)].map((m) => m[1] === "TRUE");
  expect(answers).toHaveLength(flows.length);
  return Object.fromEntries(flows.map((f, i) => [f.what, answers[i] as boolean]));
}

it("allows the selected pods the CIDR on 443 and kube-dns on 53, nothing else, and leaves other pods alone", async () => {
  await kubectl(["apply", "-f", "-"], { input: stringify(policy("agent", { cidrs: ["203.0.113.0/24"] })) });
  const written = await eventually(async () => {
    const got = await kubectl(["-n", ns.name, "get", "networkpolicy", "aiapiguard-agent", "-o", "yaml"]);
    return got.code === 0 ? got.stdout : undefined;
  }, 30_000);
  const policyFile = join(mkdtempSync(join(tmpdir(), "netpol-")), "networkpolicy.yaml");
  writeFileSync(policyFile, written);

  const agent = { app: "agent" };
  const dns = { ip: "10.0.0.10", pod: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } } };
  const api = { ip: "203.0.113.7" };
  expect(
    await verdicts(policyFile, [
      { what: "API on 443", from: agent, to: api, protocol: "TCP", port: 443 },
      { what: "kube-dns on 53/UDP", from: agent, to: dns, protocol: "UDP", port: 53 },
      { what: "kube-dns on 53/TCP", from: agent, to: dns, protocol: "TCP", port: 53 },
      { what: "API on 80", from: agent, to: api, protocol: "TCP", port: 80 },
      { what: "another address on 443", from: agent, to: { ip: "198.51.100.1" }, protocol: "TCP", port: 443 },
      { what: "kube-dns on 443", from: agent, to: dns, protocol: "TCP", port: 443 },
      {
        what: "another kube-system pod on 53",
        from: agent,
        to: { ip: "10.0.0.11", pod: { namespace: "kube-system", labels: { "k8s-app": "metrics" } } },
        protocol: "UDP",
        port: 53,
      },
      {
        what: "a pod of its own namespace",
        from: agent,
        to: { ip: "10.244.0.9", pod: { namespace: ns.name, labels: { app: "db" } } },
        protocol: "TCP",
        port: 5432,
      },
      {
        what: "unselected pod, anywhere",
        from: { app: "other" },
        to: { ip: "198.51.100.1" },
        protocol: "TCP",
        port: 80,
      },
    ]),
  ).toEqual({
    "API on 443": true,
    "kube-dns on 53/UDP": true,
    "kube-dns on 53/TCP": true,
    "API on 80": false,
    "another address on 443": false,
    "kube-dns on 443": false,
    "another kube-system pod on 53": false,
    "a pod of its own namespace": false,
    "unselected pod, anywhere": true,
  });
});

it("says CiliumNotInstalled when provider Cilium is asked of a cluster without Cilium's CRD", async () => {
  await kubectl(["apply", "-f", "-"], { input: stringify(policy("fqdn", { provider: "Cilium" })) });
  const p = await eventually(async () => {
    const got = await kubectl(["-n", ns.name, "get", "aap", "fqdn", "-o", "json"]);
    const parsed = got.code === 0 ? JSON.parse(got.stdout) : undefined;
    const egress = parsed?.status?.conditions?.find((c: { type: string }) => c.type === "EgressReady");
    return egress?.reason === "CiliumNotInstalled" ? parsed : undefined;
  }, 30_000);
  const ready = p.status.conditions.find((c: { type: string }) => c.type === "Ready");
  expect(ready).toMatchObject({ status: "False", reason: "CiliumNotInstalled" });
  expect(ready.message).toContain("install Cilium");
});
