// What the webhook asks the API server, against the real one: the ConfigMaps a reviewed workload reads
// (kept as the host names in them, and nothing else of their values), the namespace's action floor, and
// whether a user may grant exemptions; and what each answers when the API server does not.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it, onTestFinished } from "vitest";
import { API_GROUP, PLURAL } from "../../src/api/index.ts";
import { KubeRest } from "../../src/kube/rest.ts";
import { apiLookups, EXEMPT_VERB } from "../../src/webhook/lookups.ts";
import { FLOOR_LABEL } from "../../src/webhook/policies.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
import { freezingProxy } from "../support/freezing-proxy.ts";
import { capturedLogger } from "../support/logs.ts";

const ns = useTestNamespace("lookups");
const CANARY = "canary-2b7e151628aed2a6abf71589";

describe("the webhook's lookups", () => {
  it("keeps of a ConfigMap only the host names its values hold, and reads a missing one as absent, silently", async () => {
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: {
        metadata: { name: "llm-settings" },
        data: {
          OPENAI_BASE_URL: "https://api.openai.com/v1",
          "app.yaml": `upstream: https://llm-gateway.example/v1\nfallback: https://API.Anthropic.com\ntoken: ${CANARY}`,
          LOG_LEVEL: "info",
        },
      },
    });
    const { logger, lines } = capturedLogger();
    const lookups = apiLookups(new KubeRest(kubeConfig()), { logger });
    const hosts = await lookups.configMapHosts?.(ns.name, "llm-settings");
    expect(hosts).toEqual({
      OPENAI_BASE_URL: "api.openai.com",
      "app.yaml": "llm-gateway.example api.anthropic.com",
    });
    expect(JSON.stringify(hosts)).not.toContain(CANARY);
    expect(await lookups.configMapHosts?.(ns.name, "created-later")).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("reads the action floor a cluster admin set on the namespace", async () => {
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const lookups = apiLookups(new KubeRest(kubeConfig()), { logger: capturedLogger().logger });
    expect(await lookups.namespaceFloor(ns.name)).toBeUndefined();
    await core.patchNamespace(
      { name: ns.name, body: { metadata: { labels: { [FLOOR_LABEL]: "Warn" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const fresh = apiLookups(new KubeRest(kubeConfig()), { logger: capturedLogger().logger });
    expect(await fresh.namespaceFloor(ns.name)).toBe("Warn");
  });

  it("is a no within seconds when the API server stops answering: no exemption, the cluster's floor", async () => {
    const kc = kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    const user = { username: "dev@example.com", groups: ["system:authenticated"] };
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: "exempter" },
        rules: [{ apiGroups: [API_GROUP], resources: [PLURAL], verbs: [EXEMPT_VERB] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: "exempter" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "exempter" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user.username }],
      },
    });
    await core.patchNamespace(
      { name: ns.name, body: { metadata: { labels: { [FLOOR_LABEL]: "Warn" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: "llm" }, data: { OPENAI_BASE_URL: "https://api.openai.com/v1" } },
    });
    const proxy = await freezingProxy();
    onTestFinished(() => proxy.close());
    const rest = new KubeRest(proxy.kubeConfig());
    const ask = (lookups: ReturnType<typeof apiLookups>) =>
      Promise.all([
        lookups.mayExempt(user, ns.name),
        lookups.namespaceFloor(ns.name),
        lookups.configMapHosts?.(ns.name, "llm"),
      ]);
    // Answered, each lookup says yes: the exemption may be granted, the floor is lowered, the ConfigMap names a host.
    const answered = await ask(apiLookups(rest, { logger: capturedLogger().logger }));
    expect(answered).toEqual([true, "Warn", { OPENAI_BASE_URL: "api.openai.com" }]);

    // The connections those answers came on (the pool keeps them) stall, as does any new one.
    proxy.freeze();
    const { logger, lines } = capturedLogger();
    const stalled = ask(apiLookups(rest, { logger }));
    // Before, the SubjectAccessReview and the namespace read waited as long as undici does (300 s): the API server
    // gave up on the review first, and failurePolicy Ignore admitted the key the exemption asked for.
    const hang = new Promise((resolve) => setTimeout(() => resolve("no answer"), 15_000).unref());
    expect(await Promise.race([stalled, hang])).toEqual([false, undefined, undefined]);
    expect(lines.map((line) => JSON.parse(line).msg).sort()).toEqual([
      "could not ask whether a user may grant exemptions",
      "could not read a ConfigMap",
      "could not read the namespace's action floor",
    ]);
  });

  it("names a ConfigMap named with a key (a DeepSeek key is a valid name) by its hint when it cannot read it", async () => {
    const key = `sk-${randomBytes(16).toString("hex")}`;
    const proxy = await freezingProxy();
    onTestFinished(() => proxy.close());
    proxy.freeze();
    const { logger, lines } = capturedLogger();
    const lookups = apiLookups(new KubeRest(proxy.kubeConfig()), { logger });
    expect(await lookups.configMapHosts?.(ns.name, key)).toBeUndefined();
    expect(lines.map((line) => JSON.parse(line).configMap)).toEqual([`<DeepSeek API key ending …${key.slice(-4)}>`]);
    expect(lines.join("")).not.toContain(key.slice(3, 20));
  });
});
