// The read API against the real API server: its service-account issuer and JWKS, tokens from
// `kubectl create token`, and SubjectAccessReviews answered by its RBAC.
import Fastify, { type FastifyInstance } from "fastify";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_AUDIENCE, readApi, readApiOptions } from "../../src/readapi/index.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";

const ns = useTestNamespace("readapi");
let app: FastifyInstance;

async function createToken(serviceAccount: string, audience = DEFAULT_AUDIENCE): Promise<string> {
  const created = await kubectl(["create", "token", serviceAccount, "-n", ns.name, "--audience", audience]);
  if (created.code !== 0) throw new Error(created.stderr);
  return created.stdout.trim();
}

async function grant(name: string, group: string, resource: string, serviceAccount: string): Promise<void> {
  const yaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${ns.name}}
rules: [{apiGroups: ["${group}"], resources: ["${resource}"], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}, namespace: ${ns.name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}
subjects: [{kind: ServiceAccount, name: ${serviceAccount}, namespace: ${ns.name}}]
`;
  const applied = await kubectl(["apply", "-f", "-"], { input: yaml });
  if (applied.code !== 0) throw new Error(applied.stderr);
}

const get = (url: string, token: string) =>
  app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  for (const sa of ["reader", "stranger"]) {
    const created = await kubectl(["create", "serviceaccount", sa, "-n", ns.name]);
    if (created.code !== 0) throw new Error(created.stderr);
  }
  // A Role may name resources the API server does not serve (yet): kubectl create role would refuse them.
  await grant("inventory-reader", "aiapiguard.dev", "aiapipolicies", "reader");
  app = Fastify();
  const sources = {
    inventory: async () => ({ apis: [], unregistered: [{ namespace: ns.name, host: "api.groq.com", workloads: [] }] }),
    findings: async () => [],
  };
  await app.register(
    readApi,
    readApiOptions(kubeConfig(), { audience: DEFAULT_AUDIENCE }, sources, pino({ level: "silent" })),
  );
});

describe("read API with service-account tokens", () => {
  it("accepts a token from kubectl create token for a subject RBAC allows", async () => {
    const response = await get(`/api/v1/inventory?namespace=${ns.name}`, await createToken("reader"));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().items).toEqual([
      { type: "unregistered", namespace: ns.name, host: "api.groq.com", workloads: [] },
    ]);
  });

  it("refuses with 403 what RBAC does not grant: another resource, cluster-wide, a subject without a binding", async () => {
    const reader = await createToken("reader");
    expect((await get(`/api/v1/findings?namespace=${ns.name}`, reader)).statusCode).toBe(403);
    expect((await get("/api/v1/inventory", reader)).statusCode).toBe(403);
    const stranger = await get(`/api/v1/inventory?namespace=${ns.name}`, await createToken("stranger"));
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json().reason).toBe(
      `system:serviceaccount:${ns.name}:stranger may not list aiapipolicies.aiapiguard.dev in namespace ${ns.name}: grant it with RBAC`,
    );
  });

  it("grants findings once a Role allows list reports.openreports.io", async () => {
    await grant("findings-reader", "openreports.io", "reports", "stranger");
    expect((await get(`/api/v1/findings?namespace=${ns.name}`, await createToken("stranger"))).statusCode).toBe(200);
  });

  it("refuses with 401 a token made for the API server's own audience", async () => {
    const created = await kubectl(["create", "token", "reader", "-n", ns.name]);
    expect(created.code, created.stderr).toBe(0);
    const response = await get(`/api/v1/inventory?namespace=${ns.name}`, created.stdout.trim());
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toContain('error_description="the token is for another audience"');
  });
});
