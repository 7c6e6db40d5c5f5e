import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXEMPT_ANNOTATION, evaluate, shownName } from "../../../src/engine/index.ts";
import { podWithVolumes } from "../../support/admission.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";
import { deployment } from "./build.ts";

const key = fakeSecrets(3).groq ?? "";
const container = (name = "app") => ({ name, image: "app:1", env: [{ name: "GROQ_API_KEY", value: key }] });
const podSpec = (spec: Record<string, unknown> = {}) => ({ containers: [container()], ...spec });

describe("workload extraction", () => {
  const kinds: [string, Record<string, unknown>, string][] = [
    ["Pod", { spec: podSpec() }, "spec"],
    ["Deployment", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    ["StatefulSet", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    ["DaemonSet", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    ["ReplicaSet", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    ["ReplicationController", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    ["Job", { spec: { template: { spec: podSpec() } } }, "spec.template.spec"],
    [
      "CronJob",
      { spec: { jobTemplate: { spec: { template: { spec: podSpec() } } } } },
      "spec.jobTemplate.spec.template.spec",
    ],
  ];
  for (const [kind, body, prefix] of kinds) {
    it(`reads ${kind} containers at ${prefix}`, () => {
      const { findings } = evaluate({ kind, metadata: { name: "x", namespace: "ns" }, ...body });
      expect(findings.map((f) => [f.resource, f.container, f.path])).toEqual([
        [`${kind}/ns/x`, "app", `${prefix}.containers[0].env[0].value`],
      ]);
    });
  }

  it("reads init and ephemeral containers", () => {
    const spec = podSpec({ initContainers: [container("init")], ephemeralContainers: [container("debug")] });
    const { findings } = evaluate({ kind: "Pod", metadata: { name: "p" }, spec });
    expect(findings.map((f) => f.path)).toEqual([
      "spec.containers[0].env[0].value",
      "spec.initContainers[0].env[0].value",
      "spec.ephemeralContainers[0].env[0].value",
    ]);
    expect(findings[0]?.resource).toBe("Pod//p");
  });

  it("unwraps Lists, with paths into the List", () => {
    const list = {
      kind: "List",
      items: [{ kind: "Service" }, deployment({ env: [{ name: "GROQ_API_KEY", value: key }] })],
    };
    const { findings } = evaluate(list);
    expect(findings.map((f) => f.path)).toEqual(["items[1].spec.template.spec.containers[0].env[0].value"]);
    expect(
      evaluate({ kind: "DeploymentList", items: [deployment({ env: [{ name: "GROQ_API_KEY", value: key }] })] })
        .findings,
    ).toHaveLength(1);
  });

  it("never reads a Secret (where secrets belong) or an AiApiPolicy", () => {
    for (const kind of ["Secret", "AiApiPolicy"]) {
      expect(evaluate({ kind, spec: podSpec(), data: { k: key }, stringData: { k: key } }).findings, kind).toEqual([]);
    }
  });
});

describe("unreadable objects", () => {
  const cases: [unknown, string][] = [
    [
      { kind: "Pod", metadata: { name: "p" }, spec: { containers: "app" } },
      "Pod//p: spec.containers is a string, not a list",
    ],
    [
      { kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ env: {} }] } },
      "Pod//p: spec.containers[0].env is an object, not a list",
    ],
    [
      { kind: "Pod", spec: { containers: [{ env: [{ name: "A", value: 3 }] }] } },
      "Pod//: spec.containers[0].env[0].value is a number, not a string",
    ],
    [{ kind: "Deployment", spec: { template: [] } }, "Deployment//: spec.template is a list, not an object"],
    [{ kind: "ConfigMap", data: { a: { b: 1 } } }, "ConfigMap//: data.a is an object, not a string"],
    [{ kind: "List", items: {} }, "List: items is not a list"],
    [{ kind: "Pod", metadata: { annotations: "x" } }, "Pod//: metadata.annotations is a string, not an object"],
  ];
  for (const [object, reason] of cases) {
    it(`reports: ${reason}`, () => expect(evaluate(object).unreadable).toBe(reason));
  }

  it("keeps what it found before the unreadable part", () => {
    const pod = { kind: "Pod", spec: { containers: [container(), { name: "b", args: "x" }] } };
    const result = evaluate(pod);
    expect(result.findings).toHaveLength(1);
    expect(result.unreadable).toBe("Pod//: spec.containers[1].args is a string, not a list");
  });

  it("never throws, whatever JSON it is given", () => {
    const reviewed = fc.record({
      kind: fc.constantFrom("Pod", "Deployment", "CronJob", "ConfigMap", "List"),
      metadata: fc.jsonValue(),
      spec: fc.jsonValue(),
      data: fc.jsonValue(),
      items: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), reviewed), (value) => {
        const result = evaluate(value);
        expect(Array.isArray(result.findings)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("exemptions", () => {
  const exempted = (annotation: string, where: "object" | "template") => {
    const object = deployment({
      env: [
        { name: "GROQ_API_KEY", value: key },
        { name: "U", value: "http://api.example.com" },
      ],
    });
    const annotations = { [EXEMPT_ANNOTATION]: annotation };
    if (where === "object") Object.assign(object.metadata, { annotations });
    else Object.assign(object.spec.template, { metadata: { annotations } });
    return evaluate(object).findings.map((f) => [f.rule, f.exempt]);
  };

  it("marks the named rules exempt and still reports them", () => {
    expect(exempted("plaintext-endpoint", "object")).toEqual([
      ["hardcoded-secret", false],
      ["plaintext-endpoint", true],
    ]);
    expect(exempted(" hardcoded-secret , plaintext-endpoint ", "object")).toEqual([
      ["hardcoded-secret", true],
      ["plaintext-endpoint", true],
    ]);
  });

  it("honours the pod template's annotation, which the Pods it creates carry", () => {
    expect(exempted("hardcoded-secret", "template")).toEqual([
      ["hardcoded-secret", true],
      ["plaintext-endpoint", false],
    ]);
  });

  it("ignores unknown rule ids, and says which they were", () => {
    expect(exempted("all,*", "object")).toEqual([
      ["hardcoded-secret", false],
      ["plaintext-endpoint", false],
    ]);
    // A typo exempts nothing: the adapters say so (before, it was dropped without a word).
    const object = deployment({ env: [{ name: "GROQ_API_KEY", value: key }] });
    Object.assign(object.metadata, {
      annotations: { [EXEMPT_ANNOTATION]: "plaintext-endpoints,toString,hardcoded-secret" },
    });
    expect(evaluate(object)).toMatchObject({ unknownExemptions: ["plaintext-endpoints", "toString"] });
    expect(evaluate(object).findings.map((f) => f.exempt)).toEqual([true]);
    // Asked only where there is something to exempt.
    const clean = deployment({ env: [{ name: "MODE", value: "fast" }] });
    Object.assign(clean.metadata, { annotations: { [EXEMPT_ANNOTATION]: "plaintext-endpoints" } });
    expect(evaluate(clean).unknownExemptions).toBeUndefined();
  });
});

// `kubectl patch --type merge` put `http://user:pass@proxy.example.com` in an annotation; the refusal's fix said
// "pass it with env[].valueFrom.secretKeyRef and build the URL at runtime (e.g. $(DB_PASSWORD))", which an
// annotation or a ConfigMap cannot do.
describe("the fix for credentials in a URL", () => {
  const url = "http://user:s3cr3t-pass-w0rd@proxy.example.com";
  const fixOf = (object: Record<string, unknown>) =>
    evaluate(object).findings.find((f) => f.rule === "credentials-in-url")?.fix ?? "";

  it("builds the URL from an env var where the kubelet expands $(VAR): env, command, args", () => {
    const spec = { containers: [{ name: "app", image: "app:1", env: [{ name: "PROXY", value: url }] }] };
    expect(fixOf({ kind: "Pod", metadata: { name: "p" }, spec })).toContain("$(DB_PASSWORD)");
  });

  it("does not offer $(VAR) in an annotation or a ConfigMap, which nothing expands", () => {
    const annotated = { kind: "Pod", metadata: { name: "p", annotations: { note: url } }, spec: { containers: [] } };
    const configMap = { kind: "ConfigMap", metadata: { name: "c" }, data: { PROXY: url } };
    for (const fix of [fixOf(annotated), fixOf(configMap)]) {
      expect(fix).toMatch(/^Take the password out of the URL/);
      expect(fix).not.toContain("$(");
    }
  });
});

describe("values with no credential word", () => {
  // The keyword screen before the rules lets a value through only for what some rule needs: these carry a
  // password in a free-text form and no credential word, URL or $(VAR), so only that form's keywords find them.
  const password = ["Xk29", "fj3k", "Lq9mZ7q"].join("");
  const values = {
    "curl -u": `curl -s -u admin:${password} api.internal:8080/v1/items`,
    "slapd rootpw": `include /etc/openldap/schema/core.schema\nrootpw ${password}\n`,
  };
  for (const [form, value] of Object.entries(values)) {
    it(`reports a password in ${form}, in a ConfigMap and in a container's command`, () => {
      const configMap = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "x", namespace: "n" },
        data: { conf: value },
      };
      const command = ["sh", "-c", value];
      const pod = {
        kind: "Pod",
        metadata: { name: "x", namespace: "n" },
        spec: { containers: [{ name: "c", image: "i", command }] },
      };
      expect(evaluate(configMap).findings.map((f) => f.rule)).toEqual(["hardcoded-secret"]);
      expect(evaluate(pod).findings.map((f) => f.rule)).toEqual(["hardcoded-secret"]);
    });
  }
});

describe("a key in an object's own name or namespace", () => {
  const deepseek = fakeSecrets(13).deepseek ?? "";
  const RENAME = "Rename the object it na";
  const configMap = (metadata: Record<string, string>) => ({ apiVersion: "v1", kind: "ConfigMap", metadata, data: {} });
  const found = (metadata: Record<string, string>) =>
    evaluate(configMap(metadata)).findings.map((f) => ({ path: f.path, fix: f.fix.slice(0, 23) }));

  it("is found between the words of a name, as a Pod's generated name or a generateName holds it", () => {
    // Before: none of these three; a "-" next to the key hid it from the formats (a value's bounds).
    expect(found({ name: `team-a-${deepseek}-worker`, namespace: "shop" })).toEqual([
      { path: "metadata.name", fix: RENAME },
    ]);
    expect(found({ name: `${deepseek}-5d8f7c9b4-x2k9p`, namespace: "shop" })).toEqual([
      { path: "metadata.name", fix: RENAME },
    ]);
    expect(found({ generateName: `${deepseek}-`, namespace: "shop" })).toEqual([
      { path: "metadata.generateName", fix: RENAME },
    ]);
  });

  it("is told to be renamed, the namespace too: a Secret is no place for a name", () => {
    // Before: "Take it out of the object: store it in a Secret ...".
    const [finding] = evaluate(configMap({ name: "app", namespace: deepseek })).findings;
    expect(finding?.path).toBe("metadata.namespace");
    expect(finding?.fix).toContain("for a namespace, create one with another name and move the workloads there");
  });

  it("is found in a reference to a Secret so named, and the Secret is to be renamed", () => {
    const secretName = `${deepseek}-v2`;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: "shop" },
      spec: {
        containers: [{ name: "app", image: "app:1", envFrom: [{ secretRef: { name: secretName } }] }],
        volumes: [{ name: "creds", secret: { secretName } }],
      },
    };
    // Before: none (the "-v2" after the key), and for the key alone "store it in a Secret": it names one.
    expect(evaluate(pod).findings.map((f) => ({ path: f.path, fix: f.fix.slice(0, 23) }))).toEqual([
      { path: "spec.containers[0].envFrom[0].secretRef.name", fix: RENAME },
      { path: "spec.volumes[0].secret.secretName", fix: RENAME },
    ]);
  });

  it("is found in a container's name, which every finding of that container shows by its hint", () => {
    const openai = fakeSecrets(14).openai ?? "";
    const container = (name: string) => ({ name, image: "app:1", env: [{ name: "OPENAI_API_KEY", value: openai }] });
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: "shop" },
      spec: { containers: [container(deepseek)], initContainers: [container(`init-${deepseek}`)] },
    };
    const hint = `<DeepSeek API key ending …${deepseek.slice(-4)}>`;
    const findings = evaluate(pod).findings;
    // Before: the name was read by no rule, and shown as written in the container field and every message.
    expect(findings.map((f) => [f.path, f.container, f.fix.slice(0, 23)])).toEqual([
      ["spec.containers[0].name", hint, RENAME],
      ["spec.containers[0].env[0].value", hint, expect.any(String)],
      ["spec.initContainers[0].name", `init-${hint}`, RENAME],
      ["spec.initContainers[0].env[0].value", `init-${hint}`, expect.any(String)],
    ]);
    expect(findings[1]?.message).toContain(`container "${hint}" env OPENAI_API_KEY`);
    expect(JSON.stringify(findings)).not.toContain(deepseek.slice(3, 20));
    const calling = {
      ...pod,
      spec: { containers: [{ name: deepseek, image: "app:1", args: ["https://api.openai.com"] }] },
    };
    const [unregistered] = evaluate(calling, { inventory: { policies: [] } }).findings.filter(
      (f) => f.rule === "unregistered-ai-api",
    );
    expect(unregistered?.container).toBe(hint);
    expect(unregistered?.message).toMatch(new RegExp(`^container "${hint}" args`));
  });

  it("is found where no rule read: an env var's valueFrom, a header's name, a volume source's other fields", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: "shop" },
      spec: {
        containers: [
          {
            name: "app",
            image: "app:1",
            env: [
              { name: "A", valueFrom: { secretKeyRef: { name: deepseek, key: "k" } } },
              { name: "B", valueFrom: { configMapKeyRef: { name: "settings", key: deepseek } } },
            ],
            livenessProbe: { httpGet: { port: 8080, httpHeaders: [{ name: deepseek, value: "1" }] } },
          },
        ],
        volumes: [
          {
            name: "csi",
            csi: { driver: deepseek, nodePublishSecretRef: { name: deepseek }, volumeAttributes: { [deepseek]: "1" } },
          },
          { name: "flex", flexVolume: { driver: "example.com/flex", secretRef: { name: deepseek } } },
          { name: "git", gitRepo: { repository: "https://example.com/app.git", revision: deepseek } },
        ],
      },
    };
    // Before: none of them (found by test/integration/reviewed-fields.test.ts, against the API server's schema).
    expect(evaluate(pod).findings.map((f) => f.path)).toEqual([
      "spec.containers[0].env[0].valueFrom.secretKeyRef.name",
      "spec.containers[0].env[1].valueFrom.configMapKeyRef.key",
      "spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name",
      "spec.volumes[0].csi.driver",
      "spec.volumes[0].csi.nodePublishSecretRef.name",
      `spec.volumes[0].csi.volumeAttributes["<DeepSeek API key ending …${deepseek.slice(-4)}>"]`,
      "spec.volumes[1].flexVolume.secretRef.name",
      "spec.volumes[2].gitRepo.revision",
    ]);
  });

  it("is placed by the volume's name, as a container's finding is by the container's", () => {
    const pod = podWithVolumes([
      { name: "cache", emptyDir: {} },
      { name: "models", csi: { driver: "s3.csi.example.com", volumeAttributes: { secretKey: deepseek } } },
      { name: deepseek, secret: { secretName: "app" } },
    ]);
    // Before: "csi.volumeAttributes.secretKey: ...", with only the path's index to tell which of the volumes.
    expect(evaluate(pod).findings.map((f) => f.message.slice(0, f.message.indexOf(":")))).toEqual([
      'volume "models" csi.volumeAttributes.secretKey',
      `volume "<DeepSeek API key ending …${deepseek.slice(-4)}>" name`,
    ]);
  });

  it("is found in a CRD's copy of a container, where a probe's scheme and port and a stop signal are free strings", () => {
    const worker = {
      name: "ray-worker",
      image: "rayproject/ray:2.9.0",
      livenessProbe: { tcpSocket: { host: deepseek, port: 6379 } },
      readinessProbe: { httpGet: { path: "/healthz", port: deepseek, scheme: "HTTP" } },
      lifecycle: { postStart: { httpGet: { port: 8080, scheme: deepseek } }, stopSignal: deepseek },
    };
    const cluster = {
      apiVersion: "ray.io/v1",
      kind: "RayCluster",
      metadata: { name: "ray", namespace: "ml" },
      spec: { headGroupSpec: { template: { spec: { containers: [worker] } } } },
    };
    const { findings } = evaluate(cluster);
    // Before: the TCP host alone (the others found by test/integration/reviewed-crd-fields.test.ts, against
    // KubeRay's own CRD), and its message did not say which probe.
    expect(findings.map((f) => f.path)).toEqual([
      "spec.headGroupSpec.template.spec.containers[0].livenessProbe.tcpSocket.host",
      "spec.headGroupSpec.template.spec.containers[0].readinessProbe.httpGet.port",
      "spec.headGroupSpec.template.spec.containers[0].lifecycle.postStart.httpGet.scheme",
      "spec.headGroupSpec.template.spec.containers[0].lifecycle.stopSignal",
    ]);
    expect(findings.map((f) => f.message.split(":")[0])).toEqual([
      'container "ray-worker" livenessProbe.tcpSocket.host',
      'container "ray-worker" readinessProbe.httpGet.port',
      'container "ray-worker" lifecycle.postStart.httpGet.scheme',
      'container "ray-worker" lifecycle.stopSignal',
    ]);
  });

  it("is not a word list that starts like a token: glpat-, gldt-, xoxb-", () => {
    // Before: each was a GitLab or Slack token (their bodies take "-"), refused under Deny and hidden in messages.
    for (const name of [
      "glpat-rotation-controller-manager",
      "gldt-deploy-token-rotator-job",
      "xoxb-slack-notifier-deployment-abcdef",
    ]) {
      expect(found({ name, namespace: "shop" }), name).toEqual([]);
      expect(shownName(name)).toBe(name);
    }
  });
});

describe("a key among the words of an object's name (property)", () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
  const words = fc.array(word, { maxLength: 4 });
  const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/).filter((hex) => /\d/.test(hex));
  const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: {} });

  it("finds a DeepSeek key wherever it stands between the words, and shows the name without it", () => {
    fc.assert(
      fc.property(words, hex32, words, (before, hex, after) => {
        const key = `sk-${hex}`;
        const name = [...before, key, ...after].join("-");
        // Where the key alone is found: one of too little entropy (a0a0aaaa...) is taken for a made-up example.
        fc.pre(name.length <= 253 && evaluate(configMap(key)).findings.length === 1);
        const findings = evaluate(configMap(name)).findings;
        expect(findings.map((f) => f.path)).toEqual(["metadata.name"]);
        expect(shownName(name)).not.toContain(hex.slice(0, 28));
      }),
    );
  });

  it("finds nothing in words alone, whatever they start with", () => {
    const prefix = fc.constantFrom("sk", "glpat", "gldt", "xoxb", "xai", "pplx", "hf", "ghp", "npm", "gsk", "r8", "sg");
    fc.assert(
      fc.property(prefix, fc.array(fc.stringMatching(/^[a-z]{1,12}$/), { minLength: 1, maxLength: 8 }), (p, rest) => {
        const name = [p, ...rest].join("-");
        expect(evaluate(configMap(name)).findings).toEqual([]);
      }),
    );
  });
});
