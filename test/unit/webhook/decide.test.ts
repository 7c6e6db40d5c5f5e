import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import type { Evaluate, Evaluation } from "../../../src/engine/types.ts";
import type { AdmissionRequest } from "../../../src/webhook/admission-review.ts";
import { assess } from "../../../src/webhook/assess.ts";
import { type AdmissionConfig, admissionConfig } from "../../../src/webhook/config.ts";
import { type DecisionContext, decide } from "../../../src/webhook/decide.ts";
import { MAX_WARNING_LENGTH } from "../../../src/webhook/messages.ts";
import type { PolicyView } from "../../../src/webhook/policies.ts";
import { validPolicy } from "../../fixtures/policies.ts";
import { admissionReview, deployment, finding, policyView } from "../../support/admission.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";

const engine = (evaluation: Evaluation) => vi.fn<Evaluate>(() => evaluation);
const keyFinding = finding();
const urlFinding = finding({
  rule: "plaintext-endpoint",
  category: "plaintext-endpoint",
  container: "worker",
  path: "spec.template.spec.containers[1].env[3].value",
  hint: "http://api.example.com",
  fix: "Use https:// for api.example.com.",
});

const policy = policyView();

function run(
  evaluate: Evaluate,
  options: {
    request?: Partial<AdmissionRequest>;
    object?: Record<string, unknown>;
    policies?: PolicyView[];
    config?: Partial<AdmissionConfig>;
    context?: Partial<DecisionContext>;
  } = {},
) {
  const request = admissionReview(options.object ?? deployment(), options.request).request as AdmissionRequest;
  const config = admissionConfig(options.config);
  const policies = options.policies ?? [];
  const hosts = [...new Set(policies.map((p) => p.endpointHost))];
  const assessment = assess({ request, config, evaluate, scope: { policies, hosts } });
  return decide(assessment, { config, policies, user: { username: "dev@example.com" }, ...options.context });
}

describe("decide: what is not reviewed is admitted untouched", () => {
  it.each<[string, { request?: Partial<AdmissionRequest>; object?: Record<string, unknown> }, string]>([
    ["DELETE", { request: { operation: "DELETE", object: null } }, "operation DELETE"],
    ["CONNECT", { request: { operation: "CONNECT" } }, "operation CONNECT"],
    ["a subresource", { request: { subResource: "scale" } }, "subresource scale"],
    ["a Service", { object: { kind: "Service", metadata: { name: "s", namespace: "ml-team" } } }, "kind not reviewed"],
    [
      "a Deployment of another API group",
      { request: { kind: { group: "example.com", version: "v1", kind: "Deployment" } } },
      "kind not reviewed",
    ],
    ["kube-system", { request: { namespace: "kube-system" } }, "exempt namespace"],
    ["the product's namespace", { request: { namespace: "ai-api-guard" } }, "exempt namespace"],
  ])("%s", (_, options, note) => {
    const evaluate = engine({ findings: [keyFinding] });
    const decision = run(evaluate, options);
    expect(decision).toMatchObject({ outcome: "skip", allowed: true, warnings: [], findings: [], note });
    expect(evaluate).not.toHaveBeenCalled();
  });

  it("takes exempt namespaces from configuration", () => {
    const evaluate = engine({ findings: [keyFinding] });
    expect(run(evaluate, { config: { exemptNamespaces: ["ml-team"] } }).outcome).toBe("skip");
    expect(run(evaluate, { request: { namespace: "kube-system" }, config: { exemptNamespaces: [] } }).outcome).toBe(
      "deny",
    );
  });
});

describe("decide: reviewed objects", () => {
  it("runs the engine on the object with every policy's endpoint host", () => {
    const evaluate = engine({ findings: [] });
    const other = { ...policy, namespace: "other", endpointHost: "llm.other.example" };
    const object = deployment();
    expect(run(evaluate, { object, policies: [policy, other] })).toMatchObject({ outcome: "allow", allowed: true });
    expect(evaluate).toHaveBeenCalledWith(object, {
      policyEndpointHosts: ["api.example.com", "llm.other.example"],
      inventory: { policies: [policy, other] },
    });
  });

  it("reviews UPDATEs too", () => {
    expect(run(engine({ findings: [keyFinding] }), { request: { operation: "UPDATE" } }).outcome).toBe("deny");
  });

  it("refuses under Deny with a 403 listing every finding and the default action", () => {
    const decision = run(engine({ findings: [keyFinding, urlFinding] }));
    expect(decision).toMatchObject({
      outcome: "deny",
      allowed: false,
      action: "Deny",
      status: { code: 403, reason: "Forbidden" },
    });
    const lines = decision.status?.message.split("\n") ?? [];
    expect(lines[0]).toBe("Deployment ml-team/summarizer has 2 findings (default action Deny):");
    expect(lines[1]).toBe(
      '- hardcoded-secret in container "app" at spec.template.spec.containers[0].env[0].value: OpenAI API key ending in 9f2c. ' +
        "Fix: Store the key in a Secret and reference it with env.valueFrom.secretKeyRef.",
    );
    expect(lines[2]).toContain(
      'plaintext-endpoint in container "worker" at spec.template.spec.containers[1].env[3].value',
    );
    expect(decision.events).toEqual([{ reason: "AdmissionDenied", message: decision.status?.message }]);
  });

  it("names the policy that applied", () => {
    const decision = run(engine({ findings: [keyFinding] }), { policies: [{ ...policy, action: "Deny" }] });
    expect(decision.status?.message).toMatch(
      /^Deployment ml-team\/summarizer has 1 finding \(action Deny from AiApiPolicy ml-team\/llm-service\):/,
    );
  });

  it("admits under Warn with one short warning per finding and no Event", () => {
    const decision = run(engine({ findings: [keyFinding, urlFinding] }), {
      policies: [policy],
      config: { actionFloor: "Warn" },
    });
    expect(decision).toMatchObject({ outcome: "warn", allowed: true, action: "Warn" });
    expect(decision.status).toBeUndefined();
    expect(decision.events).toEqual([]);
    expect(decision.warnings).toEqual([
      "hardcoded-secret: Deployment/summarizer container app env[0].value (OpenAI API key ending in 9f2c)",
      "plaintext-endpoint: Deployment/summarizer container worker env[3].value (http://api.example.com)",
    ]);
    for (const warning of decision.warnings) expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
  });

  it("admits under Audit silently, with an AdmissionAudit Event", () => {
    const decision = run(engine({ findings: [keyFinding] }), { config: { defaultAction: "Audit" } });
    expect(decision).toMatchObject({ outcome: "audit", allowed: true, warnings: [], action: "Audit" });
    expect(decision.events.map((e) => e.reason)).toEqual(["AdmissionAudit"]);
    expect(decision.events[0]?.message).toContain("has 1 finding (default action Audit)");
  });

  it("honours an exemption the requester may grant: admitted, a warning and an AdmissionExempted Event", () => {
    const exempt = finding({ exempt: true });
    const decision = run(engine({ findings: [exempt] }), { context: { exemptionGranted: true } });
    expect(decision).toMatchObject({ outcome: "allow", allowed: true });
    expect(decision.warnings).toEqual([
      "hardcoded-secret: Deployment/summarizer container app env[0].value exempted by annotation aiapiguard.dev/exempt",
    ]);
    expect(decision.events.map((e) => e.reason)).toEqual(["AdmissionExempted"]);
    expect(decision.events[0]?.message).toContain("granted to dev@example.com");
    expect(decision.findings[0]?.exempt).toBe(true);
  });

  it("does not honour an exemption the requester may not grant, and says what RBAC it needs", () => {
    const decision = run(engine({ findings: [finding({ exempt: true })] }));
    expect(decision).toMatchObject({ outcome: "deny", allowed: false });
    expect(decision.status?.message).toContain("hardcoded-secret");
    expect(decision.status?.message).toContain(
      'the aiapiguard.dev/exempt annotation was not honoured: dev@example.com may not grant exemptions in namespace ml-team (it needs the RBAC verb "exempt" on aiapipolicies.aiapiguard.dev there)',
    );
    expect(decision.findings[0]?.exempt).toBe(false);
  });

  describe("an exemption on an object a workload controller creates for its controller owner", () => {
    // The engine is a stub here: the object's kind does not matter, its ownerReferences do.
    const owned = (
      owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "summarizer-5d8f", controller: true },
    ) => {
      const object = deployment();
      (object.metadata as Record<string, unknown>).ownerReferences = [owner];
      return object;
    };
    const exemptKey = () => engine({ findings: [finding({ exempt: true })] });

    it.each([
      "system:serviceaccount:kube-system:replicaset-controller",
      "system:serviceaccount:kube-system:deployment-controller",
      "system:serviceaccount:kube-system:job-controller",
      "system:serviceaccount:kube-system:cronjob-controller",
      "system:serviceaccount:kube-system:statefulset-controller",
      "system:serviceaccount:kube-system:daemonset-controller",
      "system:serviceaccount:kube-system:replication-controller",
      "system:kube-controller-manager",
    ])("is honoured without a SubjectAccessReview when %s creates it", (username) => {
      const decision = run(exemptKey(), { object: owned(), context: { user: { username } } });
      expect(decision).toMatchObject({ outcome: "allow", allowed: true });
      expect(decision.findings[0]?.exempt).toBe(true);
      expect(decision.events.map((e) => e.reason)).toEqual(["AdmissionExempted"]);
      expect(decision.events[0]?.message).toContain(
        `granted to ${username} (carried from its controller ReplicaSet/summarizer-5d8f)`,
      );
    });

    it("is honoured for a custom resource's operator the cluster admin trusts (KubeRay), and only then", () => {
      const kuberay = { username: "system:serviceaccount:ray-system:kuberay-operator" };
      const object = owned({ apiVersion: "ray.io/v1", kind: "RayCluster", name: "llm", controller: true });
      const trusted = { trustedControllers: [kuberay.username] };
      const decision = run(exemptKey(), { object, config: trusted, context: { user: kuberay } });
      expect(decision).toMatchObject({ outcome: "allow", allowed: true });
      expect(decision.events[0]?.message).toContain(
        `granted to ${kuberay.username} (carried from its controller RayCluster/llm)`,
      );
      // Not trusted (the default): the operator's service account needs the verb like anyone else.
      const refused = run(exemptKey(), { object, context: { user: kuberay } });
      expect(refused.status?.message).toContain(`${kuberay.username} may not grant exemptions`);
      // Trusted, but the object names no controller owner: not a copy of an owner's template.
      expect(run(exemptKey(), { config: trusted, context: { user: kuberay } }).outcome).toBe("deny");
    });

    it("still needs the grant when anyone else creates it, owner or not", () => {
      const decision = run(exemptKey(), { object: owned() });
      expect(decision).toMatchObject({ outcome: "deny", allowed: false });
      expect(decision.status?.message).toContain("dev@example.com may not grant exemptions in namespace ml-team");
      const lookalike = { username: "system:serviceaccount:ml-team:replicaset-controller" };
      expect(run(exemptKey(), { object: owned(), context: { user: lookalike } }).outcome).toBe("deny");
    });

    it("still needs the grant when a controller creates an object with no controller owner", () => {
      const replicaset = { username: "system:serviceaccount:kube-system:replicaset-controller" };
      expect(run(exemptKey(), { context: { user: replicaset } }).outcome).toBe("deny");
      const notController = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "summarizer-5d8f", controller: false };
      expect(run(exemptKey(), { object: owned(notController), context: { user: replicaset } }).outcome).toBe("deny");
    });

    it("names an owner named with a key (a DeepSeek key is a valid name) by its hint", () => {
      const key = fakeSecrets(7).deepseek as string;
      const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: `${key}-5d8f`, controller: true };
      const user = { username: "system:serviceaccount:kube-system:replicaset-controller" };
      const decision = run(exemptKey(), { object: owned(owner), context: { user } });
      expect(decision.events[0]?.message).toContain(
        `(carried from its controller ReplicaSet/<DeepSeek API key ending …${key.slice(-4)}>-5d8f)`,
      );
      expect(decision.events[0]?.message).not.toContain(key);
    });
  });

  it("says when the annotation names no rule (a typo exempts nothing), without quoting a secret pasted there", () => {
    const key = fakeSecrets(7).openai as string;
    const object = deployment({
      env: [{ name: "OPENAI_API_KEY", value: key }],
      annotations: { "aiapiguard.dev/exempt": `hardcoded-secrets,${key}` },
    });
    const decision = run(evaluate, { object, context: { exemptionGranted: true } });
    expect(decision.outcome).toBe("deny");
    expect(decision.status?.message).toContain(
      'the aiapiguard.dev/exempt annotation names no rule in "hardcoded-secrets", 1 other entry: it exempts nothing there',
    );
    expect(decision.warnings).toContainEqual(expect.stringContaining('names no rule in "hardcoded-secrets"'));
    expect(JSON.stringify(decision)).not.toContain(key);
  });

  it("refuses for the other findings and warns about the exempt one", () => {
    const decision = run(engine({ findings: [finding({ exempt: true }), urlFinding] }), {
      context: { exemptionGranted: true },
    });
    expect(decision.outcome).toBe("deny");
    expect(decision.status?.message).toContain("has 1 finding");
    expect(decision.status?.message).not.toContain("hardcoded-secret");
    expect(decision.warnings).toHaveLength(1);
  });
});

describe("decide: objects that cannot be read", () => {
  const unreadable = { findings: [], unreadable: "spec.template.spec.containers is not a list" };

  it("refuses under Deny, saying the object could not be read (fail closed)", () => {
    const decision = run(engine(unreadable));
    expect(decision).toMatchObject({ outcome: "deny", allowed: false, note: unreadable.unreadable });
    expect(decision.status?.message).toBe(
      "Deployment ml-team/summarizer could not be read (spec.template.spec.containers is not a list), so it could not " +
        "be checked for secrets (default action Deny). Fix: make it a valid Deployment and apply it again.",
    );
  });

  it("lists the findings it did make as well", () => {
    const decision = run(engine({ ...unreadable, findings: [keyFinding] }));
    expect(decision.status?.message.split("\n")).toHaveLength(3);
  });

  it.each(["Warn", "Audit"] as const)("admits under %s with a warning", (action) => {
    const decision = run(engine(unreadable), { config: { defaultAction: action } });
    expect(decision).toMatchObject({ outcome: action.toLowerCase(), allowed: true });
    expect(decision.warnings).toEqual([
      "ai-api-guard could not read Deployment/summarizer: spec.template.spec.containers is not a list",
    ]);
  });

  it("treats an engine that throws as unreadable, without quoting the error", () => {
    const evaluate = vi.fn<Evaluate>(() => {
      throw new TypeError("cannot read sk-proj-CANARY");
    });
    const decision = run(evaluate);
    expect(decision).toMatchObject({
      outcome: "deny",
      allowed: false,
      note: "the rules engine failed on it (TypeError)",
    });
    expect(JSON.stringify(decision)).not.toContain("CANARY");
  });
});

describe("decide: names", () => {
  it("uses metadata.generateName when a CREATE has no name yet", () => {
    const object = { ...deployment(), metadata: { generateName: "summarizer-", namespace: "ml-team" } };
    const decision = run(engine({ findings: [keyFinding] }), { object, request: { name: undefined } });
    expect(decision.subject).toEqual({ kind: "Deployment", namespace: "ml-team", name: "summarizer-*" });
  });

  it("bounds a name taken from the object to Kubernetes' 253 characters", () => {
    const object = { ...deployment(), metadata: { name: "n".repeat(10_000), namespace: "ml-team" } };
    const decision = run(engine({ findings: [] }), { object, request: { name: undefined } });
    expect(decision.subject.name).toHaveLength(253);
  });

  it("keeps warnings under the limit for the longest names and paths", () => {
    const long = finding({
      container: "c".repeat(63),
      path: `data.${"k".repeat(253)}`,
      hint: "generic credential ending in abcd",
    });
    const object = deployment({ name: "n".repeat(253) });
    const decision = run(engine({ findings: [long, { ...long, exempt: true }] }), {
      object,
      config: { defaultAction: "Warn" },
      context: { exemptionGranted: true },
    });
    expect(decision.warnings).toHaveLength(2);
    for (const warning of decision.warnings) expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(decision.warnings[0]).toMatch(/\.\.\. \(generic credential ending in abcd\)$/);
    expect(decision.warnings[1]).toMatch(/\.\.\. exempted by annotation aiapiguard\.dev\/exempt$/);
  });
});

describe("decide: AiApiPolicy objects", () => {
  const now = new Date("2026-06-01T12:00:00Z");
  const review = (lastReviewed: string, namespace = "ml-team") => {
    const object = validPolicy("llm", namespace);
    object.spec.api.lastReviewed = lastReviewed;
    const request = admissionReview(object).request as AdmissionRequest;
    const evaluate = engine({ findings: [keyFinding] });
    const config = admissionConfig();
    const assessment = assess({ request, config, evaluate, scope: { policies: [], hosts: [] }, now });
    return { decision: decide(assessment, { config, policies: [], user: { username: "u" } }), evaluate };
  };

  it("refuses a lastReviewed date in the future, naming the field (the CRD schema has no clock)", () => {
    const { decision, evaluate } = review("2026-07-01");
    expect(decision.allowed).toBe(false);
    expect(decision.status?.code).toBe(422);
    expect(decision.status?.message).toContain("spec.api.lastReviewed");
    expect(decision.status?.message).toContain("today or earlier");
    expect(evaluate).not.toHaveBeenCalled(); // a policy is not scanned for secrets
  });

  it("admits a policy reviewed today or earlier", () => {
    expect(review("2026-06-01").decision.allowed).toBe(true);
    expect(review("2025-12-24").decision.allowed).toBe(true);
  });

  it("leaves policies in exempt namespaces alone", () => {
    expect(review("2030-01-01", "kube-system").decision).toMatchObject({ allowed: true, outcome: "skip" });
  });
});

describe("decide: every admission path", () => {
  const keyIn = (object: unknown) => JSON.stringify(object).includes("sk-");
  /** Finds the key wherever a test planted one ("sk-" in the object), and a URL finding on "http://". */
  const planted = vi.fn<Evaluate>((object) => ({
    findings: [
      ...(keyIn(object) ? [keyFinding] : []),
      ...(JSON.stringify(object).includes("http://") ? [urlFinding] : []),
    ],
  }));
  const withKey = () => deployment({ env: [{ name: "OPENAI_API_KEY", value: "sk-planted" }] });
  const withKeyAndUrl = () =>
    deployment({
      env: [
        { name: "OPENAI_API_KEY", value: "sk-planted" },
        { name: "LLM_URL", value: "http://api.example.com" },
      ],
    });

  it("on UPDATE admits the findings the old object had, with a warning and an Event, and refuses only new ones", () => {
    const kept = run(planted, { object: withKey(), request: { operation: "UPDATE", oldObject: withKey() } });
    expect(kept).toMatchObject({ outcome: "allow", allowed: true, existing: 1 });
    expect(kept.warnings).toEqual([
      "hardcoded-secret: Deployment/summarizer container app env[0].value (already there: admitted, fix it)",
    ]);
    expect(kept.events.map((e) => e.reason)).toEqual(["AdmissionExistingFindings"]);
    expect(kept.events[0]?.message).toContain("was updated with 1 finding it already had");

    const added = run(planted, { object: withKeyAndUrl(), request: { operation: "UPDATE", oldObject: withKey() } });
    expect(added).toMatchObject({ outcome: "deny", allowed: false, existing: 1 });
    expect(added.status?.message).toContain("has 1 finding");
    expect(added.status?.message).toContain("plaintext-endpoint");
    expect(added.status?.message).not.toContain("hardcoded-secret");
  });

  it("on UPDATE refuses a key added to a legacy object with more findings than a review keeps", () => {
    // Made at run time: 1,001 DeepSeek-shaped keys (no key-shaped literal sits in the repository).
    const keys = Array.from({ length: 1_002 }, () => `sk-${randomBytes(16).toString("hex")}`);
    const configMap = (count: number) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "legacy", namespace: "ml-team" },
      data: Object.fromEntries(keys.slice(0, count).map((key, i) => [`KEY_${String(i).padStart(4, "0")}`, key])),
    });
    const request = { operation: "UPDATE" as const, oldObject: configMap(1_001) };
    const kept = run(evaluate, { object: configMap(1_001), request, policies: [policy] });
    expect(kept).toMatchObject({ outcome: "allow", allowed: true, existing: 1_000 });
    // Before: the added key was the 1,002nd finding, past the 1,000 kept, and the UPDATE was admitted.
    const added = run(evaluate, { object: configMap(1_002), request, policies: [policy] });
    expect(added).toMatchObject({ outcome: "deny", allowed: false, existing: 999 });
    expect(added.status?.message).toContain("data.KEY_1001");
    expect(added.status?.message).not.toContain(keys[1_001]?.slice(3));
  });

  it("admits an UPDATE of an object the old version of which was unreadable in the same way, with a warning", () => {
    const unreadable = engine({ findings: [], unreadable: "spec.template.spec.containers is not a list" });
    const decision = run(unreadable, { request: { operation: "UPDATE", oldObject: deployment() } });
    expect(decision).toMatchObject({ outcome: "allow", allowed: true });
    expect(decision.warnings).toEqual([
      "ai-api-guard could not read Deployment/summarizer: spec.template.spec.containers is not a list",
    ]);
    expect(run(unreadable).outcome).toBe("deny");
  });

  it("reads the old object only when the new one has something to refuse", () => {
    planted.mockClear();
    run(planted, { request: { operation: "UPDATE", oldObject: withKey() } });
    expect(planted).toHaveBeenCalledTimes(1);
    planted.mockClear();
    run(planted, { object: withKey(), request: { operation: "UPDATE", oldObject: withKey() } });
    expect(planted).toHaveBeenCalledTimes(2);
  });

  it("reviews an UPDATE of an object being deleted: a key added refused, the finalizer's removal admitted", () => {
    const doomed = (object: Record<string, unknown>, finalizers: string[]) => ({
      ...object,
      metadata: { ...(object.metadata as object), deletionTimestamp: "2026-01-01T00:00:00Z", finalizers },
    });
    const old = doomed(deployment(), ["example.com/hold"]);
    const keyAdded = run(planted, {
      object: doomed(withKey(), ["example.com/hold"]),
      request: { operation: "UPDATE", oldObject: old },
    });
    expect(keyAdded.outcome).toBe("deny");
    const released = run(planted, {
      object: doomed(withKey(), []),
      request: { operation: "UPDATE", oldObject: doomed(withKey(), ["example.com/hold"]) },
    });
    expect(released.allowed).toBe(true);
  });

  it("reviews pods/ephemeralcontainers: a key in a debug container's env is refused", () => {
    const pod = { kind: "Pod", metadata: { name: "p", namespace: "ml-team" }, spec: { containers: [] } };
    const debugged = {
      ...pod,
      spec: { containers: [], ephemeralContainers: [{ name: "d", env: [{ value: "sk-x" }] }] },
    };
    const decision = run(planted, {
      object: debugged,
      request: { operation: "UPDATE", subResource: "ephemeralcontainers", oldObject: pod },
    });
    expect(decision.outcome).toBe("deny");
  });

  it.each<[string, unknown, string]>([
    ["no object", null, "the review carries no object"],
    ["an object that is not one", "a string", "the review's object is not an object"],
    ["an object with no kind", { metadata: { name: "x" } }, "the review's object has no kind"],
    ["an object of another kind", { kind: "ConfigMap", metadata: { name: "x" } }, "is a ConfigMap, not a Deployment"],
  ])("refuses under Deny a review that carries %s", (_, object, reason) => {
    const evaluate = engine({ findings: [] });
    const decision = run(evaluate, { request: { object } });
    expect(decision).toMatchObject({ outcome: "deny", allowed: false });
    expect(decision.note).toContain(reason);
    expect(evaluate).not.toHaveBeenCalled();
  });

  it("caps the refusal at 20 findings and says how many more there were", () => {
    const many = Array.from({ length: 15_000 }, (_, i) => finding({ hint: `key ${i}` }));
    const decision = run(engine({ findings: many }));
    const lines = decision.status?.message.split("\n") ?? [];
    expect(lines).toHaveLength(22);
    expect(lines[0]).toContain("has 15000 findings");
    expect(lines.at(-1)).toBe("- and 14980 more findings not listed here: `ai-api-guard scan FILE` lists them all");
    expect(decision.findings).toHaveLength(1_000); // kept for the metrics; the rest only counted
    expect(decision.status?.message.length).toBeLessThan(8_000);
  });

  it("caps warnings at 10, the last saying how many more", () => {
    const many = Array.from({ length: 50 }, (_, i) => finding({ hint: `key ${i}` }));
    const decision = run(engine({ findings: many }), { config: { defaultAction: "Warn" } });
    expect(decision.warnings).toHaveLength(10);
    expect(decision.warnings.at(-1)).toBe(
      "ai-api-guard: 41 more warnings not shown: `ai-api-guard scan FILE` lists them all",
    );
  });
});

describe("decide: the action floor", () => {
  const audit = policyView({ action: "Audit", selector: {} });

  it("raises a policy's action to the cluster's floor, and says so", () => {
    const decision = run(engine({ findings: [keyFinding] }), { policies: [audit] });
    expect(decision).toMatchObject({ outcome: "deny", action: "Deny" });
    expect(decision.status?.message).toContain(
      "AiApiPolicy ml-team/llm-service asks for Audit, below the action floor Deny (a cluster admin may lower it with the namespace label aiapiguard.dev/action-floor)",
    );
  });

  it("lets a policy act down to the namespace's own floor", () => {
    const decision = run(engine({ findings: [keyFinding] }), {
      policies: [audit],
      context: { namespaceFloor: "Audit" },
    });
    expect(decision).toMatchObject({ outcome: "audit", allowed: true });
    const warned = run(engine({ findings: [keyFinding] }), { policies: [audit], context: { namespaceFloor: "Warn" } });
    expect(warned.outcome).toBe("warn");
  });

  it("leaves the default action alone: it is the cluster admin's", () => {
    expect(run(engine({ findings: [keyFinding] }), { config: { defaultAction: "Audit" } }).outcome).toBe("audit");
  });
});

describe("decide: unregistered-ai-api, an action of its own", () => {
  // The real engine: the unregistered-ai-api rule is one of its rules, run with the policies assess passes.
  const openai = () =>
    deployment({
      env: [{ name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" }],
      labels: { app: "summarizer" },
    });
  const unregisteredLine =
    '- unregistered-ai-api in container "app" at spec.template.spec.containers[0].env[0].value: api.openai.com. Fix: Declare the API';

  it("admits a Deployment calling an AI API no policy registers, and records it under Audit by default", () => {
    const decision = run(evaluate, { object: openai() });
    expect(decision).toMatchObject({ outcome: "audit", allowed: true, warnings: [], action: "Deny" });
    expect(decision.unregisteredAction).toBe("Audit");
    expect(decision.findings.map((f) => f.rule)).toEqual(["unregistered-ai-api"]);
    expect(decision.events.map((e) => e.reason)).toEqual(["AdmissionAudit"]);
    expect(decision.events[0]?.message).toContain("has 1 finding (action Audit from --unregistered-action):");
    expect(decision.events[0]?.message).toContain(unregisteredLine);
  });

  it("refuses it when the setting says Deny, and warns when it says Warn", () => {
    const denied = run(evaluate, { object: openai(), config: { unregisteredAction: "Deny" } });
    expect(denied).toMatchObject({ outcome: "deny", allowed: false });
    expect(denied.status?.message).toContain("(action Deny from --unregistered-action)");
    const warned = run(evaluate, { object: openai(), config: { unregisteredAction: "Warn" } });
    expect(warned).toMatchObject({ outcome: "warn", allowed: true });
    expect(warned.warnings).toEqual([
      expect.stringMatching(/^unregistered-ai-api: Deployment\/summarizer container app/),
    ]);
  });

  it("admits it once a policy with that endpoint selects the Pods", () => {
    const policies = [policyView({ endpointHost: "api.openai.com", action: "Deny" })];
    const decision = run(evaluate, { object: openai(), policies, config: { unregisteredAction: "Deny" } });
    expect(decision).toMatchObject({ outcome: "allow", allowed: true, findings: [] });
  });

  it("keeps the governing action for the other findings: a key is refused, the unregistered API is not named in the refusal", () => {
    // The real engine's findings (the unregistered API) and a planted key.
    const withKey: Evaluate = (object, context) => ({ findings: [keyFinding, ...evaluate(object, context).findings] });
    const decision = run(withKey, { object: openai() });
    expect(decision.findings.map((f) => f.rule)).toEqual(["hardcoded-secret", "unregistered-ai-api"]);
    expect(decision).toMatchObject({ outcome: "deny", allowed: false });
    expect(decision.status?.message).toContain("hardcoded-secret");
    expect(decision.status?.message).not.toContain("unregistered-ai-api");
    const warned = run(withKey, { object: openai(), config: { defaultAction: "Warn" } });
    expect(warned).toMatchObject({ outcome: "warn", allowed: true });
    expect(warned.warnings).toHaveLength(1);
    expect(warned.events.map((e) => e.reason)).toEqual(["AdmissionAudit"]);
  });

  // A policy that selects the Pods but declares another endpoint: the API stays unregistered.
  const selecting = (name: string, unregisteredAction?: PolicyView["action"]) =>
    policyView({ name, action: "Audit", ...(unregisteredAction && { unregisteredAction }) });

  it("refuses it when a policy selecting the Pods says Deny, whatever the setting, and names that policy", () => {
    const decision = run(evaluate, { object: openai(), policies: [selecting("strict", "Deny")] });
    expect(decision).toMatchObject({ outcome: "deny", allowed: false, unregisteredAction: "Deny" });
    expect(decision.status?.message).toContain("(action Deny from AiApiPolicy ml-team/strict):");
    expect(decision.status?.message).toContain(unregisteredLine);
  });

  it("lets a policy relax the setting for its workloads, and keeps the setting where no policy chooses", () => {
    const relaxed = run(evaluate, {
      object: openai(),
      policies: [selecting("lenient", "Audit")],
      config: { unregisteredAction: "Deny" },
    });
    expect(relaxed).toMatchObject({ outcome: "audit", allowed: true, unregisteredAction: "Audit" });
    const silent = run(evaluate, {
      object: openai(),
      policies: [selecting("silent")],
      config: { unregisteredAction: "Warn" },
    });
    expect(silent).toMatchObject({ outcome: "warn", allowed: true, unregisteredAction: "Warn" });
  });

  it("ignores a policy's choice where it does not select the Pods", () => {
    const elsewhere = [
      policyView({ namespace: "other", unregisteredAction: "Deny" }),
      policyView({ name: "web", selector: { matchLabels: { app: "web" } }, unregisteredAction: "Deny" }),
    ];
    expect(run(evaluate, { object: openai(), policies: elsewhere }).outcome).toBe("audit");
  });

  it("takes the strictest choice among the policies selecting the Pods", () => {
    const policies = [selecting("a-warn", "Warn"), selecting("b-deny", "Deny"), selecting("c-audit", "Audit")];
    const decision = run(evaluate, { object: openai(), policies });
    expect(decision).toMatchObject({ outcome: "deny", unregisteredAction: "Deny" });
    expect(decision.status?.message).toContain("(action Deny from AiApiPolicy ml-team/b-deny):");
    const warned = run(evaluate, {
      object: openai(),
      policies: [selecting("a-audit", "Audit"), selecting("b-warn", "Warn")],
    });
    expect(warned).toMatchObject({ outcome: "warn", unregisteredAction: "Warn" });
  });

  it("is not raised by the floor when a policy chooses it either", () => {
    const decision = run(evaluate, {
      object: openai(),
      policies: [selecting("lenient", "Warn")],
      config: { actionFloor: "Deny" },
    });
    expect(decision).toMatchObject({ outcome: "warn", allowed: true });
  });

  it("is not raised by the action floor, which bounds policies only", () => {
    const decision = run(evaluate, { object: openai(), config: { actionFloor: "Deny", unregisteredAction: "Warn" } });
    expect(decision.outcome).toBe("warn");
  });
});
