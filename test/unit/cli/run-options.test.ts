import { describe, expect, it } from "vitest";
import { parseRunOptions } from "../../../src/cli/run-options.ts";
import { exemptNamespaces } from "../../../src/config/settings.ts";

describe("run options", () => {
  it("applies the documented defaults out of cluster", () => {
    const parsed = parseRunOptions(["--webhook-url", "https://127.0.0.1:9443"], {});
    expect(parsed).toMatchObject({
      ok: true,
      options: {
        "default-action": "Deny",
        "exempt-namespaces": ["kube-system"],
        "pod-namespace": "ai-api-guard",
        "failure-policy": "Fail",
        "timeout-seconds": 10,
        "webhook-config-name": "ai-api-guard",
      },
    });
  });

  it("refuses a port past 65535 and a number that is no number, saying what to write (before: a stack trace)", () => {
    expect(parseRunOptions(["--webhook-url", "https://127.0.0.1:99999"], {})).toEqual({
      ok: false,
      error: "--webhook-url: must be an https:// URL with an explicit port, e.g. https://127.0.0.1:9443",
    });
    const interval = parseRunOptions(["--webhook-url", "https://127.0.0.1:9443", "--audit-interval", "5m"], {});
    expect(interval).toEqual({
      ok: false,
      error: "--audit-interval: must be a number: Seconds between two audit runs (one runs at start).",
    });
  });

  it("takes the audit and read API settings, with defaults, and refuses a plaintext issuer", () => {
    const base = ["--webhook-url", "https://127.0.0.1:9443"];
    expect(parseRunOptions(base, {})).toMatchObject({
      ok: true,
      options: { "audit-interval": 600, "reports-format": "openreports", "read-api-audience": "ai-api-guard" },
    });
    const env = { AI_API_GUARD_REPORTS_FORMAT: "wgpolicyk8s", AI_API_GUARD_READ_API_ISSUER: "https://idp.example" };
    expect(parseRunOptions(base, env)).toMatchObject({
      ok: true,
      options: { "reports-format": "wgpolicyk8s", "read-api-issuer": "https://idp.example" },
    });
    const plaintext = parseRunOptions([...base, "--read-api-issuer", "http://idp.example"], {});
    expect(plaintext.ok || plaintext.error).toContain("--read-api-issuer: must be the OIDC issuer's https:// URL");
    expect(parseRunOptions([...base, "--audit-interval", "1"], {}).ok).toBe(false);
  });

  it("takes the OIDC claim mappings with an issuer only; the chart's empty values are unset", () => {
    const base = ["--webhook-url", "https://127.0.0.1:9443"];
    const mapping = ["--read-api-username-prefix", "-", "--read-api-groups-claim", "groups"];
    const alone = parseRunOptions([...base, ...mapping], {});
    expect(alone.ok || alone.error).toContain("name the users of an OIDC issuer: give --read-api-issuer too");
    expect(parseRunOptions([...base, ...mapping, "--read-api-issuer", "https://idp.example"], {})).toMatchObject({
      ok: true,
      options: { "read-api-username-prefix": "-", "read-api-groups-claim": "groups" },
    });
    const chartDefaults = {
      AI_API_GUARD_READ_API_ISSUER: "",
      AI_API_GUARD_READ_API_USERNAME_CLAIM: "",
      AI_API_GUARD_READ_API_USERNAME_PREFIX: "",
      AI_API_GUARD_READ_API_GROUPS_CLAIM: "",
      AI_API_GUARD_READ_API_GROUPS_PREFIX: "",
    };
    expect(parseRunOptions(base, chartDefaults).ok).toBe(true);
  });

  it("takes environment variables, and flags win over them", () => {
    const env = { AI_API_GUARD_DEFAULT_ACTION: "Audit", AI_API_GUARD_EXEMPT_NAMESPACES: "a, b" };
    const parsed = parseRunOptions(["--webhook-url", "https://127.0.0.1:9443", "--default-action", "Warn"], env);
    expect(parsed.ok && parsed.options["default-action"]).toBe("Warn");
    expect(parsed.ok && parsed.options["exempt-namespaces"]).toEqual(["a", "b"]);
  });

  it("always exempts the operator's own namespace, from POD_NAMESPACE (the downward API)", () => {
    const parsed = parseRunOptions(["--certificate-secret", "guard-tls", "--service-name", "guard"], {
      POD_NAMESPACE: "platform-security",
    });
    expect(parsed.ok && exemptNamespaces(parsed.options)).toEqual(["kube-system", "platform-security"]);
    const own = parseRunOptions(["--webhook-url", "https://127.0.0.1:1", "--exempt-namespaces", ""], {});
    expect(own.ok && exemptNamespaces(own.options)).toEqual(["ai-api-guard"]);
  });

  it("reads an empty variable as not set, except for lists, where it is the empty list", () => {
    const env = { AI_API_GUARD_DEFAULT_ACTION: "", AI_API_GUARD_TLS_CERT_FILE: "", AI_API_GUARD_EXEMPT_NAMESPACES: "" };
    const parsed = parseRunOptions(["--webhook-url", "https://127.0.0.1:1"], env);
    expect(parsed).toMatchObject({ ok: true, options: { "default-action": "Deny", "exempt-namespaces": [] } });
    expect(parsed.ok && parsed.options["tls-cert-file"]).toBeUndefined();
  });

  it("parses a namespace selector into labels", () => {
    const parsed = parseRunOptions(
      ["--webhook-url", "https://127.0.0.1:1", "--namespace-selector", "team=ml,e2e="],
      {},
    );
    expect(parsed.ok && parsed.options["namespace-selector"]).toEqual({ team: "ml", e2e: "" });
  });

  it.each([
    [["--webhook-url", "http://127.0.0.1:9443"], "--webhook-url: must be an https:// URL"],
    [["--webhook-url", "https://127.0.0.1"], "--webhook-url: must name a port"],
    [["--webhook-url", "https://127.0.0.1:1", "--default-action", "Block"], "--default-action"],
    [["--webhook-url", "https://127.0.0.1:1", "--timeout-seconds", "60"], "--timeout-seconds"],
    [[], "give --webhook-url"],
    [["--tls-cert-file", "c.pem"], "give --webhook-url"],
    [["--tls-cert-file", "c.pem", "--certificate-secret", "s", "--service-name", "x"], "--tls-key-file: give"],
    [["--certificate-secret", "aag-tls"], "--service-name: --certificate-secret needs --service-name"],
    [["--webhook-url", "https://127.0.0.1:1", "--namespace-selector", "team"], "--namespace-selector: each label"],
    [["--webhook-url", "https://127.0.0.1:1", "--ca-duration", "15"], "--ca-duration: must be a whole number"],
    [["--webhook-url", "https://127.0.0.1:1", "--leader-elect", "yes"], "--leader-elect"],
    [
      ["--webhook-url", "https://127.0.0.1:1", "--lease-duration-seconds", "5"],
      "--renew-deadline-seconds must be shorter",
    ],
    [
      // With failurePolicy Ignore, a large review still running when the API server gives up is admitted unread.
      ["--webhook-url", "https://127.0.0.1:1", "--timeout-seconds", "2"],
      "--review-budget-ms must end at least 500 ms before --timeout-seconds",
    ],
    [
      ["--webhook-url", "https://127.0.0.1:1", "--exempt-namespaces", "Kube_System"],
      "--exempt-namespaces.0: must be a DNS label",
    ],
    [["--no-such-flag", "x"], "Unknown option '--no-such-flag'"],
  ])("refuses %j naming the problem", (argv, message) => {
    const parsed = parseRunOptions(argv, {});
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.error).toContain(message);
  });
});
