// What the webhook asks the API server, against the real one: the ConfigMaps a reviewed workload reads
// (kept as the host names in them, and nothing else of their values) and the namespace's action floor.
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeRest } from "../../src/kube/rest.ts";
import { apiLookups } from "../../src/webhook/lookups.ts";
import { FLOOR_LABEL } from "../../src/webhook/policies.ts";
import { kubeConfig, useTestNamespace } from "../support/cluster.ts";
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
});
