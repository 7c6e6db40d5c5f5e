// One probe per class of issue 12 (detection that holds on real manifests); each failed before its fix.
import { describe, expect, it } from "vitest";
import { evaluate, type Finding } from "../../../src/engine/index.ts";
import { FAKE_NOW, fakeSecrets, seeded } from "../../support/fake-secrets.ts";
import { deployment, envFindings, rulesOf } from "./build.ts";

const fake = fakeSecrets(12);
const key = (name: string) => fake[name] ?? "";
const paths = (findings: readonly Finding[]) => findings.map((f) => f.path);
const configMap = (data: Record<string, string>) => ({ kind: "ConfigMap", metadata: { name: "cfg" }, data });

describe("class 1: in-cluster names", () => {
  it("knows <service>.<namespace>, metadata.google.internal and a custom cluster domain as in-cluster", () => {
    for (const url of [
      "http://thanos-query.thanos:9090",
      "http://s3-service.kserve:8333",
      "http://metadata.google.internal/computeMetadata/v1",
    ])
      expect(envFindings("BASE_URL", url), url).toEqual([]);
    expect(envFindings("BASE_URL", "http://api.shop.svc.corp.internal", { clusterDomain: "corp.internal" })).toEqual(
      [],
    );
    expect(rulesOf(envFindings("BASE_URL", "http://api.example.com"))).toEqual(["plaintext-endpoint"]);
    expect(rulesOf(envFindings("BASE_URL", "http://foo.co.uk:8080"))).toEqual(["plaintext-endpoint"]);
  });

  it("trusts the cluster's namespaces when it has them", () => {
    const namespaces = new Set(["thanos", "shop"]);
    expect(envFindings("BASE_URL", "http://thanos-query.thanos:9090", { clusterNamespaces: namespaces })).toEqual([]);
    expect(rulesOf(envFindings("BASE_URL", "http://query.metrics:9090", { clusterNamespaces: namespaces }))).toEqual([
      "plaintext-endpoint",
    ]);
  });
});

describe("class 2: plaintext endpoints outside the pod spec", () => {
  it("reads a ConfigMap value that is a URL, probes, hooks, and http://$(HOST) built from a literal host", () => {
    expect(rulesOf(evaluate(configMap({ OPENAI_BASE_URL: "http://api.example.com/v1" })).findings)).toEqual([
      "plaintext-endpoint",
    ]);
    // A URL inside a config file is as often an XML namespace or a link: not an endpoint.
    expect(
      evaluate(configMap({ "log4j.xml": '<c xmlns="http://logging.apache.org/log4j/2.0/config"/>' })).findings,
    ).toEqual([]);
    const hook = { postStart: { exec: { command: ["sh", "-c", "curl http://api.example.com/register"] } } };
    expect(paths(evaluate(deployment({ lifecycle: hook })).findings)).toEqual([
      "spec.template.spec.containers[0].lifecycle.postStart.exec.command[2]",
    ]);
    const probe = { httpGet: { host: "status.example.com", path: "/healthz", port: 80 } };
    expect(rulesOf(evaluate(deployment({ livenessProbe: probe })).findings)).toEqual(["plaintext-endpoint"]);
    const secure = { httpGet: { host: "status.example.com", scheme: "HTTPS", port: 443 } };
    expect(evaluate(deployment({ livenessProbe: secure })).findings).toEqual([]);
    // An IPv6 host is written bare in a probe; the kubelet brackets it in the URL it calls (before: read as the
    // single-label name "2a00", in-cluster, and no finding).
    const ipv6 = { httpGet: { host: "2a00:1450:4001:80b::200e", path: "/healthz", port: 80 } };
    expect(evaluate(deployment({ livenessProbe: ipv6 })).findings.map((f) => f.message)).toEqual([
      'container "app" livenessProbe.httpGet.host: plaintext http://2a00:1450:4001:80b::200e outside the cluster',
    ]);
    const linkLocal = { httpGet: { host: "fe80::1", path: "/healthz", port: 80 } };
    expect(evaluate(deployment({ livenessProbe: linkLocal })).findings).toEqual([]);
    const env = [
      { name: "HOST", value: "api.example.com" },
      { name: "BASE_URL", value: "http://$(HOST):8080/v1" },
    ];
    expect(paths(evaluate(deployment({ env })).findings)).toEqual(["spec.template.spec.containers[0].env[1].value"]);
  });
});

describe("class 3: AI workloads as custom resources", () => {
  const env = [{ name: "GROQ_API_KEY", value: key("groq") }];
  const container = { name: "main", image: "app:1", env };
  const cases: [string, Record<string, unknown>, string][] = [
    ["InferenceService", { spec: { predictor: { containers: [container] } } }, "spec.predictor.containers[0]"],
    [
      "InferenceService",
      { spec: { predictor: { model: { modelFormat: { name: "sklearn" }, env } } } },
      "spec.predictor.model",
    ],
    [
      "RayCluster",
      { spec: { workerGroupSpecs: [{ template: { spec: { containers: [container] } } }] } },
      "spec.workerGroupSpecs[0].template.spec.containers[0]",
    ],
    [
      "PyTorchJob",
      { spec: { pytorchReplicaSpecs: { Master: { template: { spec: { containers: [container] } } } } } },
      "spec.pytorchReplicaSpecs.Master.template.spec.containers[0]",
    ],
    [
      "Service",
      { apiVersion: "serving.knative.dev/v1", spec: { template: { spec: { containers: [container] } } } },
      "spec.template.spec.containers[0]",
    ],
    ["Rollout", { spec: { template: { spec: { containers: [container] } } } }, "spec.template.spec.containers[0]"],
    [
      "Workflow",
      { spec: { templates: [{ name: "t", container: { image: "a", command: ["run"], env } }] } },
      "spec.templates[0].container",
    ],
    [
      "LeaderWorkerSet",
      { spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: [container] } } } } },
      "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0]",
    ],
    ["PodTemplate", { template: { spec: { containers: [container] } } }, "template.spec.containers[0]"],
  ];
  for (const [kind, body, at] of cases) {
    it(`reads ${kind} at ${at}`, () => {
      expect(paths(evaluate({ kind, metadata: { name: "x" }, ...body }).findings)).toEqual([`${at}.env[0].value`]);
    });
  }

  it("reads any other string of the object as text, without taking its key for a credential name", () => {
    const runtimeEnv = `working_dir: "https://bucket.example.com/job.zip?AWSAccessKeyId=${key("aws-id")}&Expires=1"`;
    const job = { kind: "RayJob", metadata: { name: "j" }, spec: { runtimeEnvYAML: runtimeEnv } };
    expect(evaluate(job).findings.map((f) => [f.path, f.provider])).toEqual([
      ["spec.runtimeEnvYAML", "AWS access key ID"],
    ]);
    // A SealedSecret's ciphertext sits under the names of the keys it hides: no finding for the name.
    const sealed = { kind: "SealedSecret", spec: { encryptedData: { password: fake.random } } };
    expect(evaluate(sealed).findings).toEqual([]);
  });

  it("reads an Argo script's source", () => {
    const script = {
      image: "python:3",
      command: ["python"],
      source: `import os\nos.environ["OPENAI_API_KEY"] = "${key("openai")}"`,
    };
    const workflow = { kind: "Workflow", spec: { templates: [{ name: "s", script }] } };
    expect(paths(evaluate(workflow).findings)).toEqual(["spec.templates[0].script.source"]);
  });
});

describe("class 4: fields not read before", () => {
  it("reads probe headers and exec, annotations and labels of the object and its template, volume fields", () => {
    const probe = {
      httpGet: { path: "/", port: 80, httpHeaders: [{ name: "Authorization", value: `Bearer ${fake.random}` }] },
    };
    const readiness = { exec: { command: ["sh", "-c", `curl -H "x-api-key: ${key("openai")}" localhost`] } };
    const object = deployment(
      { livenessProbe: probe, readinessProbe: readiness },
      { annotations: { "llm/key": key("anthropic") } },
    );
    const template = object.spec.template as Record<string, unknown>;
    template.metadata = { labels: { token: key("hf") } };
    (template.spec as Record<string, unknown>).volumes = [
      { name: "s3", csi: { driver: "s3", volumeAttributes: { secretAccessKey: fake["aws-secret"] ?? "" } } },
      { name: "src", gitRepo: { repository: `https://oauth2:${key("gitlab")}@gitlab.example.com/team/repo.git` } },
    ];
    expect(paths(evaluate(object).findings).sort()).toEqual(
      [
        'metadata.annotations["llm/key"]',
        "spec.template.metadata.labels.token",
        "spec.template.spec.containers[0].livenessProbe.httpGet.httpHeaders[0].value",
        "spec.template.spec.containers[0].readinessProbe.exec.command[2]",
        "spec.template.spec.volumes[0].csi.volumeAttributes.secretAccessKey",
        "spec.template.spec.volumes[1].gitRepo.repository",
        "spec.template.spec.volumes[1].gitRepo.repository",
      ].sort(),
    );
  });

  it("leaves annotations alone that name a Secret, hash one, or hold a JSON setting", () => {
    const annotations = {
      "nginx.ingress.kubernetes.io/auth-secret": "basic-auth",
      "nginx.ingress.kubernetes.io/auth-tls-secret": "default/ca-secret",
      "checksum/secret": seeded(2)(64, "0123456789abcdef"),
      "alb.ingress.kubernetes.io/auth-idp-oidc": '{"issuer":"https://idp.example.com","secretName":"oidc"}',
    };
    expect(evaluate({ kind: "Ingress", metadata: { name: "i", annotations } }).findings).toEqual([]);
    // Lowercase and digits, as an object name could be, but random: a secret, not a name.
    const leaked = { "nginx.ingress.kubernetes.io/auth-secret": seeded(3)(40, "abcdefghijklmnopqrstuvwxyz0123456789") };
    expect(rulesOf(evaluate({ kind: "Ingress", metadata: { name: "i", annotations: leaked } }).findings)).toEqual([
      "hardcoded-secret",
    ]);
  });

  it("reads the last-applied-configuration copy only where it differs from the object", () => {
    const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    const keyed = deployment({ env: [{ name: "OPENAI_API_KEY", value: key("openai") }] });
    const copied = {
      ...keyed,
      metadata: { ...keyed.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(keyed) } },
    };
    expect(evaluate(copied).findings.map((f) => f.path)).toEqual(["spec.template.spec.containers[0].env[0].value"]);
    // What the object does not hold: a field the API server dropped, or text written by hand.
    const dropped = JSON.stringify({ kind: "Secret", stringData: { OPENAI_API_KEY: key("openai") } });
    const text = `OPENAI_API_KEY=${key("openai")}`;
    for (const [copy, path] of [
      [dropped, `metadata.annotations["${LAST_APPLIED}"].stringData.OPENAI_API_KEY`],
      [text, `metadata.annotations["${LAST_APPLIED}"]`],
    ]) {
      const object = deployment({}, { annotations: { [LAST_APPLIED]: copy } });
      expect(evaluate(object).findings.map((f) => [f.rule, f.path])).toEqual([["hardcoded-secret", path]]);
    }
  });

  it("finds a key the copy holds in a place the object has with another value (a value changed since the apply)", () => {
    const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    const applied = deployment({ env: [{ name: "OPENAI_API_KEY", value: key("openai") }] });
    // Edited since (kubectl edit, set env): the object no longer holds the key; kubectl's copy still does.
    const copy = JSON.stringify(applied);
    const edited = deployment(
      { env: [{ name: "OPENAI_API_KEY", value: "" }] },
      { annotations: { [LAST_APPLIED]: copy } },
    );
    const path = `metadata.annotations["${LAST_APPLIED}"].spec.template.spec.containers[0].env[0].value`;
    expect(evaluate(edited).findings.map((f) => f.path)).toEqual([path]);
    // On UPDATE, a copy the old object held already was judged when it was written: not read again.
    expect(evaluate(edited, { previousAppliedCopy: copy }).findings).toEqual([]);
    expect(evaluate(edited, { previousAppliedCopy: `${copy} ` }).findings.map((f) => f.path)).toEqual([path]);
  });

  it("reads the copy for what it exposes, not for what the workload calls: an endpoint only there is no finding", () => {
    const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    const env = (value: string) => [{ name: "LLM_BASE_URL", value }];
    const copy = JSON.stringify(deployment({ env: env("http://api.openai.com/v1") }));
    // Changed since (kubectl set env): the workload calls https://llm.internal.svc, the copy still says otherwise.
    const object = deployment({ env: env("https://llm.internal.svc/v1") }, { annotations: { [LAST_APPLIED]: copy } });
    expect(evaluate(object, { inventory: { policies: [] } }).findings).toEqual([]);
  });
});

describe("class 5: free text", () => {
  const r = seeded(5);
  const secret = `${r(12)}Zq8${r(12)}`;
  const texts: [string, string][] = [
    ["python -c", `python -c "import openai; openai.Client(api_key='${secret}')"`],
    ["curl -u", `curl -u admin:${secret} https://registry.example.com`],
    [
      "Authorization: Basic",
      `curl -H "Authorization: Basic ${Buffer.from(`u:${secret}`).toString("base64")}" https://x.example.com`,
    ],
    ["Authorization: Token", `curl -H "Authorization: Token ${secret}" https://x.example.com`],
    ["api-key:value", `curl -H api-key:${secret} https://x.example.com`],
    ["query parameter", `https://maps.example.com/api?token=${secret}&q=1`],
    ["jdbc password", `jdbc:postgresql://db:5432/app?user=app&password=${secret}`],
    ["CRLF file", `[db]\r\npassword = ${secret}\r\n`],
    ["XML", `<config><apiKey>${secret}</apiKey></config>`],
    [".netrc", `machine api.example.com login bot password ${secret}`],
    ["requirepass", `bind 0.0.0.0\nrequirepass ${secret}\n`],
    ["passphrase with spaces", `ssl_passphrase = correct horse battery staple\n`],
    ["os.environ[...] =", `import os\nos.environ["MISTRAL_API_KEY"] = "${secret}"\n`],
    ["os.environ.setdefault", `os.environ.setdefault('MISTRAL_API_KEY', '${secret}')`],
    ["config dict assignment", `settings['api_key'] = '${secret}'`],
    ["os.Setenv", `os.Setenv("COHERE_API_KEY", "${secret}")`],
  ];
  for (const [what, text] of texts) {
    it(`finds the credential in ${what}`, () => {
      expect(rulesOf(evaluate(configMap({ "app.conf": text })).findings), what).toContain("hardcoded-secret");
      expect(JSON.stringify(evaluate(configMap({ "app.conf": text })))).not.toContain(secret);
    });
  }
});

describe("class 2: values the downward API delivers", () => {
  it("judges an annotation an env var reads through fieldRef by the env var's name", () => {
    const secret = fake.mistral ?? "";
    const env = [
      {
        name: "MISTRAL_API_KEY",
        valueFrom: { fieldRef: { fieldPath: "metadata.annotations['llm.example.com/config']" } },
      },
    ];
    const withAnnotation = (value: string) => {
      const object = deployment({ env });
      const annotations = { "llm.example.com/config": value };
      return { ...object, spec: { template: { ...object.spec.template, metadata: { annotations } } } };
    };
    const findings = evaluate(withAnnotation(secret)).findings;
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ["spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", "Mistral API key"],
    ]);
    expect(JSON.stringify(findings)).not.toContain(secret);
    // An annotation that is no credential under the env var's name is nothing.
    expect(evaluate(withAnnotation("enabled")).findings).toEqual([]);
    // The Pod gets its template's annotations, never the Deployment's own: a template without any hands over nothing.
    const object = deployment({ env });
    const onTheDeployment = {
      ...object,
      metadata: { ...object.metadata, annotations: { "llm.example.com/config": secret } },
    };
    const paths = evaluate(onTheDeployment).findings.map((f) => f.path);
    expect(paths).not.toContain("spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath");
  });
});

describe("class 2: credentials in probes", () => {
  it("reads the path of an httpGet probe or hook, which the kubelet sends with its query", () => {
    const secret = seeded(9)(32);
    const probe = { httpGet: { path: `/healthz?token=${secret}`, port: 8080 } };
    const findings = evaluate(deployment({ livenessProbe: probe })).findings;
    expect(findings.map((f) => [f.path, f.rule])).toEqual([
      ["spec.template.spec.containers[0].livenessProbe.httpGet.path", "hardcoded-secret"],
    ]);
    expect(JSON.stringify(findings)).not.toContain(secret);
    expect(
      evaluate(deployment({ livenessProbe: { httpGet: { path: "/check?upstream=http://api.example.com", port: 80 } } }))
        .findings,
    ).toEqual([]);
  });
});

describe("class 5: free text that only names credentials", () => {
  it("reads no pair in a list of names, a comparison or a lookup", () => {
    const code = [
      'REQUIRED = ["api_key", "password", "email"]',
      'fields = ("username", "password", "email")',
      'if os.environ["API_KEY"] == "disabledXq7Lm2Np9Rt4Vw": pass',
      'key = os.environ.setdefault("API_KEY", os.environ["FALLBACK_API_KEY"])',
    ].join("\n");
    expect(evaluate(configMap({ "app.py": code })).findings).toEqual([]);
  });
});

describe("class 6: names and shapes", () => {
  it("reads words joined in camel case as a name, not a random key (a toleration in a pod template file)", () => {
    const template = [
      "apiVersion: v1",
      "kind: Pod",
      "spec:",
      "  tolerations:",
      "    - key: CriticalAddonsOnly",
      "      operator: Exists",
      "  containers:",
      "    - name: base",
      "      env:",
      "        - name: OPENAI_API_KEY",
      "          valueFrom:",
      "            secretKeyRef: {name: llm, key: openaiApiKeyProduction}",
    ].join("\n");
    expect(evaluate(configMap({ "pod_template_file.yaml": template })).findings).toEqual([]);
    // A random key of letters alone is still random.
    expect(rulesOf(envFindings("MISTRAL_API_KEY", "qXvTbLpMzWnKcRdFgHsJyQaE"))).toEqual(["hardcoded-secret"]);
  });

  it("reads Helm values that name an existing Secret and its keys as references, not passwords", () => {
    // Bitnami-style values, as a Flux valuesFrom ConfigMap and as an Argo CD Application's values string.
    const values = [
      "auth:",
      "  existingSecret: redis-auth",
      "  existingSecretPasswordKey: redis-password",
      "rabbitmq:",
      "  auth:",
      "    existingPasswordSecret: rabbitmq-creds",
      "    existingSecretKey: erlang-cookie",
    ].join("\n");
    expect(evaluate(configMap({ "values.yaml": values })).findings).toEqual([]);
    const helm = { values };
    const application = { apiVersion: "argoproj.io/v1alpha1", kind: "Application", spec: { source: { helm } } };
    expect(evaluate({ ...application, metadata: { name: "redis", namespace: "argocd" } }).findings).toEqual([]);
    // A value under a name that is the secret itself is still one.
    expect(rulesOf(evaluate(configMap({ "values.yaml": "auth:\n  password: redis-password\n" })).findings)).toEqual([
      "hardcoded-secret",
    ]);
  });

  it("reads a Secret holding a certificate, named under TLS_SECRET or CERTIFICATE_SECRET, as a reference", () => {
    // ai-api-guard's own chart names its serving certificate's Secret so: `scan` reported its own manifests.
    for (const name of ["AI_API_GUARD_CERTIFICATE_SECRET", "WEBHOOK_TLS_SECRET", "CA_SECRET", "certSecret"])
      expect(envFindings(name, "ai-api-guard-tls"), name).toEqual([]);
    // A name that is the secret itself is still one, however short its value.
    for (const name of ["CLIENT_SECRET", "WEBHOOK_SECRET", "TLS_KEY_SECRET"])
      expect(rulesOf(envFindings(name, "ai-api-guard-tls")), name).toEqual(["hardcoded-secret"]);
  });

  it("reads a $-password as a password, an AWS secret starting with / as a secret, fused and Pub/Sub names", () => {
    expect(rulesOf(envFindings("DB_PASSWORD", "$ecretPa55word!"))).toEqual(["hardcoded-secret"]);
    expect(
      rulesOf(envFindings("AWS_SECRET_ACCESS_KEY", `/${(fake["aws-secret"] ?? "").slice(1).replace(/\+/g, "a")}`)),
    ).toEqual(["hardcoded-secret"]);
    for (const name of ["LLM_CREDS", "MISTRALAPIKEY", "PUB_SUB_API_KEY", "CERT_MANAGER_CLOUDFLARE_API_TOKEN"])
      expect(rulesOf(envFindings(name, fake.random ?? "")), name).toEqual(["hardcoded-secret"]);
    expect(rulesOf(envFindings("API_KEY", "1f0e6c9a-5b8d-4c3e-9a7f-2d4b6e8c0a1f"))).toEqual(["hardcoded-secret"]);
    expect(rulesOf(envFindings("API_KEY", "8302719465301827"))).toEqual(["hardcoded-secret"]);
    // Still a path, still a reference:
    expect(envFindings("API_KEY_FILE", "/var/run/secrets/llm/api-key")).toEqual([]);
    expect(envFindings("API_KEY", "$(OPENAI_API_KEY)")).toEqual([]);
  });
});

describe("class 7: weak and default credentials", () => {
  it("reports any literal under a password or secret-key name, and says it is a weak default", () => {
    const weak: [string, string][] = [
      ["ADMIN_PASSWORD", "admin"],
      ["POSTGRES_PASSWORD", "password"],
      ["KONG_PASSWORD", "kong"],
      ["MINIO_SECRET_KEY", "minio123"],
      ["LITELLM_MASTER_KEY", "sk-1234"],
      ["JWT_SECRET", "secret"],
      ["REDIS_PASSWORD", "123456"],
    ];
    for (const [name, value] of weak) {
      const findings = envFindings(name, value);
      expect(rulesOf(findings), name).toEqual(["hardcoded-secret"]);
      expect(findings[0]?.message, name).toContain("weak default password");
      expect(findings[0]?.hint, name).toBe("weak default password (redacted)");
    }
  });

  it("reports a counting run or a repeated digit under a token or key name, and no other short number there", () => {
    const weak: [string, string][] = [
      ["SECURITY_TOKEN", "12345"],
      ["API_TOKEN", "1111"],
      ["AUTH_KEY", "0123456789"],
      ["GITHUB_TOKEN", "0000"],
    ];
    for (const [name, value] of weak) {
      const findings = envFindings(name, value);
      expect(
        findings.map((f) => [f.rule, f.hint]),
        name,
      ).toEqual([["hardcoded-secret", "weak default credential (redacted)"]]);
      expect(findings[0]?.fix, name).toContain("Generate a random token");
    }
    const numbers: [string, string][] = [
      ["AUTH_TOKEN", "4096"],
      ["MAX_TOKENS", "12345"],
      ["TOKEN_TTL", "12345"],
      ["API_KEY", "1357"],
      ["PORT", "12345"],
    ];
    for (const [name, value] of numbers) expect(envFindings(name, value), name).toEqual([]);
  });

  it("names the provider in the weak-default message, and keeps a default with a run of zeros", () => {
    const minio = envFindings("AWS_SECRET_ACCESS_KEY", "minioadmin");
    expect(minio.map((f) => f.message)).toEqual([
      'container "app" env AWS_SECRET_ACCESS_KEY: hardcoded weak default AWS secret access key (redacted)',
    ]);
    const redis = evaluate(configMap({ "redis.conf": "port 6379\nrequirepass 5241590000000000\n" })).findings;
    expect(redis.map((f) => f.message)).toEqual([
      'data key "redis.conf": hardcoded weak default password in password ending "…0000"',
    ]);
  });

  it("leaves empty values, references and explicit placeholders alone", () => {
    for (const value of [
      "",
      "$(DB_PASSWORD)",
      "<password>",
      "yourpassword",
      "your-password",
      "changeme",
      "xxxxxxxx",
      "example",
      "true",
    ])
      expect(envFindings("DB_PASSWORD", value), value).toEqual([]);
  });
});

describe("class 8: false positives on real manifests", () => {
  it("ignores class names, keyUsage lines, image digests, yourpassword, and a UUID its comment calls a placeholder", () => {
    expect(envFindings("KAFKA_KEY_SERIALIZER", "org.apache.kafka.common.serialization.StringSerializer")).toEqual([]);
    expect(
      evaluate(
        configMap({ "gen.sh": "cat > csr.conf <<EOF\nkeyUsage = critical, digitalSignature, keyEncipherment\nEOF" }),
      ).findings,
    ).toEqual([]);
    const digest = `registry.example.com/auth/proxy@sha256:${seeded(1)(64, "0123456789abcdef")}`;
    expect(envFindings("AUTH_PROXY_IMAGE", digest)).toEqual([]);
    expect(envFindings("MYSQL_PASSWORD", "yourpassword")).toEqual([]);
    const text = "api_key: 1f0e6c9a-5b8d-4c3e-9a7f-2d4b6e8c0a1f  # replace with your key\n";
    expect(evaluate(configMap({ "config.yaml": text })).findings).toEqual([]);
  });
});

describe("class 9: provider formats", () => {
  const cases: [string, string][] = [
    ["groq", "Groq API key"],
    ["openai-none", "OpenAI API key"],
    ["xai", "xAI API key"],
    ["deepseek", "DeepSeek API key"],
    ["openrouter", "OpenRouter API key"],
    ["perplexity", "Perplexity API key"],
    ["pinecone", "Pinecone API key"],
    ["langsmith", "LangSmith API key"],
    ["gitlab", "GitLab token"],
    ["npm", "npm token"],
    ["sendgrid", "SendGrid API key"],
    ["google-oauth", "Google OAuth access token"],
    ["telegram", "Telegram bot token"],
    ["discord-webhook", "Discord webhook URL"],
    ["pem-base64-newline", "PEM private key (base64)"],
  ];
  for (const [secret, provider] of cases) {
    it(`finds a ${provider} under a neutral name`, () => {
      const findings = envFindings("CONFIG", key(secret), { now: FAKE_NOW });
      expect(findings.map((f) => f.provider)).toEqual([provider]);
    });
  }

  it("takes a Groq key of 52 characters after gsk_, as real ones are", () => {
    expect(key("groq")).toMatch(/^gsk_[A-Za-z0-9]{52}$/);
  });
});
