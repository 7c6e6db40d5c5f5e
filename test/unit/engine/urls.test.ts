import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/engine/index.ts";
import { deployment, envFindings, rulesOf } from "./build.ts";

describe("credentials-in-url", () => {
  it("finds a literal password in a URL, without echoing it", () => {
    const findings = envFindings("DATABASE_URL", "postgres://orders:Tr0ub4dor-and-3@db.prod.example.net:5432/orders");
    expect(rulesOf(findings)).toEqual(["credentials-in-url"]);
    expect(findings[0]?.category).toBe("hardcoded-secret");
    expect(findings[0]?.message).toContain("db.prod.example.net");
    expect(findings[0]?.message).not.toContain("Tr0ub4dor");
  });

  it("finds it for in-cluster hosts too, and with an empty user", () => {
    expect(rulesOf(envFindings("REDIS_URL", "redis://:Kq8sLw2xPz@redis.cache.svc:6379/0"))).toEqual([
      "credentials-in-url",
    ]);
  });

  it("ignores URLs with a user only, or a password from a variable", () => {
    const traps = [
      "ssh://git@github.com/acme/deploy.git",
      "postgres://orders:$(DB_PASSWORD)@db.prod.example.net/orders",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a runtime reference, on purpose
      "amqp://guest:${RABBIT_PASSWORD}@rabbitmq:5672",
      "mongodb://user:password@localhost:27017",
      "https://{{ .Values.user }}:{{ .Values.password }}@charts.example.com",
    ];
    for (const url of traps) expect(envFindings("URL", url), url).toEqual([]);
  });
});

describe("plaintext-endpoint", () => {
  it("finds http:// and ws:// to hosts outside the cluster", () => {
    for (const url of [
      "http://api.openai.com/v1",
      "ws://realtime.example.com/stream",
      "http://10.12.0.7:8080/predict",
    ]) {
      const findings = envFindings("LLM_ENDPOINT", url);
      expect(rulesOf(findings), url).toEqual(["plaintext-endpoint"]);
      expect(findings[0]?.severity).toBe("medium");
    }
  });

  it("finds the spellings a WHATWG URL parser (Node's fetch, the OpenAI Node SDK) reads as http://", () => {
    for (const url of [
      "http:/api.example.com/v1",
      "HTTP:\\\\api.example.com\\v1",
      "http:\\api.example.com",
      "ws:/x.example.com",
    ]) {
      const findings = envFindings("OPENAI_BASE_URL", url);
      expect(rulesOf(findings), url).toEqual(["plaintext-endpoint"]);
      expect(findings[0]?.hint, url).toMatch(/^(?:http|ws):\/\/(?:api|x)\.example\.com$/);
    }
    expect(rulesOf(envFindings("REDIS_URL", "redis:/:Kq8sLw2xPz@cache.example.com:6379"))).toEqual([]);
    expect(envFindings("DOCS", "see C:/data or file:/etc/hosts")).toEqual([]);
  });

  it("reads a percent-encoded host as the host a URL parser decodes it to", () => {
    const findings = envFindings("OPENAI_BASE_URL", "http://api%2Eexample%2Ecom/v1");
    expect(findings.map((f) => f.hint)).toEqual(["http://api.example.com"]);
    expect(envFindings("OPENAI_BASE_URL", "http://%DB_HOST%:8080/v1")).toEqual([]);
  });

  it("finds a plaintext URL in args and shell strings", () => {
    const container = {
      args: ["--upstream=http://inference.example.com:8000"],
      command: ["sh", "-c", "wget -qO- http://models.example.org/x.bin > /m"],
    };
    expect(evaluate(deployment(container)).findings.map((f) => f.path)).toEqual([
      "spec.template.spec.containers[0].command[2]",
      "spec.template.spec.containers[0].args[0]",
    ]);
  });

  it("accepts loopback, unspecified, link-local and in-cluster hosts", () => {
    const fine = [
      "http://localhost:8080",
      "http://127.0.0.1:9090/metrics",
      "http://[::1]:8080",
      "http://0.0.0.0:8000",
      "http://[::]:8000",
      "http://169.254.169.254/latest/meta-data",
      "http://ollama:11434",
      "http://vllm.inference.svc:8000/v1",
      "http://vllm.inference.svc.cluster.local:8000/v1",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a runtime reference, on purpose
      "http://${LLM_HOST}:8000",
      "http://$(LLM_HOST):8000",
      "https://api.openai.com/v1",
      "wss://realtime.example.com",
    ];
    for (const url of fine) expect(envFindings("ENDPOINT", url), url).toEqual([]);
  });

  it("accepts the link-local services of IPv6 nodes, as their 169.254 addresses", () => {
    // What EKS Pod Identity injects into every Pod of an IPv6 cluster, and the AWS SDK's IPv6 IMDS setting.
    expect(envFindings("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[fd00:ec2::23]/v1/credentials")).toEqual([]);
    expect(envFindings("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[fd00:ec2::254]")).toEqual([]);
    expect(envFindings("ENDPOINT", "http://[fe80::1%25eth0]:8080")).toEqual([]);
    expect(envFindings("ENDPOINT", "http://[0:0:0:0:0:0:0:1]:8080")).toEqual([]);
    // Other IPv6 hosts are outside the cluster as before.
    expect(rulesOf(envFindings("ENDPOINT", "http://[2001:db8::1]/v1"))).toEqual(["plaintext-endpoint"]);
    expect(rulesOf(envFindings("ENDPOINT", "http://[fd00:ec3::23]/v1"))).toEqual(["plaintext-endpoint"]);
  });

  it("does not treat proxy variables as endpoints", () => {
    for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "NO_PROXY"]) {
      expect(envFindings(name, "http://squid.corp.example.com:3128"), name).toEqual([]);
    }
  });

  it("always reports a plaintext URL to an AiApiPolicy endpoint, in the cluster or not", () => {
    const context = { policyEndpointHosts: ["llm.ml.svc", "API.Example.com"] };
    const inCluster = envFindings("LLM_URL", "http://llm.ml.svc/v1/generate", context);
    expect(rulesOf(inCluster)).toEqual(["plaintext-endpoint"]);
    expect(inCluster[0]?.severity).toBe("high");
    expect(inCluster[0]?.message).toContain("AiApiPolicy");
    expect(rulesOf(envFindings("LLM_URL", "http://api.example.com/v1", context))).toEqual(["plaintext-endpoint"]);
    expect(envFindings("LLM_URL", "https://llm.ml.svc/v1/generate", context)).toEqual([]);
  });

  it("follows a host list that is reused, and changed in place, between evaluations", () => {
    const hosts = ["llm.ml.svc"];
    const context = { policyEndpointHosts: hosts };
    expect(rulesOf(envFindings("LLM_URL", "http://llm.ml.svc/v1", context))).toEqual(["plaintext-endpoint"]);
    expect(envFindings("LLM_URL", "http://gpu.ml.svc/v1", context)).toEqual([]);
    hosts[0] = "GPU.ml.svc";
    expect(rulesOf(envFindings("LLM_URL", "http://gpu.ml.svc/v1", context))).toEqual(["plaintext-endpoint"]);
    expect(envFindings("LLM_URL", "http://llm.ml.svc/v1", context)).toEqual([]);
    hosts.push("llm.ml.svc");
    expect(rulesOf(envFindings("LLM_URL", "http://llm.ml.svc/v1", context))).toEqual(["plaintext-endpoint"]);
  });

  it("never echoes the path or query, which may carry a key", () => {
    const findings = envFindings("URL", "http://maps.example.com/api?key=Zq8Lw3Nv7Tx2Kp5R");
    // The key in the query is a hardcoded secret of its own; neither finding quotes it.
    expect(findings.map((f) => [f.rule, f.hint])).toEqual([
      ["hardcoded-secret", 'credential in key ending "…Kp5R"'],
      ["plaintext-endpoint", "http://maps.example.com"],
    ]);
    for (const finding of findings) expect(finding.message).not.toContain("Zq8Lw3Nv7Tx2Kp5R");
  });

  it("does not review ConfigMap data for endpoints (secrets only)", () => {
    const configMap = {
      kind: "ConfigMap",
      metadata: { name: "nginx" },
      data: { "nginx.conf": "proxy_pass http://backend.example.com;" },
    };
    expect(evaluate(configMap).findings).toEqual([]);
  });
});
