// The read API against the real API server: its service-account issuer and JWKS, tokens from
// `kubectl create token`, an OIDC issuer's tokens (keys made here), and SubjectAccessReviews answered by
// its RBAC.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_AUDIENCE, type ReadApiSettings, readApi, readApiOptions } from "../../src/readapi/index.ts";
import { finding } from "../support/admission.ts";
import { kubeConfig, kubectl, useTestNamespace } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";

const ns = useTestNamespace("readapi");
let app: FastifyInstance;

async function createToken(serviceAccount: string, ...extra: string[]): Promise<string> {
  const created = await kubectl([
    "create",
    "token",
    serviceAccount,
    "-n",
    ns.name,
    "--audience",
    DEFAULT_AUDIENCE,
    ...extra,
  ]);
  if (created.code !== 0) throw new Error(created.stderr);
  return created.stdout.trim();
}

type RbacSubject = { kind: "User" | "Group"; name: string };

async function grant(name: string, group: string, resource: string, subject: string | RbacSubject): Promise<void> {
  const bound =
    typeof subject === "string"
      ? `{kind: ServiceAccount, name: ${subject}, namespace: ${ns.name}}`
      : `{kind: ${subject.kind}, apiGroup: rbac.authorization.k8s.io, name: "${subject.name}"}`;
  const yaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${ns.name}}
rules: [{apiGroups: ["${group}"], resources: ["${resource}"], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}, namespace: ${ns.name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}
subjects: [${bound}]
`;
  const applied = await kubectl(["apply", "-f", "-"], { input: yaml });
  if (applied.code !== 0) throw new Error(applied.stderr);
}

/** list on an openreports.io resource cluster-wide, for a service account: a ClusterRole and its binding. */
async function clusterGrant(name: string, resource: string, user: string): Promise<void> {
  const [namespace, account] = user.split(":").slice(2);
  const yaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${name}}
rules: [{apiGroups: [openreports.io], resources: [${resource}], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${name}}
subjects: [{kind: ServiceAccount, name: ${account}, namespace: ${namespace}}]
`;
  const applied = await kubectl(["apply", "-f", "-"], { input: yaml });
  if (applied.code !== 0) throw new Error(applied.stderr);
  clusterGrants.push(name);
}
const clusterGrants: string[] = [];

const get = (url: string, token: string) =>
  app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

const sources = {
  inventory: async () => ({ apis: [], unregistered: [{ namespace: ns.name, host: "api.groq.com", workloads: [] }] }),
  findings: async () => [],
};

async function readApiApp(settings: ReadApiSettings): Promise<FastifyInstance> {
  const server = Fastify();
  await server.register(readApi, readApiOptions(kubeConfig(), settings, sources, pino({ level: "silent" })));
  return server;
}

beforeAll(async () => {
  for (const sa of ["reader", "stranger"]) {
    const created = await kubectl(["create", "serviceaccount", sa, "-n", ns.name]);
    if (created.code !== 0) throw new Error(created.stderr);
  }
  // A Role may name resources the API server does not serve (yet): kubectl create role would refuse them.
  await grant("inventory-reader", "aiapiguard.dev", "aiapipolicies", "reader");
  app = await readApiApp({ audience: DEFAULT_AUDIENCE });
});

afterAll(async () => {
  for (const name of clusterGrants)
    await kubectl(["delete", "clusterrole,clusterrolebinding", name, "--ignore-not-found"]);
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

  // Before: a cluster-wide request served no finding of a cluster-scoped object (namespace ""), and nothing asked
  // who may read them: now they come from the ClusterReport, to whoever may also list clusterreports.
  it("serves a cluster-scoped object's findings cluster-wide only to whoever may list clusterreports", async () => {
    const record = (namespace: string, kind: string) => ({
      ...finding({ namespace, kind }),
      apiVersion: "v1",
      policies: [],
    });
    const wide = Fastify();
    const options = readApiOptions(
      kubeConfig(),
      { audience: DEFAULT_AUDIENCE },
      {
        ...sources,
        findings: async () => [record(ns.name, "Deployment"), record("", "ClusterServingRuntime")],
      },
      pino({ level: "silent" }),
    );
    await wide.register(readApi, options);
    const kinds = async () => {
      const response = await wide.inject({
        method: "GET",
        url: "/api/v1/findings",
        headers: { authorization: `Bearer ${await createToken("stranger")}` },
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().items.map((item: { kind: string }) => item.kind);
    };
    const user = `system:serviceaccount:${ns.name}:stranger`;
    await clusterGrant(`${ns.name}-reports`, "reports", user);
    expect(await kinds()).toEqual(["Deployment"]);
    await clusterGrant(`${ns.name}-clusterreports`, "clusterreports", user);
    // The authorizer keeps an answer for 10 s: the grant shows once the refusal expires.
    await eventually(async () => ((await kinds()).length === 2 ? true : undefined), 30_000);
    expect(await kinds()).toEqual(["Deployment", "ClusterServingRuntime"]);
    await wide.close();
  });

  it("refuses a token whose service account, or the pod it is bound to, is gone (the API server's TokenReview)", async () => {
    const leaving = "leaving";
    expect((await kubectl(["create", "serviceaccount", leaving, "-n", ns.name])).code).toBe(0);
    await grant("leaving-reader", "aiapiguard.dev", "aiapipolicies", leaving);
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: ${ns.name}}
spec: {serviceAccountName: reader, containers: [{name: c, image: registry.k8s.io/pause:3.10}]}
`;
    const created = await kubectl(["apply", "-f", "-"], { input: pod });
    expect(created.code, created.stderr).toBe(0);
    const gone = {
      "the deleted service account's token": await createToken(leaving),
      "the deleted pod's token": await createToken(
        "reader",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "bound",
      ),
    };
    const url = `/api/v1/inventory?namespace=${ns.name}`;
    for (const token of Object.values(gone)) expect((await get(url, token)).statusCode).toBe(200);

    expect((await kubectl(["delete", "serviceaccount", leaving, "-n", ns.name])).code).toBe(0);
    expect((await kubectl(["delete", "pod", "bound", "-n", ns.name, "--wait"])).code).toBe(0);
    // Refused once this read API's cached answer (10 s) and then the API server's own token cache (10 s) expire.
    for (const [what, token] of Object.entries(gone)) {
      const challenge = await eventually(
        async () => {
          const response = await get(url, token);
          return response.statusCode === 401 && response.headers["www-authenticate"];
        },
        40_000,
        `${what} refused`,
      );
      expect(challenge).toContain("the API server does not accept the token");
    }
  }, 90_000);

  it("refuses with 401 a token made for the API server's own audience", async () => {
    const created = await kubectl(["create", "token", "reader", "-n", ns.name]);
    expect(created.code, created.stderr).toBe(0);
    const response = await get(`/api/v1/inventory?namespace=${ns.name}`, created.stdout.trim());
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toContain('error_description="the token is for another audience"');
  });
});

describe("read API with an OIDC issuer's tokens", () => {
  const issuer = "https://idp.example";
  let jwks: Server;
  let jwksUrl: string;
  let oidc: FastifyInstance;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "idp", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "idp" })
        .setIssuer(issuer)
        .setAudience(DEFAULT_AUDIENCE)
        .setExpirationTime("10m")
        .sign(privateKey);
    oidc = await readApiApp({ issuer, jwksUrl, audience: DEFAULT_AUDIENCE });
  });
  afterAll(() => new Promise((resolve) => jwks.close(resolve)));

  const inventory = async (claims: Record<string, unknown>, app = oidc) =>
    app.inject({
      method: "GET",
      url: `/api/v1/inventory?namespace=${ns.name}`,
      headers: { authorization: `Bearer ${await sign(claims)}` },
    });

  it("names the user as the API server does: a binding to https://idp.example#alice is honoured", async () => {
    await grant("oidc-alice", "aiapiguard.dev", "aiapipolicies", { kind: "User", name: `${issuer}#alice` });
    const response = await inventory({ sub: "alice" });
    expect(response.statusCode, response.body).toBe(200);
  });

  it("does not take an issuer's sub for a user of another authenticator: bob, or a service account", async () => {
    await grant("bare-bob", "aiapiguard.dev", "aiapipolicies", { kind: "User", name: "bob" });
    const bob = await inventory({ sub: "bob" });
    expect(bob.statusCode).toBe(403);
    expect(bob.json().reason).toBe(
      `${issuer}#bob may not list aiapipolicies.aiapiguard.dev in namespace ${ns.name}: grant it with RBAC`,
    );
    // reader's Role binding (beforeAll) is for the service account, not for this issuer's user of that name.
    expect((await inventory({ sub: `system:serviceaccount:${ns.name}:reader` })).statusCode).toBe(403);
  });

  it("takes groups from the groups claim, with the groups prefix set", async () => {
    await grant("oidc-readers", "aiapiguard.dev", "aiapipolicies", { kind: "Group", name: "oidc:ml-readers" });
    const claims = { sub: "carol", groups: ["ml-readers"] };
    expect((await inventory(claims)).statusCode, "no groups claim is set").toBe(403);
    const withGroups = await readApiApp({
      issuer,
      jwksUrl,
      audience: DEFAULT_AUDIENCE,
      groupsClaim: "groups",
      groupsPrefix: "oidc:",
    });
    expect((await inventory(claims, withGroups)).statusCode).toBe(200);
  });
});
