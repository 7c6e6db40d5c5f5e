import { describe, expect, it } from "vitest";
import { type AiApiPolicy, parseAiApiPolicy } from "../../../src/api/index.ts";
import {
  buildStatus,
  type Observations,
  readySummary,
  sameStatus,
  turnedFailing,
  turnedTrue,
} from "../../../src/controller/conditions.ts";
import { credentialObservations } from "../../../src/controller/credentials.ts";
import { MAX_REFUSAL_LENGTH, redacted, refusal } from "../../../src/controller/failures.ts";
import type { CachedSecret } from "../../../src/kube/cached.ts";
import { ApiError } from "../../../src/kube/errors.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";

const ok = (reason: string) => ({ status: "True" as const, reason, message: `${reason}.` });
const observations = (overrides: Partial<Observations> = {}): Observations => ({
  EgressReady: ok("NetworkPolicyApplied"),
  CredentialsReady: ok("Mounted"),
  RateLimitReady: ok("NotRequested"),
  ReviewOverdue: { status: "False", reason: "ReviewCurrent", message: "Due later." },
  CredentialRotationOverdue: { status: "False", reason: "CredentialFresh", message: "Fresh." },
  ...overrides,
});

function policy(status?: unknown): AiApiPolicy {
  const parsed = parseAiApiPolicy({
    apiVersion: "aiapiguard.dev/v1alpha1",
    kind: "AiApiPolicy",
    metadata: { name: "p", namespace: "ml", generation: 3 },
    spec: {
      api: { endpoint: "https://api.example.com", authType: "APIKey", sensitivity: "Low" },
      selector: { matchLabels: { app: "a" } },
    },
    ...(status !== undefined && { status }),
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.policy;
}

describe("Ready", () => {
  it("is True when the three *Ready parts are, else False with the first failing reason and every message", () => {
    expect(readySummary(observations())).toMatchObject({ status: "True", reason: "Reconciled" });
    const refused = { status: "False" as const, reason: "AdmissionRefused", message: "refused." };
    const missing = { status: "False" as const, reason: "CiliumNotInstalled", message: "install Cilium." };
    expect(readySummary(observations({ CredentialsReady: refused, EgressReady: missing }))).toEqual({
      status: "False",
      reason: "CiliumNotInstalled",
      message: "EgressReady: install Cilium. CredentialsReady: refused.",
    });
    // Freshness is reported, but does not make the policy unready.
    const overdue = { status: "True" as const, reason: "ReviewOverdue", message: "due." };
    expect(readySummary(observations({ ReviewOverdue: overdue })).status).toBe("True");
  });
});

describe("the status", () => {
  const t1 = new Date("2026-11-01T10:00:00.123Z");
  const t2 = new Date("2026-11-02T10:00:00Z");

  it("keeps lastTransitionTime while a condition holds, moves it when it changes, and is then the same", () => {
    const first = buildStatus(policy(), observations(), ["Deployment/b", "Deployment/a"], "aiapiguard-p", t1);
    expect(first.observedGeneration).toBe(3);
    expect(first.workloads).toEqual({ count: 2, names: ["Deployment/a", "Deployment/b"] });
    expect(first.conditions?.[0]).toMatchObject({
      type: "Ready",
      status: "True",
      lastTransitionTime: "2026-11-01T10:00:00Z",
    });

    const again = buildStatus(policy(first), observations(), ["Deployment/a", "Deployment/b"], "aiapiguard-p", t2);
    expect(sameStatus(first, again)).toBe(true); // nothing to write

    const refused = { status: "False" as const, reason: "AdmissionRefused", message: "refused." };
    const changed = buildStatus(policy(first), observations({ CredentialsReady: refused }), [], "aiapiguard-p", t2);
    const ready = changed.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({
      status: "False",
      reason: "AdmissionRefused",
      lastTransitionTime: "2026-11-02T10:00:00Z",
    });
    expect(changed.conditions?.find((c) => c.type === "EgressReady")?.lastTransitionTime).toBe("2026-11-01T10:00:00Z");
    expect(sameStatus(first, changed)).toBe(false);
  });

  it("names at most 50 workloads and counts them all", () => {
    const names = Array.from({ length: 120 }, (_, i) => `Deployment/w${String(i).padStart(3, "0")}`);
    const status = buildStatus(policy(), observations(), names, undefined, t1);
    expect(status.workloads?.count).toBe(120);
    expect(status.workloads?.names).toHaveLength(50);
    expect(status.networkPolicy).toBeUndefined();
  });

  it("tells which condition turned True (for its Event), once", () => {
    const before = buildStatus(policy(), observations(), [], undefined, t1);
    const overdue = { status: "True" as const, reason: "ReviewOverdue", message: "due." };
    const after = buildStatus(policy(before), observations({ ReviewOverdue: overdue }), [], undefined, t2);
    expect(turnedTrue(before, after, "ReviewOverdue")).toBe(true);
    expect(turnedTrue(after, after, "ReviewOverdue")).toBe(false);
  });

  it("tells which part stopped being in place (for its Warning), once per reason", () => {
    const missing = { status: "False" as const, reason: "SecretNotFound", message: "Secret k does not exist." };
    const taken = { status: "False" as const, reason: "MountPathInUse", message: "Path taken." };
    const ready = buildStatus(policy(), observations(), [], undefined, t1);
    const waiting = buildStatus(policy(ready), observations({ CredentialsReady: missing }), [], undefined, t2);
    expect(turnedFailing(ready, waiting, "CredentialsReady")).toMatchObject(missing);
    expect(turnedFailing(undefined, waiting, "CredentialsReady")).toMatchObject(missing);
    expect(turnedFailing(waiting, waiting, "CredentialsReady")).toBeUndefined();
    const clash = buildStatus(policy(waiting), observations({ CredentialsReady: taken }), [], undefined, t2);
    expect(turnedFailing(waiting, clash, "CredentialsReady")).toMatchObject(taken);
    expect(turnedFailing(clash, ready, "CredentialsReady")).toBeUndefined();
  });
});

describe("a refusal's message", () => {
  it("keeps what the webhook said but no credential in a known format, and is cut to a summary", () => {
    const secrets = fakeSecrets(7);
    for (const name of ["openai", "anthropic", "github", "jwt-year", "google"] as const) {
      const value = secrets[name] as string;
      const message = redacted(`admission webhook "x" denied the request: the pod uses ${value} in env`);
      expect(message).not.toContain(value);
      expect(message).toContain('admission webhook "x" denied the request: the pod uses ');
    }
    expect(redacted("a".repeat(1000))).toHaveLength(MAX_REFUSAL_LENGTH);
  });

  it("is an admission refusal when a ValidatingAdmissionPolicy denied the write, whatever the status code", () => {
    const message = `ingresses.networking.k8s.io "front" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no`;
    for (const code of [403, 422]) expect(refusal(new ApiError(code, { message })).reason).toBe("AdmissionRefused");
    expect(refusal(new ApiError(422, { message: 'Ingress "front" is invalid: metadata.annotations' })).reason).toBe(
      "Invalid",
    );
  });
});

describe("a write refused because the namespace is being deleted", () => {
  it("says so, and does not ask for a permission ai-api-guard already has", () => {
    // The API server's words (namespace lifecycle admission) when the namespace controller is emptying it.
    const message = `networkpolicies.networking.k8s.io "aiapiguard-a" is forbidden: unable to create new content in namespace ml because it is being terminated`;
    const refused = refusal(new ApiError(403, { message }));
    expect(refused.reason).toBe("NamespaceTerminating");
    expect(refused.message).not.toContain("grant");
  });
});

describe("CredentialsReady when a mount could not be written", () => {
  it("takes its reason from the first failure and lists every failed workload in the message", () => {
    const secret = { metadata: { name: "api-key", namespace: "ml", creationTimestamp: "2026-11-01T00:00:00Z" } };
    const base = policy();
    const withCredentials = { ...base, spec: { ...base.spec, credentials: { secretName: "api-key", maxAgeDays: 90 } } };
    const now = new Date("2026-11-29T00:00:00Z");
    const observed = credentialObservations(withCredentials as AiApiPolicy, secret as CachedSecret, now).ready(2, 0, [
      { subject: "Deployment/app", reason: "AdmissionRefused", message: 'denied: "a: b" [redacted]' },
      { subject: "StatefulSet/db", reason: "Conflict", message: "owned by kubectl" },
    ]);
    expect(observed).toEqual({
      status: "False",
      reason: "AdmissionRefused",
      message:
        'Deployment/app: AdmissionRefused: denied: "a: b" [redacted]; StatefulSet/db: Conflict: owned by kubectl',
    });
  });
});
