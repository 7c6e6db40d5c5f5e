// A developer who may write workloads, Pods and ConfigMaps in one namespace (not policies, namespaces or
// RBAC) trying to store a key where the webhook does not look, through kubectl and the real API server.
// Each refusal must name where the key is and never quote it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds, installTestCrd } from "../support/crds.ts";
import { fakeSecrets, seeded } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const run = randomBytes(3).toString("hex");
const ns = `hostile-${run}`;
const secrets = fakeSecrets(Number.parseInt(run, 16) + 7);
const KEY = secrets.openai as string;
const GOOGLE_KEY = secrets.google as string;
const DENIED = 'admission webhook "validate.aiapiguard.dev" denied the request:';
const AS_DEV = ["--as=dev", "-n", ns];

const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const asDev = (verb: string[], object: object) =>
  kubectl([...verb, ...AS_DEV, "-f", "-"], { input: stringify(object) });

function pod(name: string, container: object, annotations: Record<string, string> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, annotations },
    spec: { containers: [{ name: "app", image: "registry.example/app:1", ...container }] },
  };
}

/** Refused under Deny, naming `where`, and the key nowhere in what kubectl prints. */
function expectRefused(result: { code: number; stderr: string; stdout: string }, where: string, key = KEY) {
  expect(result.code, result.stdout).not.toBe(0);
  expect(result.stderr).toContain(DENIED);
  expect(result.stderr).toContain(where);
  expect(result.stderr + result.stdout).not.toContain(key);
}

/** AI workload kinds of the families the webhook reviews (Kubeflow, Knative), each holding a pod template. */
const AI_CRDS = [
  { group: "kubeflow.org", version: "v1", kind: "Notebook", plural: "notebooks" },
  { group: "serving.knative.dev", version: "v1", kind: "Configuration", plural: "configurations" },
  { group: "trainer.kubeflow.org", version: "v1alpha1", kind: "TrainingRuntime", plural: "trainingruntimes" },
];

/** The CRD with an open schema: the API server stores the pod template as written, as the real one does. */
function openCrd({ group, version, kind, plural }: (typeof AI_CRDS)[number]) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

let operator: Operator;

const PASSWORDS = Array.from({ length: 25 }, (_, i) => `SERVICE_${i}_PASSWORD=${seeded(i + 1)(24)}`);

/** A file of `lines` (the passwords by default), written to a folder of its own. */
function legacyFile(lines = PASSWORDS): string {
  const path = join(mkdtempSync(join(tmpdir(), "hostile-")), "app.env");
  writeFileSync(path, [...lines, ""].join("\n"));
  return path;
}

beforeAll(async () => {
  await installCrds();
  for (const crd of AI_CRDS) await installTestCrd(openCrd(crd));
  await core().createNamespace({ body: { metadata: { name: ns, labels: { "aiapiguard-hostile": run } } } });
  const role = await kubectl(["apply", "-f", "-"], {
    input: stringify({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "developer", namespace: ns },
      rules: [
        { apiGroups: ["", "apps", "batch"], resources: ["pods", "configmaps", "deployments", "jobs"], verbs: ["*"] },
        { apiGroups: [...AI_CRDS.map((crd) => crd.group)], resources: ["*"], verbs: ["*"] },
      ],
    }),
  });
  const binding = await kubectl(["create", "rolebinding", "developer", "--role=developer", "--user=dev", "-n", ns]);
  expect(role.code + binding.code, role.stderr + binding.stderr).toBe(0);
  // A ConfigMap from before the webhook: a file of more passwords than one value is reported by.
  const legacy = await kubectl(["create", "configmap", "legacy", `--from-file=app.env=${legacyFile()}`, ...AS_DEV]);
  expect(legacy.code, legacy.stderr).toBe(0);
  operator = await startOperator(kubeconfigPath(), [
    "--webhook-config-name",
    `hostile-${run}`,
    "--namespace-selector",
    `aiapiguard-hostile=${run}`,
  ]);
});

afterAll(async () => {
  await operator?.stop();
  await core()
    .deleteNamespace({ name: ns })
    .catch(() => undefined);
  // The open-schema CRDs are this file's own: no other test meets them.
  await kubectl(["delete", "crd", "--wait=false", ...AI_CRDS.map((crd) => `${crd.plural}.${crd.group}`)]);
});

describe("kubectl's last-applied-configuration copy", () => {
  it("is refused when it holds a key the object does not: a field the API server drops under --validate=false", async () => {
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dropped", namespace: ns } };
    const applied = await asDev(["apply", "--validate=false"], { ...configMap, openaiKey: KEY });
    expectRefused(applied, "last-applied-configuration");
    expect(applied.stderr).toContain('OpenAI API key ending "…');
    expect(applied.stderr).toContain("take it out of the manifest and kubectl apply it again");
  });

  it("is refused when written by hand (kubectl create rewrites it; kubectl annotate does not)", async () => {
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "annotated", namespace: ns } };
    const created = await asDev(["create"], configMap);
    expect(created.code, created.stderr).toBe(0);
    const copy = `kubectl.kubernetes.io/last-applied-configuration=OPENAI_API_KEY=${KEY}`;
    expectRefused(await kubectl(["annotate", "configmap", "annotated", copy, ...AS_DEV]), "last-applied-configuration");
  });

  it("adds no finding of its own where it copies the object: a key applied is reported once, a clean apply admitted", async () => {
    const keyed = await asDev(["apply"], pod("keyed", { env: [{ name: "OPENAI_API_KEY", value: KEY }] }));
    expectRefused(keyed, "spec.containers[0].env[0].value");
    expect(keyed.stderr).toContain("has 1 finding");
    const clean = pod("clean", { env: [{ name: "OPENAI_BASE_URL", value: "https://api.openai.com/v1" }] });
    const applied = await asDev(["apply"], clean);
    expect(applied.code, applied.stderr).toBe(0);
    const reapplied = await asDev(["apply"], { ...clean, metadata: { ...clean.metadata, labels: { tier: "web" } } });
    expect(reapplied.code, reapplied.stderr).toBe(0);
  });
});

describe("container fields besides env, command and args", () => {
  it.each([
    ["workingDir", { workingDir: `/srv/${KEY}` }, "spec.containers[0].workingDir"],
    ["a probe's path", { readinessProbe: { httpGet: { path: `/ready/${KEY}`, port: 8080 } } }, "httpGet.path"],
    ["an env var's name", { env: [{ name: KEY, value: "1" }] }, "spec.containers[0].env[0].name"],
  ])("refuse a key in %s", async (_, container, where) => {
    expectRefused(await asDev(["create"], pod(`field-${randomBytes(3).toString("hex")}`, container)), where);
  });

  it("refuse a key in a volume's fields besides CSI attributes, flexVolume options and gitRepo", async () => {
    const keyed = pod("nfs", {});
    const volumes = [{ name: "models", nfs: { server: "nfs.example.com", path: `/exports/${KEY}` } }];
    const refused = await asDev(["create"], { ...keyed, spec: { ...keyed.spec, volumes } });
    expectRefused(refused, 'in volume "models" at spec.volumes[0].nfs.path');
  });

  it("refuse a key in an image tag set with kubectl set image", async () => {
    const created = await asDev(["apply"], pod("tagged", {}));
    expect(created.code, created.stderr).toBe(0);
    const set = await kubectl(["set", "image", "pod/tagged", `app=registry.example/app:${GOOGLE_KEY}`, ...AS_DEV]);
    expectRefused(set, "spec.containers[0].image", GOOGLE_KEY);
  });
});

describe("names", () => {
  it("refuse a key written as a ConfigMap key's name (kubectl create configmap --from-literal)", async () => {
    const created = await kubectl(["create", "configmap", "named", `--from-literal=${KEY}=1`, ...AS_DEV]);
    expectRefused(created, 'hardcoded-secret at data["<OpenAI API key ending');
  });

  it("refuse a key written as an annotation's name", async () => {
    const created = await asDev(["create"], { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain" } });
    expect(created.code, created.stderr).toBe(0);
    const annotated = await kubectl(["annotate", "configmap", "plain", `example.com/${GOOGLE_KEY}=1`, ...AS_DEV]);
    expectRefused(annotated, 'metadata.annotations["example.com/<Google API key ending', GOOGLE_KEY);
  });

  it("are never quoted when they hold a key, whatever the finding under them", async () => {
    const created = await kubectl([
      "create",
      "configmap",
      "endpoint",
      `--from-literal=${GOOGLE_KEY}=http://llm.example.com/v1`,
      ...AS_DEV,
    ]);
    expectRefused(created, "plaintext-endpoint", GOOGLE_KEY);
  });
});

describe("binaryData", () => {
  it("is read as text when it is UTF-16 without a byte order mark", async () => {
    const bytes = Buffer.from(`OPENAI_API_KEY=${KEY}\n`, "utf16le").toString("base64");
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "utf16" },
      binaryData: { "app.env": bytes },
    };
    expectRefused(await asDev(["create"], configMap), 'binaryData["app.env"]');
  });
});

describe("metadata besides annotations and labels", () => {
  const configMap = (name: string, metadata: object = {}) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, ...metadata },
    data: { MODEL: "gpt-5" },
  });

  it("refuses a key as the field manager's name (kubectl --field-manager)", async () => {
    const created = await asDev(["create", `--field-manager=${secrets.anthropic}`], configMap("managed"));
    expectRefused(created, "metadata.managedFields[0].manager", secrets.anthropic);
  });

  it("refuses a key in a finalizer", async () => {
    const created = await asDev(["create"], configMap("finalized", { finalizers: [`example.com/${GOOGLE_KEY}`] }));
    expectRefused(created, "metadata.finalizers[0]", GOOGLE_KEY);
  });
});

describe("long files", () => {
  it("refuse a prefix-less key after many harmless pairs (kubectl create configmap --from-file)", async () => {
    const padding = Array.from({ length: 100 }, (_, i) => `CACHE_KEY_PREFIX_${i}=cache`);
    const file = legacyFile([...padding, `MISTRAL_API_KEY=${secrets.mistral}`]);
    const created = await kubectl(["create", "configmap", "padded", `--from-file=${file}`, ...AS_DEV]);
    expectRefused(created, 'data["app.env"]', secrets.mistral);
    expect(created.stderr).toContain("Mistral API key");
  });
});

describe("AI workload custom resources", () => {
  const podTemplate = {
    spec: { containers: [{ name: "app", image: "x", env: [{ name: "OPENAI_API_KEY", value: KEY }] }] },
  };
  const specs: Record<string, object> = {
    Notebook: { template: podTemplate },
    Configuration: { template: podTemplate },
    TrainingRuntime: {
      template: { spec: { replicatedJobs: [{ name: "node", template: { spec: { template: podTemplate } } }] } },
    },
  };

  it.each(AI_CRDS.map((crd) => [`${crd.plural}.${crd.group}`, crd] as const))(
    "refuse a key in the pod template of %s",
    async (_, { group, version, kind }) => {
      const object = { apiVersion: `${group}/${version}`, kind, metadata: { name: "keyed" }, spec: specs[kind] };
      expectRefused(await asDev(["create"], object), "env[0].value");
    },
  );
});

describe("an object whose findings predate the webhook", () => {
  it("gets no new key into a value already reported by as many findings as one value shows", async () => {
    const grown = legacyFile([...PASSWORDS, `MISTRAL_API_KEY=${secrets.mistral}`]);
    const replaced = await kubectl(
      ["create", "configmap", "legacy", `--from-file=app.env=${grown}`, "--dry-run=client", "-o", "yaml"],
      {},
    );
    expectRefused(
      await kubectl(["replace", ...AS_DEV, "-f", "-"], { input: replaced.stdout }),
      'data["app.env"]',
      secrets.mistral,
    );
  });
});
