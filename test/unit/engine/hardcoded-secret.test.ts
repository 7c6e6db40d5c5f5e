import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { fakeSecrets, seeded } from "../../support/fake-secrets.ts";
import { deployment, envFindings, rulesOf } from "./build.ts";

const fake = fakeSecrets(1);

describe("hardcoded-secret: provider formats", () => {
  const cases: [string, string, string][] = [
    ["openai", "OPENAI_API_KEY", "OpenAI API key"],
    ["openai-legacy", "OPENAI_API_KEY", "OpenAI API key"],
    ["anthropic", "ANTHROPIC_API_KEY", "Anthropic API key"],
    ["google", "GEMINI_API_KEY", "Google API key"],
    ["aws-id", "AWS_ACCESS_KEY_ID", "AWS access key ID"],
    ["github", "GITHUB_TOKEN", "GitHub token"],
    ["github-pat", "GH_PAT", "GitHub token"],
    ["hf", "HF_TOKEN", "Hugging Face token"],
    ["slack", "SLACK_BOT_TOKEN", "Slack token"],
    ["stripe", "STRIPE_SECRET_KEY", "Stripe live key"],
    ["groq", "GROQ_API_KEY", "Groq API key"],
    ["replicate", "REPLICATE_API_TOKEN", "Replicate API token"],
    ["pem", "TLS_KEY", "PEM private key"],
    ["pem-base64", "SIGNING_KEY_B64", "PEM private key (base64)"],
    ["jwt-hour", "SERVICE_JWT", "JWT"],
  ];
  for (const [secret, name, provider] of cases) {
    it(`finds a ${provider} under ${name}`, () => {
      const findings = envFindings(name, fake[secret] ?? "").filter((f) => f.rule === "hardcoded-secret");
      expect(findings).toHaveLength(1);
      expect(findings[0]?.provider).toBe(provider);
    });
  }

  it("finds provider keys whatever the variable is called", () => {
    for (const secret of ["openai", "anthropic", "github", "groq", "replicate", "hf"]) {
      expect(rulesOf(envFindings("CONFIG", fake[secret] ?? "")), secret).toContain("hardcoded-secret");
    }
  });

  it("finds a key inside a shell string in args and command", () => {
    const script = `export OPENAI_API_KEY=${fake.openai} && exec python serve.py`;
    const { findings } = evaluate(deployment({ command: ["sh", "-c", script], args: ["--token", fake.groq ?? ""] }));
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ["spec.template.spec.containers[0].command[2]", "OpenAI API key"],
      ["spec.template.spec.containers[0].args[1]", "Groq API key"],
    ]);
  });

  it("ignores AWS documentation keys and made-up prefixes", () => {
    expect(envFindings("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")).toEqual([]);
    expect(envFindings("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toEqual([]);
    expect(envFindings("OPENAI_API_KEY", "sk-your-key-here")).toEqual([]);
    expect(envFindings("OPENAI_API_KEY", `sk-proj-${"x".repeat(40)}`)).toEqual([]);
    expect(envFindings("GITHUB_TOKEN", `ghp_${"0".repeat(36)}`)).toEqual([]);
  });

  it("ignores a PEM header around a placeholder, public keys and certificates", () => {
    expect(envFindings("TLS_KEY", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----")).toEqual([]);
    const r = seeded(7);
    const body = Array.from({ length: 4 }, () => r(64)).join("\n");
    expect(envFindings("CA_CERT", `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`)).toEqual([]);
    expect(envFindings("JWT_PUBLIC_KEY", `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`)).toEqual([]);
    expect(envFindings("SSH_AUTHORIZED_KEY", `ssh-ed25519 ${r(68)} deploy@ci`)).toEqual([]);
  });

  it("ignores strings shaped like a JWT that do not decode as one", () => {
    const r = seeded(3);
    expect(envFindings("SESSION", `eyJ${r(20)}.eyJ${r(20)}.${r(30)}`)).toEqual([]);
  });
});

describe("hardcoded-secret: generic credential names", () => {
  it("finds a random literal under a credential-like name", () => {
    for (const name of ["API_KEY", "MISTRAL_API_KEY", "CO_API_KEY", "clientSecret", "x-api-key", "SIGNING_SECRET"]) {
      expect(rulesOf(envFindings(name, fake.random ?? "")), name).toEqual(["hardcoded-secret"]);
    }
  });

  it("names the provider of prefix-less keys by their variable name", () => {
    expect(envFindings("MISTRAL_API_KEY", fake.mistral ?? "")[0]?.provider).toBe("Mistral API key");
    expect(envFindings("COHERE_API_KEY", fake.cohere ?? "")[0]?.provider).toBe("Cohere API key");
    expect(envFindings("AZURE_OPENAI_API_KEY", fake.azure ?? "")[0]?.provider).toBe("Azure OpenAI key");
    // .NET configuration's names, as its env vars write them: OpenAI in camel case.
    expect(envFindings("AzureOpenAI__ApiKey", fake.azure ?? "")[0]?.provider).toBe("Azure OpenAI key");
    expect(envFindings("OpenAI__ApiKey", fake.mistral ?? "")[0]?.provider).toBe("OpenAI API key");
    expect(envFindings("AWS_SECRET_ACCESS_KEY", fake["aws-secret"] ?? "")[0]?.provider).toBe("AWS secret access key");
  });

  it("knows a bare 32-hex API_KEY as Azure OpenAI when the container calls an Azure OpenAI endpoint", () => {
    const env = [
      { name: "ENDPOINT", value: "https://contoso.openai.azure.com/" },
      { name: "API_KEY", value: fake.azure },
    ];
    expect(evaluate(deployment({ env })).findings[0]?.provider).toBe("Azure OpenAI key");
  });

  it("knows it too when Azure OpenAI is named only by a value no rule reports, an env name or an argument", () => {
    const key = { name: "API_KEY", value: fake.azure };
    const azure = [
      { env: [{ name: "PROVIDER", value: "azure_openai" }, key] },
      { env: [{ name: "AZURE_OPENAI_DEPLOYMENT", value: "gpt-4o" }, key] },
      { env: [key], args: ["--provider", "Azure_OpenAI"] },
    ];
    for (const container of azure) {
      expect(evaluate(deployment(container)).findings[0]?.provider, JSON.stringify(container)).toBe("Azure OpenAI key");
    }
    // A reference names no endpoint: only literal values (and their names) count.
    const reference = { name: "AZURE_OPENAI_ENDPOINT", valueFrom: { secretKeyRef: { name: "a", key: "b" } } };
    expect(evaluate(deployment({ env: [reference, key] })).findings[0]?.provider).toBeUndefined();
    const configMap = {
      kind: "ConfigMap",
      metadata: { name: "llm" },
      data: { provider: "azure_openai", API_KEY: fake.azure },
    };
    expect(evaluate(configMap).findings[0]?.provider).toBe("Azure OpenAI key");
  });

  it("finds literal passwords, even short ones", () => {
    expect(rulesOf(envFindings("DB_PASSWORD", fake.password ?? ""))).toEqual(["hardcoded-secret"]);
    expect(rulesOf(envFindings("POSTGRES_PASSWORD", "Winter2024!"))).toEqual(["hardcoded-secret"]);
  });

  it("finds a password or token a JVM system property sets (-Dname=value)", () => {
    const args = ["-Dpassword=Winter2024!", `-Dtoken=${fake.random}`, "-Dserver.port=8080", "-jar", "app.jar"];
    expect(evaluate(deployment({ args })).findings.map((f) => f.hint)).toEqual([
      "weak default password in password (redacted)",
      expect.stringMatching(/^credential in token ending/),
    ]);
  });

  it("does not report values that are not secrets under credential-like names", () => {
    const traps: [string, string][] = [
      ["API_KEY", "$(OPENAI_API_KEY)"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a runtime reference, on purpose
      ["API_KEY", "${OPENAI_API_KEY}"],
      ["API_KEY", "$OPENAI_API_KEY"],
      ["API_KEY", "{{ .Values.apiKey }}"],
      ["API_KEY", "<your-key>"],
      ["API_KEY", "xxxxxxxxxxxxxxxxxxxxxxxx"],
      ["API_KEY", "REPLACE_ME_WITH_A_REAL_KEY"],
      ["API_KEY_FILE", "/var/run/secrets/ai-api/llm/api-key"],
      ["TOKEN_PATH", "secrets/openai/token"],
      ["SECRET_NAME", "openai-credentials"],
      ["AUTH_ENABLED", "true"],
      ["PASSWORD", ""],
      ["MYSQL_ALLOW_EMPTY_PASSWORD", "yes"],
      ["TOKEN_TTL_SECONDS", "3600"],
      ["TOKEN_URL", "https://login.example.com/oauth2/token"],
      ["API_KEY_HEADER", "X-Api-Key"],
      ["CACHE_KEY_PREFIX", "v2-summaries-2024"],
      ["IDEMPOTENCY_KEY", "7c9e6679-7425-40de-944b-e07fc1f99a3f"],
      ["CONFIG_SHA256", "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"],
      ["IMAGE_DIGEST", "sha256:3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"],
      ["STRIPE_PUBLISHABLE_KEY", "pk_live_51HqLyjWDarjtT1zdp7dcXjKNrA1bNZbQ7"],
      ["PASSWORD", "changeme"],
      ["AUTH_MODE", "oauth2-client-credentials"],
      ["MODEL", "gpt-4o-mini-2024-07-18"],
      ["KMS_KEY_ARN", "arn:aws:kms:eu-west-1:123456789012:key/1f0e6c9a-5b8d-4c3e-9a7f-2d4b6e8c0a1f"],
      ["DB_SECRET", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-Xy7Qz9"],
      ["API_KEY", "@Microsoft.KeyVault(SecretUri=https://vault.example.net/secrets/api-key/)"],
      ["API_KEY", "os.environ/OPENAI_API_KEY"],
    ];
    for (const [name, value] of traps) expect(envFindings(name, value), `${name}=${value}`).toEqual([]);
  });

  it("does not read values from valueFrom", () => {
    const env = [{ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } } }];
    expect(evaluate(deployment({ env })).findings).toEqual([]);
  });

  it("does not report a random value under a name that is not about credentials", () => {
    expect(envFindings("BUILD_ID", fake.random ?? "")).toEqual([]);
  });
});

describe("hardcoded-secret: Authorization headers", () => {
  it("finds a bearer token in a shell string", () => {
    const script = `curl -sf -H "Authorization: Bearer ${fake.random}" https://api.example.com/v1/health`;
    const findings = evaluate(deployment({ command: ["sh", "-c", script] })).findings;
    expect(findings.map((f) => f.hint)).toEqual([`bearer token ending "…${fake.random?.slice(-4)}"`]);
  });

  it("finds a bearer token whatever the case of the scheme (RFC 9110: case-insensitive)", () => {
    const headers = [{ name: "Authorization", value: `BEARER ${fake.random}` }];
    const probe = { httpGet: { path: "/healthz", port: 8080, httpHeaders: headers } };
    expect(evaluate(deployment({ readinessProbe: probe })).findings.map((f) => f.hint)).toEqual([
      `bearer token ending "…${fake.random?.slice(-4)}"`,
    ]);
    const script = `curl -H "authorization: bearer ${fake.random}" https://api.example.com/v1/health`;
    expect(rulesOf(evaluate(deployment({ args: [script] })).findings)).toEqual(["hardcoded-secret"]);
  });

  it("says how to fix a key in a probe, where the kubelet expands no $(VAR)", () => {
    const headers = [{ name: "Authorization", value: `Bearer ${fake.random}` }];
    const probe = { httpGet: { path: "/healthz", port: 8080, httpHeaders: headers } };
    const [finding] = evaluate(deployment({ livenessProbe: probe })).findings;
    expect(finding?.fix).not.toContain("$(VAR_NAME)");
    expect(finding?.fix).toContain("exec");
  });

  it("ignores a bearer header built from a variable", () => {
    const script = 'curl -H "Authorization: Bearer $(cat /var/run/secrets/token)" https://api.example.com';
    expect(evaluate(deployment({ args: [script] })).findings).toEqual([]);
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a runtime reference, on purpose
      evaluate(deployment({ args: ['curl -H "Authorization: Bearer ${TOKEN}" https://x.example.com'] })).findings,
    ).toEqual([]);
  });
});

describe("hardcoded-secret: ConfigMap data", () => {
  const configMap = (data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg" },
    data,
  });

  it("finds secrets in config files held by a ConfigMap", () => {
    const data = {
      "application.properties": `server.port=8080\nspring.datasource.password=${fake.password}\n`,
      ".env": `LOG_LEVEL=info\nANTHROPIC_API_KEY=${fake.anthropic}\n`,
      "config.json": `{"endpoint": "https://api.mistral.ai", "apiKey": "${fake.mistral}"}`,
      OPENROUTER_API_KEY: fake.random ?? "",
    };
    const findings = evaluate(configMap(data)).findings;
    expect(findings.map((f) => [f.path, f.rule])).toEqual([
      ['data["application.properties"]', "hardcoded-secret"],
      ['data[".env"]', "hardcoded-secret"],
      ['data["config.json"]', "hardcoded-secret"],
      ["data.OPENROUTER_API_KEY", "hardcoded-secret"],
    ]);
    expect(findings.every((f) => f.container === undefined)).toBe(true);
  });

  it("reads a line of counters (pass: 0, fail: 0) as pairs, each value its own", () => {
    // Kyverno's chainsaw tests hold `kyverno apply` output: its summary line was a weak password in `pass`.
    const summary = "Applying 3 policy rule(s) to 1 resource(s)...\n\npass: 0, fail: 0, warn: 0, error: 0, skip: 1\n";
    expect(evaluate(configMap({ "stdout.txt": summary })).findings).toEqual([]);
    // A password on such a line is still read, alone, and so is a token after it.
    const hints = evaluate(configMap({ "app.conf": `pass: hunter2, user: bob, token: ${fake.random}\n` })).findings.map(
      (f) => f.hint,
    );
    expect(hints).toEqual([
      "weak default password in pass (redacted)",
      expect.stringMatching(/^credential in token ending/),
    ]);
  });

  it("finds a key or password a YAML file writes on the line below its name", () => {
    // A key with no provider prefix: only its name says what it is.
    const below = (name: string, indicator: string, value: string) =>
      `llm:\n  ${name}:${indicator}\n    ${value}\n  model: gpt-4o\n`;
    const data = {
      "folded.yaml": below("api-key", " >-", fake.mistral ?? ""),
      "folded-clip.yaml": below("api-key", " > # rotated monthly", fake.mistral ?? ""),
      "literal-strip.yaml": below("api-key", " |-", fake.mistral ?? ""),
      "indented.yaml": below("api-key", " |4", fake.mistral ?? ""),
      "plain.yaml": below("api-key", "", fake.mistral ?? ""),
      "password.yaml": below("db-password", " >-", fake.password ?? ""),
    };
    expect(evaluate(configMap(data)).findings.map((f) => [f.path, f.hint])).toEqual([
      ['data["folded.yaml"]', expect.stringMatching(/^credential in api-key ending/)],
      ['data["folded-clip.yaml"]', expect.stringMatching(/^credential in api-key ending/)],
      ['data["literal-strip.yaml"]', expect.stringMatching(/^credential in api-key ending/)],
      ['data["indented.yaml"]', expect.stringMatching(/^credential in api-key ending/)],
      ['data["plain.yaml"]', expect.stringMatching(/^credential in api-key ending/)],
      ['data["password.yaml"]', "password in db-password (redacted)"],
    ]);
  });

  it("names the provider of a prefix-less key by the YAML sections it is under, as by a dotted property", () => {
    const yaml = [
      "spring:",
      "  ai:",
      "    azure:",
      "      openai:",
      `        api-key: ${fake.azure}`,
      "    mistralai:",
      "      api-key: >-",
      `        ${fake.mistral}`,
      "  datasource:",
      `    password: ${fake.random}`,
    ].join("\n");
    const properties = `spring.ai.mistralai.api-key=${fake.mistral}\n`;
    const json = JSON.stringify({ Logging: { LogLevel: "Information" }, AzureOpenAI: { ApiKey: fake.azure } }, null, 2);
    const data = { "application.yaml": yaml, "application.properties": properties, "appsettings.json": json };
    expect(evaluate(configMap(data)).findings.map((f) => [f.path, f.provider, f.severity])).toEqual([
      ['data["application.yaml"]', "Azure OpenAI key", "critical"],
      ['data["application.yaml"]', "Mistral API key", "critical"],
      ['data["application.yaml"]', undefined, "high"],
      ['data["application.properties"]', "Mistral API key", "critical"],
      ['data["appsettings.json"]', "Azure OpenAI key", "critical"],
    ]);
  });

  it("reads no value below a YAML name that holds a mapping, a list, prose or nothing", () => {
    const data = {
      "nested.yaml": `credentials:\n  password: os.environ/DB_PASSWORD\n  user: app\n`,
      "list.yaml": `auth:\n  - basic\n  - bearer\n`,
      "prose.yaml": `token: >-\n  Issued by the platform team\n  and rotated by the operator.\n`,
      "empty.yaml": `password: >-\nnext: 1\napi_key:\n`,
      "comment.yaml": `password:\n  # kept in the vault\n`,
      "inline-comment.yaml": `db:\n  password: # set from the environment\n  user: app\n`,
      "script.yaml": `password: |\n  read -r PASS < /run/db/password\n`,
      "sentence.yaml": `admin:\n  password:\n    Set at first login\n`,
    };
    expect(evaluate(configMap(data)).findings.map((f) => [f.path, f.hint])).toEqual([]);
  });

  it("ignores keys that config files read from the environment", () => {
    const data = {
      "config.yaml": [
        "model_list:",
        "  - model_name: gpt",
        "    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}",
        "general_settings:",
        "  master_key: os.environ/LITELLM_MASTER_KEY",
      ].join("\n"),
      "settings.py": 'API_KEY = os.environ["ANTHROPIC_API_KEY"]\nTOKEN = os.getenv("HF_TOKEN")\n',
    };
    expect(evaluate(configMap(data)).findings).toEqual([]);
  });

  it("reads binaryData that is text, skips real binary, and ignores Secrets altogether", () => {
    const text = Buffer.from(`OPENAI_API_KEY=${fake.openai}\n`).toString("base64");
    const binary = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(fake.openai ?? "")]).toString("base64");
    const { findings } = evaluate({ kind: "ConfigMap", binaryData: { "app.env": text, "model.bin": binary } });
    expect(findings.map((f) => [f.path, f.provider, f.message])).toEqual([
      ['binaryData["app.env"]', "OpenAI API key", expect.stringContaining('binaryData key "app.env"')],
    ]);
    expect(evaluate({ kind: "Secret", stringData: { OPENAI_API_KEY: fake.openai } }).findings).toEqual([]);
  });

  it("reads binaryData text that is not UTF-8: ISO-8859-1 properties files and UTF-16 files with a BOM", () => {
    // Java reads .properties as ISO-8859-1: one "é" makes the file invalid UTF-8, and kubectl puts it in binaryData.
    const latin1 = Buffer.from(
      `# Konfiguration f\u00fcr die Zusammenfassung\nopenai.api-key=${fake.mistral}\n`,
      "latin1",
    );
    // Windows PowerShell writes UTF-16LE with a BOM; .NET reads it as text.
    const utf16 = Buffer.from(`\ufeff{"OpenAI": {"ApiKey": "${fake.openai}"}}`, "utf16le");
    const binaryData = {
      "application.properties": latin1.toString("base64"),
      "appsettings.json": utf16.toString("base64"),
    };
    const { findings } = evaluate({ kind: "ConfigMap", binaryData });
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ['binaryData["application.properties"]', "OpenAI API key"],
      ['binaryData["appsettings.json"]', "OpenAI API key"],
    ]);
  });

  it("reads UTF-16 binaryData without a BOM (iconv -t UTF-16LE, .NET's Encoding.Unicode), and leaves binary alone", () => {
    const le = Buffer.from(`OPENAI_API_KEY=${fake.openai}\n`, "utf16le");
    const binaryData = {
      "le.env": le.toString("base64"),
      "be.env": Buffer.from(le).swap16().toString("base64"),
      "logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).toString("base64"),
    };
    const { findings } = evaluate({ kind: "ConfigMap", binaryData });
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ['binaryData["le.env"]', "OpenAI API key"],
      ['binaryData["be.env"]', "OpenAI API key"],
    ]);
  });
});

describe("hardcoded-secret: long files", () => {
  it("reads every pair of a file, however many harmless ones come before the key", () => {
    const padding = Array.from({ length: 500 }, (_, i) => `CACHE_KEY_PREFIX_${i}=cache`).join("\n");
    const data = { "app.env": `${padding}\nMISTRAL_API_KEY=${fake.mistral}\nDB_PASSWORD=admin\n` };
    const { findings } = evaluate({ kind: "ConfigMap", data });
    expect(findings.map((f) => f.hint)).toEqual([
      `Mistral API key ending "…${fake.mistral?.slice(-4)}"`,
      "weak default password in DB_PASSWORD (redacted)",
    ]);
  });
});

describe("hardcoded-secret: names", () => {
  it("finds a key written as a name (ConfigMap key, annotation, label, env var, field) and never quotes it", () => {
    const google = fake.google ?? "";
    const object = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", annotations: { [`example.com/${google}`]: "1" }, labels: { [fake.github ?? ""]: "x" } },
      spec: {
        nodeSelector: { [google]: "x" },
        containers: [{ name: "app", image: "x", env: [{ name: fake.openai, value: "http://llm.example.com" }] }],
      },
    };
    const { findings } = evaluate(object);
    expect(findings.map((f) => [f.rule, f.path])).toEqual([
      ["hardcoded-secret", `metadata.annotations["example.com/<Google API key ending …${google.slice(-4)}>"]`],
      ["hardcoded-secret", `metadata.labels["<GitHub token ending …${fake.github?.slice(-4)}>"]`],
      ["hardcoded-secret", `spec.nodeSelector["<Google API key ending …${google.slice(-4)}>"]`],
      ["hardcoded-secret", "spec.containers[0].env[0].name"],
      ["plaintext-endpoint", "spec.containers[0].env[0].value"],
    ]);
    const configMap = evaluate({ kind: "ConfigMap", data: { [google]: "http://llm.example.com/v1" } }).findings;
    expect(configMap.map((f) => f.message)).toEqual([
      `a key's name in data: hardcoded Google API key ending "…${google.slice(-4)}"`,
      `data key "<Google API key ending …${google.slice(-4)}>": plaintext http://llm.example.com outside the cluster`,
    ]);
    const shown = JSON.stringify([...findings, ...configMap].map(({ pathSegments: _, ...f }) => f));
    for (const key of [google, fake.github, fake.openai]) expect(shown).not.toContain(key);
  });

  it("finds a key in metadata besides annotations and labels: finalizers, field managers; not again in fieldsV1", () => {
    const google = fake.google ?? "";
    const managedFields = [
      { manager: fake.anthropic, operation: "Update", fieldsV1: { "f:data": { [`f:${google}`]: {} } } },
    ];
    const metadata = { name: "cfg", finalizers: [`example.com/${google}`], managedFields };
    const { findings } = evaluate({ kind: "ConfigMap", metadata, data: { MODEL: "gpt-5" } });
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ["metadata.finalizers[0]", "Google API key"],
      ["metadata.managedFields[0].manager", "Anthropic API key"],
    ]);
  });

  it("passes over ordinary names, long ones included", () => {
    const env = [{ name: "AZURE_OPENAI_DEPLOYMENT_NAME_FOR_EMBEDDINGS", value: "text-embedding-3" }];
    const annotations = { "secrets-store.csi.k8s.io/used-secretproviderclass": "vault-db" };
    expect(evaluate(deployment({ env }, { annotations })).findings).toEqual([]);
  });
});

describe("hardcoded-secret: values Kubernetes composes from $(VAR)", () => {
  const openai = fake.openai ?? "";
  const half = 60;

  it("finds a key the kubelet assembles from two literal env vars", () => {
    const env = [
      { name: "PART_A", value: openai.slice(0, half) },
      { name: "PART_B", value: openai.slice(half) },
      { name: "LLM", value: "$(PART_A)$(PART_B)" },
    ];
    const findings = evaluate(deployment({ env })).findings;
    expect(findings.map((f) => [f.path, f.provider])).toEqual([
      ["spec.template.spec.containers[0].env[2].value", "OpenAI API key"],
    ]);
    expect(JSON.stringify(findings)).not.toContain(openai.slice(half));
    // Under a credential name too, though its tail alone would look like a key by that name.
    const named = [...env.slice(0, 2), { name: "OPENAI_API_KEY", value: "$(PART_A)$(PART_B)" }];
    expect(evaluate(deployment({ env: named })).findings.map((f) => f.message)).toEqual([
      expect.stringContaining("assembled from $(VAR) references"),
    ]);
    const args = ["--api-key=$(PART_A)$(PART_B)"];
    expect(evaluate(deployment({ env: env.slice(0, 2), args })).findings.map((f) => f.path)).toEqual([
      "spec.template.spec.containers[0].args[0]",
    ]);
  });

  it("reports a key once, where it is written, not again where it is referenced", () => {
    const env = [
      { name: "OPENAI_API_KEY", value: openai },
      { name: "LLM_KEY", value: "$(OPENAI_API_KEY)" },
      { name: "ESCAPED", value: "$$(PART_A)$(PART_B)" },
      { name: "PART_B", value: openai.slice(half) },
    ];
    expect(evaluate(deployment({ env })).findings.map((f) => f.path)).toEqual([
      "spec.template.spec.containers[0].env[0].value",
    ]);
  });

  it("reports a password once, where it is written, when a flag or property passes it by another name", () => {
    const where = ["spec.template.spec.containers[0].env[0].value"];
    for (const password of [fake.random ?? "", "hunter2"]) {
      const env = [{ name: "DB_PASSWORD", value: password }];
      for (const args of [
        ["--password=$(DB_PASSWORD)"],
        ["-Dpassword=$(DB_PASSWORD)", "-jar", "app.jar"],
        ["-Dspring.datasource.password=$(DB_PASSWORD)", "-jar", "app.jar"],
        ["-c", "exec java -Ddb.password=$(DB_PASSWORD) -jar app.jar"],
      ])
        expect(
          evaluate(deployment({ env, args })).findings.map((f) => f.path),
          args[0],
        ).toEqual(where);
    }
  });

  it("reports a token once, where it is written, when a header, a query or a flag passes it", () => {
    const env = [{ name: "API_TOKEN", value: fake.random ?? "" }];
    for (const args of [
      ["-c", "curl -H 'Authorization: Bearer $(API_TOKEN)' https://llm.example.com"],
      ["-c", "curl https://llm.example.com/v1/models?token=$(API_TOKEN)"],
      ["--api-key", "$(API_TOKEN)"],
    ])
      expect(
        evaluate(deployment({ env, args })).findings.map((f) => f.path),
        args[1],
      ).toEqual(["spec.template.spec.containers[0].env[0].value"]);
  });
});
