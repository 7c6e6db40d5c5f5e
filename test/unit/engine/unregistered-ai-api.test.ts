import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSource } from "../../../src/cli/scan/documents.ts";
import { evaluate } from "../../../src/engine/index.ts";
import { aiProviderOf } from "../../../src/engine/rules/ai-providers.ts";
import { type RegisteredApi, unregisteredAiApis } from "../../../src/engine/rules/unregistered-ai-api.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { folderWith, runCli } from "../cli/run.ts";

type Container = Record<string, unknown>;

function deployment(container: Container, extra: { volumes?: unknown[]; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "chat", namespace: "ml", ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      template: {
        metadata: { labels: { app: "chat" } },
        spec: { containers: [{ name: "app", image: "chat:1", ...container }], volumes: extra.volumes },
      },
    },
  };
}

const withEnv = (value: string) => deployment({ env: [{ name: "LLM_URL", value }] });

const openaiPolicy = (over: Partial<RegisteredApi> = {}): RegisteredApi => ({
  namespace: "ml",
  name: "openai",
  endpointHost: "api.openai.com",
  selector: { matchLabels: { app: "chat" } },
  ...over,
});

describe("unregistered-ai-api", () => {
  it("reports a known provider's host that no policy declares, with the host as hint and where it is", () => {
    const [finding, ...rest] = unregisteredAiApis(withEnv("https://api.openai.com/v1"), { policies: [] });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      rule: "unregistered-ai-api",
      category: "inventory",
      resource: "Deployment/ml/chat",
      container: "app",
      path: "spec.template.spec.containers[0].env[0].value",
      provider: "OpenAI",
      hint: "api.openai.com",
      exempt: false,
    });
    expect(finding?.message).toBe(
      'container "app" env LLM_URL: calls OpenAI (api.openai.com) which no AiApiPolicy selecting this workload declares',
    );
  });

  it("is quiet when a policy in the namespace with that endpoint selects the workload", () => {
    expect(unregisteredAiApis(withEnv("https://api.openai.com/v1"), { policies: [openaiPolicy()] })).toEqual([]);
  });

  it("still reports when the policy with that endpoint selects other pods, lives elsewhere, or declares another API", () => {
    for (const policy of [
      openaiPolicy({ selector: { matchLabels: { app: "other" } } }),
      openaiPolicy({ namespace: "other" }),
      openaiPolicy({ endpointHost: "api.anthropic.com" }),
    ]) {
      expect(unregisteredAiApis(withEnv("https://api.openai.com/v1"), { policies: [policy] })).toHaveLength(1);
    }
  });

  it("knows every provider of its table, regional and per-resource hosts included", () => {
    expect(aiProviderOf("bedrock-runtime.us-east-1.amazonaws.com")).toBe("AWS Bedrock");
    expect(aiProviderOf("us-central1-aiplatform.googleapis.com")).toBe("Google Vertex AI");
    expect(aiProviderOf("generativelanguage.googleapis.com")).toBe("Google Generative Language (Gemini)");
    expect(aiProviderOf("contoso.openai.azure.com")).toBe("Azure OpenAI");
    expect(aiProviderOf("my-ep.us-east-1.aws.endpoints.huggingface.cloud")).toBeUndefined();
    expect(aiProviderOf("abc.endpoints.huggingface.cloud")).toBe("Hugging Face Inference");
    for (const host of ["api.anthropic.com", "api.mistral.ai", "api.cohere.com", "api.groq.com", "api.together.xyz"])
      expect(aiProviderOf(host), host).toBeDefined();
    expect(aiProviderOf("api.replicate.com")).toBe("Replicate");
    expect(aiProviderOf("s3.us-east-1.amazonaws.com")).toBeUndefined();
  });

  it("reads bare hosts, host:port and hosts inside commands, but not look-alikes or other hosts", () => {
    const hosts = (value: string) => unregisteredAiApis(withEnv(value), { policies: [] }).map((f) => f.hint);
    expect(hosts("api.anthropic.com:443")).toEqual(["api.anthropic.com"]);
    expect(hosts("curl -s https://API.GROQ.COM/openai/v1/models")).toEqual(["api.groq.com"]);
    expect(hosts("https://api.openai.com.evil.example/v1")).toEqual([]);
    expect(hosts("https://notapi.openai.com/v1")).toEqual([]);
    expect(hosts("postgres://db.example.net:5432/app")).toEqual([]);
    const args = deployment({ args: ["--endpoint", "https://api.mistral.ai/v1"] });
    expect(unregisteredAiApis(args, { policies: [] })[0]?.path).toBe("spec.template.spec.containers[0].args[1]");
  });

  it("reports a policy's endpoint host that the workload calls without being selected", () => {
    const gateway = openaiPolicy({ name: "gateway", endpointHost: "llm.internal.example", namespace: "platform" });
    const [finding] = unregisteredAiApis(withEnv("https://llm.internal.example/v1"), { policies: [gateway] });
    expect(finding?.provider).toBeUndefined();
    expect(finding?.message).toContain("calls llm.internal.example, an AiApiPolicy endpoint,");
  });

  // Before: `volume[endpoint]`, `annotation[llm-endpoint]`, `container "app" probe[host]`: words of its own, and
  // no volume name, where every other rule's finding says `volume "models" csi.volumeAttributes.endpoint`.
  it("names where a host sits as every other rule does: the volume, the annotation, the probe's field", () => {
    const workload = deployment(
      { readinessProbe: { httpGet: { host: "api.mistral.ai", port: 443, scheme: "HTTPS" } } },
      {
        annotations: { "llm-endpoint": "https://api.anthropic.com/v1" },
        volumes: [
          { name: "cache", emptyDir: {} },
          {
            name: "models",
            csi: { driver: "s3.csi.example.com", volumeAttributes: { endpoint: "https://api.openai.com" } },
          },
        ],
      },
    );
    const findings = unregisteredAiApis(workload, { policies: [] });
    expect(findings.map((f) => f.message.slice(0, f.message.indexOf(": calls")))).toEqual([
      'annotation "llm-endpoint"',
      'container "app" readinessProbe.httpGet.host',
      'volume "models" csi.volumeAttributes.endpoint',
    ]);
    expect(findings.map((f) => f.volume)).toEqual([undefined, undefined, "models"]);
    // The same place as a key there is named by the hardcoded-secret rule.
    const key = fakeSecrets(5).anthropic ?? "";
    const keyed = deployment({}, { volumes: [{ name: "models", csi: { volumeAttributes: { endpoint: key } } }] });
    expect(evaluate(keyed).findings[0]?.message).toMatch(/^volume "models" csi\.volumeAttributes\.endpoint: /);
  });

  it("reads the ConfigMaps the pod uses (envFrom, configMapKeyRef's key only, volumes), and points at the reference", () => {
    const data: Record<string, Record<string, string>> = {
      "ml/llm": { OPENAI_BASE_URL: "https://api.openai.com/v1", OTHER: "https://api.cohere.com" },
      "ml/files": { "config.yaml": "provider:\n  url: https://bedrock-runtime.eu-west-1.amazonaws.com\n" },
    };
    const configMap = (namespace: string, name: string) => data[`${namespace}/${name}`];
    const byEnvFrom = deployment({ envFrom: [{ configMapRef: { name: "llm" } }] });
    expect(unregisteredAiApis(byEnvFrom, { policies: [], configMap }).map((f) => [f.hint, f.path])).toEqual([
      ["api.openai.com", "spec.template.spec.containers[0].envFrom[0].configMapRef"],
      ["api.cohere.com", "spec.template.spec.containers[0].envFrom[0].configMapRef"],
    ]);
    const byKey = deployment({
      env: [{ name: "URL", valueFrom: { configMapKeyRef: { name: "llm", key: "OPENAI_BASE_URL" } } }],
    });
    const [keyed, ...none] = unregisteredAiApis(byKey, { policies: [], configMap });
    expect(none).toEqual([]);
    expect(keyed?.message).toBe(
      'container "app" ConfigMap "llm" key "OPENAI_BASE_URL" (env URL): calls OpenAI (api.openai.com) which no AiApiPolicy selecting this workload declares',
    );
    const byVolume = deployment({}, { volumes: [{ name: "cfg", configMap: { name: "files" } }] });
    const [mounted] = unregisteredAiApis(byVolume, { policies: [], configMap });
    expect(mounted).toMatchObject({ provider: "AWS Bedrock", path: "spec.template.spec.volumes[0].configMap" });
    expect(mounted?.container).toBeUndefined();
  });

  it("finds ConfigMap references in every pod spec of a custom resource, worker groups included", () => {
    const rayCluster = {
      apiVersion: "ray.io/v1",
      kind: "RayCluster",
      metadata: { name: "ray", namespace: "ml", labels: { app: "chat" } },
      spec: {
        headGroupSpec: { template: { spec: { containers: [{ name: "head", image: "ray:2" }] } } },
        workerGroupSpecs: [
          {
            groupName: "gpu",
            template: { spec: { containers: [{ name: "worker", envFrom: [{ configMapRef: { name: "llm" } }] }] } },
          },
        ],
      },
    };
    const configMap = (namespace: string, name: string) =>
      namespace === "ml" && name === "llm" ? { BASE_URL: "https://api.groq.com/openai/v1" } : undefined;
    const [finding, ...rest] = unregisteredAiApis(rayCluster, { policies: [], configMap });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      hint: "api.groq.com",
      container: "worker",
      path: "spec.workerGroupSpecs[0].template.spec.containers[0].envFrom[0].configMapRef",
    });
  });

  it("honours the exempt annotation as for every rule: reported, marked exempt", () => {
    const exempt = deployment(
      { env: [{ name: "U", value: "https://api.openai.com" }] },
      { annotations: { "aiapiguard.dev/exempt": "plaintext-endpoint, unregistered-ai-api" } },
    );
    expect(unregisteredAiApis(exempt, { policies: [] })[0]?.exempt).toBe(true);
  });

  it("is reported by scan, with policies and ConfigMaps from any input file", () => {
    const root = folderWith({
      "cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: llm, namespace: ml}\ndata: {URL: 'https://api.anthropic.com'}\n",
      "app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: ml}
spec:
  template:
    metadata: {labels: {app: chat}}
    spec:
      containers:
        - name: app
          image: chat:1
          envFrom: [{configMapRef: {name: llm}}]
          env: [{name: OPENAI_BASE_URL, value: "https://api.openai.com/v1"}]
`,
      "policy.yaml": `apiVersion: aiapiguard.dev/v1alpha1
kind: AiApiPolicy
metadata: {name: openai, namespace: ml}
spec:
  api: {endpoint: "https://api.openai.com/v1", authType: APIKey, sensitivity: High}
  selector: {matchLabels: {app: chat}}
`,
    });
    const run = runCli(["scan", "--format", "json", root]);
    expect(run.code, run.stderr).toBe(1);
    const findings = JSON.parse(run.stdout).findings as { rule: string; message: string; line?: number }[];
    expect(findings.map((f) => [f.rule, f.message, f.line])).toEqual([
      [
        "unregistered-ai-api",
        'container "app" ConfigMap "llm" key "URL" (envFrom): calls Anthropic (api.anthropic.com) which no AiApiPolicy selecting this workload declares',
        11,
      ],
    ]);
  });
});

describe("unregistered-ai-api inside evaluate (one walk of the object for every rule)", () => {
  // Every public manifest of the real-world corpus: evaluate() with the inventory context reports exactly
  // what the rule reports on its own, with and without a policy that registers some of the APIs.
  const root = join(import.meta.dirname, "../../fixtures/real-world");
  const objects = readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.ya?ml$/.test(file))
    .flatMap((file) => parseSource(file, readFileSync(join(root, file), "utf8")).objects.map((o) => o.object));

  it.each([
    ["no policies", [] as RegisteredApi[]],
    [
      "policy endpoints, registered for some workloads and not for others",
      [
        openaiPolicy({ namespace: "", selector: {} }),
        openaiPolicy({ namespace: "", name: "ray", endpointHost: "ray.io", selector: {} }),
        ...["github.com", "nvidia.com", "argoproj.io"].map((host) =>
          openaiPolicy({ namespace: "elsewhere", name: host, endpointHost: host }),
        ),
      ],
    ],
  ])("finds the same uses as the rule alone, with %s", (_, policies) => {
    const inventory = { policies };
    let found = 0;
    for (const object of objects) {
      const alone = unregisteredAiApis(object, inventory);
      const within = evaluate(object, { inventory }).findings.filter((f) => f.rule === "unregistered-ai-api");
      expect(within).toEqual(alone);
      found += alone.length;
    }
    expect(objects.length).toBeGreaterThan(1_000);
    expect(found).toBeGreaterThan(policies.length > 0 ? 50 : 0);
  });

  it("does not run without the inventory context", () => {
    const object = withEnv("https://api.openai.com/v1");
    expect(unregisteredAiApis(object, { policies: [] })).toHaveLength(1);
    expect(evaluate(object).findings).toEqual([]);
  });
});
