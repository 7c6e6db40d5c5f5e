// The read API with fastify inject: every token case with keys and a JWKS made here, served over HTTP
// by a local server that counts its fetches (jose's remote JWKS cache, refresh on unknown kid, floor).
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import * as k8s from "@kubernetes/client-node";
import Fastify, { type FastifyInstance } from "fastify";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Inventory } from "../../../src/inventory/inventory.ts";
import type { KubeRest, RequestOptions } from "../../../src/kube/rest.ts";
import { authenticator } from "../../../src/readapi/authenticate.ts";
import { type Access, cachedAuthorizer } from "../../../src/readapi/authorize.ts";
import { type ReadApiSettings, readApiOptions } from "../../../src/readapi/index.ts";
import { kubernetesKeys, oidcKeys } from "../../../src/readapi/keys.ts";
import { type FindingRecord, readApi } from "../../../src/readapi/plugin.ts";
import { rateLimiter } from "../../../src/readapi/rate-limit.ts";
import { serviceAccountSubject } from "../../../src/readapi/subjects.ts";
import { tokenReviewer } from "../../../src/readapi/token-review.ts";
import { capturedLogger } from "../../support/logs.ts";

const ISSUER = "https://issuer.test";
const AUDIENCE = "ai-api-guard";
type Key = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

let served: JWK[] = [];
let fetches = 0;
let jwksServer: Server;
let jwksUrl: string;

beforeAll(async () => {
  jwksServer = createServer((_req, res) => {
    fetches++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise((resolve) => jwksServer.close(resolve)));

async function keyPair(kid: string, alg = "RS256") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

async function token(key: Key, kid: string, claims: Record<string, unknown> = {}, alg = "RS256") {
  const now = Math.floor(Date.now() / 1000);
  const {
    iss = ISSUER,
    aud = AUDIENCE,
    exp = now + 600,
    nbf,
    sub = "system:serviceaccount:team-a:reader",
    ...other
  } = claims;
  const jwt = new SignJWT(nbf === undefined ? other : { ...other, nbf: Number(nbf) })
    .setProtectedHeader({ alg, kid })
    .setIssuedAt(now)
    .setSubject(String(sub));
  if (iss !== null) jwt.setIssuer(String(iss));
  if (aud !== null) jwt.setAudience(String(aud));
  if (exp !== null) jwt.setExpirationTime(Number(exp));
  return jwt.sign(key);
}

const INVENTORY: Inventory = {
  apis: ["team-a", "team-a", "team-b"].map((namespace, i) => ({
    namespace,
    policy: `p${i}`,
    apiName: `API ${i}`,
    endpoint: "https://api.openai.com/v1",
    authType: "APIKey",
    sensitivity: "High",
    owner: "ML",
    lastReviewed: "2026-10-01",
    reviewStatus: "ok",
    workloads: [],
  })),
  unregistered: [{ namespace: "team-b", host: "api.groq.com", provider: "Groq", workloads: ["Deployment/x"] }],
};
const FINDINGS = [
  { namespace: "team-a", rule: "hardcoded-secret", hint: 'OpenAI API key ending "…a1B2"' },
] as FindingRecord[];

interface Harness {
  app: FastifyInstance;
  logs: string[];
  reviews: Access[];
}

async function harness(
  options: {
    allow?: (access: Access) => boolean;
    perSecond?: number;
    burst?: number;
    refreshFloorMs?: number;
    findingsResource?: { group: string; resource: string };
    inventory?: Inventory;
    findings?: FindingRecord[];
  } = {},
): Promise<Harness> {
  const { logger, lines: logs } = capturedLogger();
  const reviews: Access[] = [];
  const { issuer, keys } = await oidcKeys(ISSUER, jwksUrl, { refreshFloorMs: options.refreshFloorMs ?? 60_000 });
  const app = Fastify();
  await app.register(readApi, {
    authenticate: authenticator({
      issuer,
      keys,
      audience: AUDIENCE,
      clockToleranceSeconds: 5,
      subjectOf: serviceAccountSubject,
    }),
    authorize: async (_subject, access) => {
      reviews.push(access);
      return options.allow?.(access) ?? true;
    },
    rateLimit: rateLimiter({ perSecond: options.perSecond ?? 100, burst: options.burst ?? 100 }),
    inventory: async () => options.inventory ?? INVENTORY,
    findings: async () => options.findings ?? FINDINGS,
    ...(options.findingsResource ? { findingsResource: options.findingsResource } : {}),
    logger,
  });
  return { app, logs, reviews };
}

/** A kubeconfig for a cluster that is not there (or does not answer). */
function offlineKubeConfig(server = "https://127.0.0.1:1"): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

const get = (app: FastifyInstance, url: string, authorization?: string) =>
  app.inject({ method: "GET", url, headers: authorization ? { authorization } : {} });

describe("read API authentication", () => {
  let signing: Awaited<ReturnType<typeof keyPair>>;
  beforeEach(async () => {
    signing = await keyPair("k1");
    served = [signing.jwk];
    fetches = 0;
  });

  it("answers a valid token, with the JWKS fetched once and cached", async () => {
    const { app } = await harness();
    const bearer = `Bearer ${await token(signing.privateKey, "k1")}`;
    const first = await get(app, "/api/v1/inventory", bearer);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().items).toHaveLength(4);
    expect((await get(app, "/api/v1/findings", bearer)).statusCode).toBe(200);
    expect(fetches).toBe(1);
  });

  it.each([
    ["missing", undefined, "invalid_request", "missing bearer token"],
    ["another scheme", "Basic dXNlcjpwYXNz", "invalid_request", "malformed Authorization header"],
    ["malformed", "Bearer not-a-jwt", "invalid_token", "the token is malformed"],
  ])("refuses a %s token with 401 and WWW-Authenticate", async (_case, authorization, error, description) => {
    const { app } = await harness();
    const response = await get(app, "/api/v1/inventory", authorization);
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toMatch(
      new RegExp(`^Bearer realm="ai-api-guard", error="${error}", error_description="${description}`),
    );
  });

  it.each([
    ["expired", { exp: Math.floor(Date.now() / 1000) - 60 }, "the token has expired"],
    ["not yet valid", { nbf: Math.floor(Date.now() / 1000) + 120 }, "the token is not valid yet (nbf)"],
    ["wrong-issuer", { iss: "https://evil.test" }, "the token is from another issuer"],
    ["wrong-audience", { aud: "https://kubernetes.default.svc" }, "the token is for another audience"],
    ["no exp", { exp: null }, "the token has no exp claim"],
  ])("refuses an %s token with 401 invalid_token", async (_case, claims, description) => {
    const { app } = await harness();
    const response = await get(app, "/api/v1/inventory", `Bearer ${await token(signing.privateKey, "k1", claims)}`);
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe(
      `Bearer realm="ai-api-guard", error="invalid_token", error_description="${description}"`,
    );
  });

  it("accepts exp and nbf within the clock skew", async () => {
    const { app } = await harness();
    const now = Math.floor(Date.now() / 1000);
    const skewed = await token(signing.privateKey, "k1", { exp: now - 2, nbf: now + 2 });
    expect((await get(app, "/api/v1/inventory", `Bearer ${skewed}`)).statusCode).toBe(200);
  });

  it("refuses HS256 (even keyed with the public key) and alg none", async () => {
    const { app } = await harness();
    const hmac = new TextEncoder().encode(JSON.stringify(signing.jwk));
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("x")
      .setExpirationTime("5m")
      .sign(hmac);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: "x", exp: 9e9 })).toString("base64url")}.`;
    for (const jwt of [hs, none]) {
      const response = await get(app, "/api/v1/inventory", `Bearer ${jwt}`);
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
    }
    expect(() =>
      authenticator({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: async () => signing.privateKey,
        algorithms: ["HS256"],
        subjectOf: serviceAccountSubject,
      }),
    ).toThrow(/HS256 are not allowed/);
  });

  it("refetches the JWKS on an unknown kid, at most once per refresh floor, and then knows a rotated key", async () => {
    const { app } = await harness({ refreshFloorMs: 60_000 });
    const bearer = `Bearer ${await token(signing.privateKey, "k1")}`;
    expect((await get(app, "/api/v1/inventory", bearer)).statusCode).toBe(200);
    const stranger = await keyPair("k2");
    const unknown = `Bearer ${await token(stranger.privateKey, "k2")}`;
    const refused = await get(app, "/api/v1/inventory", unknown);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers["www-authenticate"]).toContain('error_description="the token is signed by an unknown key"');
    expect((await get(app, "/api/v1/inventory", unknown)).statusCode).toBe(401);
    expect(fetches, "one fetch to start; an unknown kid within the floor does not refetch").toBe(1);

    const { app: eager } = await harness({ refreshFloorMs: 0 });
    fetches = 0;
    expect((await get(eager, "/api/v1/inventory", bearer)).statusCode).toBe(200);
    served = [signing.jwk, stranger.jwk];
    expect((await get(eager, "/api/v1/inventory", unknown)).statusCode, "the rotated key is fetched").toBe(200);
    expect(fetches).toBe(2);
  });

  it("answers 503 when the issuer's keys cannot be fetched", async () => {
    const { keys } = await oidcKeys(ISSUER, "http://127.0.0.1:1/jwks");
    const authenticate = authenticator({ issuer: ISSUER, audience: AUDIENCE, keys, subjectOf: serviceAccountSubject });
    expect(await authenticate(`Bearer ${await token(signing.privateKey, "k1")}`)).toMatchObject({
      ok: false,
      status: 503,
      error: "temporarily_unavailable",
    });
  });
});

describe("read API TokenReview of service-account tokens", () => {
  it("answers 503 within seconds when the API server does not review the token, and asks again next time", async () => {
    const signing = await keyPair("k1");
    served = [signing.jwk];
    let asked = 0;
    // An API server that takes the request and never answers: a stalled connection.
    const silent = {
      request: (_path: string, options: RequestOptions = {}) => {
        asked++;
        return new Promise((_resolve, reject) =>
          options.signal?.addEventListener("abort", () => reject(options.signal?.reason)),
        );
      },
    } as unknown as KubeRest;
    const { logger, lines } = capturedLogger();
    const { keys } = await oidcKeys(ISSUER, jwksUrl);
    const authenticate = authenticator({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys,
      subjectOf: serviceAccountSubject,
      review: tokenReviewer(silent, { audience: AUDIENCE, logger }),
    });
    const jwt = await token(signing.privateKey, "k1");
    for (const attempt of [1, 2]) {
      expect(await authenticate(`Bearer ${jwt}`)).toEqual({
        ok: false,
        status: 503,
        error: "temporarily_unavailable",
        description: "the API server cannot review the token",
      });
      expect(asked, "a review that failed is not cached").toBe(attempt);
    }
    expect(lines.join("\n")).toContain("the API server could not review a token");
    for (const line of lines) expect(line).not.toContain(jwt.split(".")[2]);
  }, 15_000);
});

describe("read API SubjectAccessReview on a stalled API server", () => {
  it("answers 503 within seconds, each time (a failed review is not cached)", async () => {
    const signing = await keyPair("k1");
    served = [signing.jwk];
    // An API server that accepts the connection and never answers: before, each request waited as long as
    // client-node did (10 s here) and got 500.
    const mute = createNetServer(() => {});
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    try {
      const { logger, lines } = capturedLogger();
      const app = Fastify();
      const kc = offlineKubeConfig(`https://127.0.0.1:${(mute.address() as AddressInfo).port}`);
      const settings = { issuer: ISSUER, jwksUrl, audience: AUDIENCE };
      await app.register(
        readApi,
        readApiOptions(kc, settings, { inventory: async () => INVENTORY, findings: async () => FINDINGS }, logger),
      );
      const bearer = `Bearer ${await token(signing.privateKey, "k1", { sub: "alice" })}`;
      for (const _attempt of [1, 2]) {
        const answer = await get(app, "/api/v1/inventory", bearer);
        expect(answer.statusCode).toBe(503);
        expect(answer.json().reason).toBe("the API server cannot review the access: try again later");
      }
      const logged = lines.map((l) => JSON.parse(l));
      expect(logged.filter((l) => l.decision === "unavailable")).toHaveLength(2);
      expect(logged.filter((l) => l.msg === "read API: the API server could not review an access")).toHaveLength(2);
    } finally {
      mute.close();
    }
  }, 15_000);
});

describe("read API authorization, limits and logs", () => {
  let signing: Awaited<ReturnType<typeof keyPair>>;
  beforeAll(async () => {
    signing = await keyPair("k1");
    served = [signing.jwk];
  });

  it("asks for list aiapipolicies or reports.openreports.io, in the namespace or cluster-wide; 403 otherwise", async () => {
    const { app, reviews } = await harness({
      allow: (a) => a.namespace === "team-a" && a.resource === "aiapipolicies",
    });
    const bearer = `Bearer ${await token(signing.privateKey, "k1")}`;
    const allowed = await get(app, "/api/v1/inventory?namespace=team-a", bearer);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().items.map((i: { namespace: string }) => i.namespace)).toEqual(["team-a", "team-a"]);
    const clusterWide = await get(app, "/api/v1/inventory", bearer);
    expect(clusterWide.statusCode).toBe(403);
    expect(clusterWide.json().reason).toBe(
      "system:serviceaccount:team-a:reader may not list aiapipolicies.aiapiguard.dev cluster-wide: grant it with RBAC",
    );
    expect((await get(app, "/api/v1/findings?namespace=team-a", bearer)).statusCode).toBe(403);
    expect(reviews).toEqual([
      { verb: "list", group: "aiapiguard.dev", resource: "aiapipolicies", namespace: "team-a" },
      { verb: "list", group: "aiapiguard.dev", resource: "aiapipolicies" },
      { verb: "list", group: "openreports.io", resource: "reports", namespace: "team-a" },
    ]);
  });

  it("shows a namespace and a policy named with a key by their hints, in items and refusals alike", async () => {
    // Made at run time: a DeepSeek key is a valid namespace and policy name.
    const namespace = `sk-${randomBytes(16).toString("hex")}`;
    const policy = `sk-${randomBytes(16).toString("hex")}`;
    const api = INVENTORY.apis[0] as Inventory["apis"][number];
    const { app } = await harness({
      allow: (a) => a.resource === "aiapipolicies",
      inventory: { apis: [{ ...api, namespace, policy, apiName: policy }], unregistered: [] },
      findings: [{ ...(FINDINGS[0] as FindingRecord), namespace }],
    });
    const bearer = `Bearer ${await token(signing.privateKey, "k1", { sub: `system:serviceaccount:${namespace}:reader` })}`;
    const listed = await get(app, `/api/v1/inventory?namespace=${namespace}`, bearer);
    const hint = (key: string) => `<DeepSeek API key ending …${key.slice(-4)}>`;
    expect(listed.json().items).toEqual([
      expect.objectContaining({ namespace: hint(namespace), policy: hint(policy), apiName: hint(policy) }),
    ]);
    const refused = await get(app, `/api/v1/findings?namespace=${namespace}`, bearer);
    expect(refused.json().reason).toBe(
      `system:serviceaccount:${hint(namespace)}:reader may not list reports.openreports.io in namespace ${hint(namespace)}: grant it with RBAC`,
    );
    for (const key of [namespace, policy]) expect(listed.body + refused.body).not.toContain(key.slice(3, -4));
  });

  it("asks for list policyreports.wgpolicyk8s.io when the findings come from PolicyReports", async () => {
    const findingsResource = { group: "wgpolicyk8s.io", resource: "policyreports" };
    const { app, reviews } = await harness({ findingsResource });
    await get(app, "/api/v1/findings?namespace=team-a", `Bearer ${await token(signing.privateKey, "k1")}`);
    expect(reviews).toEqual([{ verb: "list", ...findingsResource, namespace: "team-a" }]);
  });

  it("pages with limit and continue, and refuses bad paging with 400", async () => {
    const { app } = await harness();
    const bearer = `Bearer ${await token(signing.privateKey, "k1")}`;
    const first = (await get(app, "/api/v1/inventory?limit=3", bearer)).json();
    expect(first.items).toHaveLength(3);
    expect(first.metadata.total).toBe(4);
    const second = (await get(app, `/api/v1/inventory?limit=3&continue=${first.metadata.continue}`, bearer)).json();
    expect(second.items).toEqual([{ type: "unregistered", ...INVENTORY.unregistered[0] }]);
    expect(second.metadata.continue).toBeUndefined();
    for (const query of ["limit=0", "limit=501", "continue=garbage", "namespace=Not_A_Namespace"])
      expect((await get(app, `/api/v1/inventory?${query}`, bearer)).statusCode, query).toBe(400);
  });

  it("limits each subject with 429 and Retry-After, other subjects unaffected", async () => {
    const { app } = await harness({ perSecond: 1, burst: 2 });
    const a = `Bearer ${await token(signing.privateKey, "k1", { sub: "system:serviceaccount:a:alice" })}`;
    const b = `Bearer ${await token(signing.privateKey, "k1", { sub: "system:serviceaccount:b:bob" })}`;
    expect((await get(app, "/api/v1/findings", a)).statusCode).toBe(200);
    expect((await get(app, "/api/v1/findings", a)).statusCode).toBe(200);
    const limited = await get(app, "/api/v1/findings", a);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("1");
    expect((await get(app, "/api/v1/findings", b)).statusCode).toBe(200);
  });

  it("logs every request with subject, path and decision, never the token", async () => {
    const { app, logs } = await harness({ allow: (a) => a.resource === "aiapipolicies" });
    const jwt = await token(signing.privateKey, "k1");
    await get(app, "/api/v1/inventory", `Bearer ${jwt}`);
    await get(app, "/api/v1/findings", `Bearer ${jwt}`);
    await get(app, "/api/v1/findings", `Bearer ${jwt}x`);
    const lines = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "read API request");
    expect(lines.map((l) => [l.subject, l.path, l.decision, l.status])).toEqual([
      ["system:serviceaccount:team-a:reader", "/api/v1/inventory", "allow", 200],
      ["system:serviceaccount:team-a:reader", "/api/v1/findings", "forbidden", 403],
      [undefined, "/api/v1/findings", "unauthenticated", 401],
    ]);
    const signature = jwt.split(".")[2] ?? "";
    for (const line of logs) expect(line).not.toContain(signature);
  });
});

describe("SubjectAccessReview cache", () => {
  it("asks once per subject and access within the TTL, again after it, and stays bounded", async () => {
    let asked = 0;
    let now = 0;
    const authorize = cachedAuthorizer(
      async () => {
        asked++;
        return true;
      },
      { ttlMs: 10_000, maxEntries: 2, now: () => now },
    );
    const alice = { user: "alice", groups: ["g"] };
    const list: Access = { verb: "list", group: "aiapiguard.dev", resource: "aiapipolicies" };
    await authorize(alice, list);
    await authorize(alice, list);
    expect(asked).toBe(1);
    await authorize({ user: "bob", groups: [] }, list);
    await authorize({ user: "carol", groups: [] }, list);
    await authorize(alice, list);
    expect(asked, "alice was the oldest entry of two").toBe(4);
    now = 10_001;
    await authorize(alice, list);
    expect(asked).toBe(5);
  });
});

describe("read API issuer discovery", () => {
  it("answers 503 within seconds when the issuer's discovery document never comes, and tries again later", async () => {
    // An issuer that accepts the connection and never answers: before, every request hung for good.
    let asked = 0;
    const silent = createServer(() => {
      asked++;
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const issuer = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const { logger } = capturedLogger();
      const app = Fastify();
      await app.register(
        readApi,
        readApiOptions(
          offlineKubeConfig(),
          { issuer, audience: AUDIENCE },
          { inventory: async () => INVENTORY, findings: async () => FINDINGS },
          logger,
        ),
      );
      const started = Date.now();
      const answer = await get(app, "/api/v1/inventory", "Bearer a.b.c");
      expect(answer.statusCode).toBe(503);
      expect(answer.json().error).toBe("temporarily_unavailable");
      expect(Date.now() - started).toBeLessThan(8_000);
      await get(app, "/api/v1/inventory", "Bearer a.b.c");
      expect(asked, "a failed discovery is tried again at the next request").toBe(2);
      // The same for the API server's own issuer, read through the kubeconfig's connection.
      const mute = createNetServer(() => {});
      await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
      const kube = offlineKubeConfig(`https://127.0.0.1:${(mute.address() as AddressInfo).port}`);
      const before = Date.now();
      await expect(kubernetesKeys(kube)).rejects.toThrow();
      expect(Date.now() - before).toBeLessThan(8_000);
      mute.close();
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 30_000);
});

describe("read API subject naming, as the API server names the same token", () => {
  let signing: Awaited<ReturnType<typeof keyPair>>;
  beforeAll(async () => {
    signing = await keyPair("k1");
    served = [signing.jwk];
  });

  /** What the operator's read API authenticates a token of an OIDC issuer as, with these settings. */
  async function subjectOf(claims: Record<string, unknown>, mapping: Partial<ReadApiSettings> = {}) {
    const { logger } = capturedLogger();
    const { authenticate } = readApiOptions(
      offlineKubeConfig(),
      { issuer: ISSUER, jwksUrl, audience: AUDIENCE, ...mapping },
      { inventory: async () => INVENTORY, findings: async () => FINDINGS },
      logger,
    );
    const answer = await authenticate(`Bearer ${await token(signing.privateKey, "k1", claims)}`);
    return answer.ok ? answer.subject : answer.description;
  }

  it("prefixes the sub claim with the issuer URL and #, so no OIDC user is a user of another authenticator", async () => {
    expect(await subjectOf({ sub: "alice" })).toEqual({
      user: "https://issuer.test#alice",
      groups: ["system:authenticated"],
    });
    expect(await subjectOf({ sub: "system:serviceaccount:kube-system:foo" }), "no service-account groups").toEqual({
      user: "https://issuer.test#system:serviceaccount:kube-system:foo",
      groups: ["system:authenticated"],
    });
  });

  it("takes the prefix given, '-' for none, and leaves an email unprefixed", async () => {
    expect(await subjectOf({ sub: "alice" }, { usernamePrefix: "oidc:" })).toMatchObject({ user: "oidc:alice" });
    expect(await subjectOf({ sub: "alice" }, { usernamePrefix: "-" })).toMatchObject({ user: "alice" });
    expect(
      await subjectOf({ sub: "a1", preferred_username: "alice" }, { usernameClaim: "preferred_username" }),
    ).toMatchObject({ user: "https://issuer.test#alice" });
    expect(await subjectOf({ email: "alice@example.com" }, { usernameClaim: "email" })).toMatchObject({
      user: "alice@example.com",
    });
  });

  it("refuses an email the issuer has not verified", async () => {
    const email = { usernameClaim: "email" };
    for (const verified of [false, "true"])
      expect(await subjectOf({ email: "alice@example.com", email_verified: verified }, email), String(verified)).toBe(
        "the token's email is not verified (email_verified is not true)",
      );
    expect(await subjectOf({ email: "alice@example.com", email_verified: true }, email)).toMatchObject({
      user: "alice@example.com",
    });
    expect(await subjectOf({ sub: "alice" }, email)).toBe("the token has no email claim to name its subject");
  });

  it("takes groups only from the groups claim set, prefixed as set; a single string is one group", async () => {
    expect(await subjectOf({ sub: "alice", groups: ["admins"] }), "no groups claim by default").toMatchObject({
      groups: ["system:authenticated"],
    });
    const mapping = { groupsClaim: "roles", groupsPrefix: "oidc:" };
    expect(await subjectOf({ sub: "alice", roles: ["admins", "system:masters"] }, mapping)).toMatchObject({
      groups: ["oidc:admins", "oidc:system:masters", "system:authenticated"],
    });
    expect(await subjectOf({ sub: "alice", roles: "admins" }, mapping)).toMatchObject({
      groups: ["oidc:admins", "system:authenticated"],
    });
    expect(await subjectOf({ sub: "alice", roles: [1] }, mapping)).toBe(
      "the token's roles claim is neither a string nor a list of strings",
    );
  });
});

describe("service-account subjects", () => {
  it("are named as the API server names them, with its service-account groups; another sub is refused", () => {
    expect(
      serviceAccountSubject({
        sub: "system:serviceaccount:team-a:reader",
        groups: ["system:masters"],
        "kubernetes.io": { serviceaccount: { uid: "u-1" } },
      }),
    ).toEqual({
      user: "system:serviceaccount:team-a:reader",
      groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"],
      uid: "u-1",
    });
    expect(serviceAccountSubject({ sub: "alice" })).toBe(
      "the token's sub claim names no service account (system:serviceaccount:<namespace>:<name>)",
    );
  });
});
