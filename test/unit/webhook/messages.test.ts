import { describe, expect, it } from "vitest";
import {
  capWarnings,
  existingReport,
  existingWarning,
  findingsReport,
  findingWarning,
  MAX_WARNING_LENGTH,
} from "../../../src/webhook/messages.ts";
import { finding } from "../../support/admission.ts";

// What kubectl printed for a Pod with a long name: nothing said which container or field to fix.
const longPod = {
  kind: "Pod",
  namespace: "ml-team",
  name: "quarterly-financial-reports-summarizer-for-the-emea-region-team-x",
};
const longFinding = finding({
  container: "summarizer-sidecar-that-calls-the-openai-api-for-every-report",
  path: "spec.containers[0].env[10].value",
  hint: 'OpenAI API key ending "…wxyz"',
});

describe("warnings for long names", () => {
  it("shortens the object's name, not the container and field the developer must fix", () => {
    const warning = findingWarning(longPod, longFinding);
    expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(warning).toMatch(
      /^hardcoded-secret: Pod\/quarterly\.\.\. container summarizer-sidecar-[a-z-]*\.\.\. env\[10\]\.value /,
    );
    expect(warning).toContain("env[10].value");
    expect(warning).toMatch(/ \(OpenAI API key ending "…wxyz"\)$/);
  });

  // Before: "hardcoded-secret: Pod/quarterly-financial-... volumes[1].csi.volumeAttributes.secretKey": the refusal
  // named the volume, the warning only its index.
  it("names the volume a key sits in, as it names a container, and shortens a long volume name before the field", () => {
    const inVolume = finding({
      container: undefined,
      volume: "models",
      path: "spec.template.spec.volumes[1].csi.volumeAttributes.secretKey",
    });
    expect(findingWarning({ kind: "Deployment", namespace: "ml", name: "chat" }, inVolume)).toBe(
      `hardcoded-secret: Deployment/chat volume models csi.volumeAttributes.secretKey (${inVolume.hint})`,
    );
    const longVolume = { ...inVolume, volume: "model-weights-from-the-shared-bucket-of-the-research-team-in-emea" };
    const warning = findingWarning(longPod, longVolume);
    expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(warning).toMatch(
      /^hardcoded-secret: Pod\/quarterly\.\.\. volume model-[a-z-]*\.\.\. csi\.volumeAttributes\.secretKey \(/,
    );
  });

  it("keeps the field of a finding that was already there", () => {
    const warning = existingWarning(longPod, longFinding);
    expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(warning).toContain("env[10].value (already there: admitted, fix it)");
  });
});

// 35 weak passwords in one ConfigMap: the refusal listed 20 and said "and 15 more findings not listed here",
// so the developer could not fix the manifest in one try.
describe("findings left out of a refusal", () => {
  const subject = { kind: "ConfigMap", namespace: "default", name: "many" };
  const findings = Array.from({ length: 35 }, (_, i) => finding({ container: undefined, path: `data.P${i}` }));
  const listsThemAll = "`ai-api-guard scan FILE` lists them all";

  it("says how to list every finding", () => {
    const report = findingsReport(subject, { action: "Deny" }, findings);
    expect(report.split("\n").at(-1)).toBe(`- and 15 more findings not listed here: ${listsThemAll}`);
  });

  it("says so for findings an update already had", () => {
    expect(existingReport(subject, findings).split("\n").at(-1)).toBe(`- and 15 more not listed here: ${listsThemAll}`);
  });

  it("says so for warnings left out", () => {
    const warnings = capWarnings(findings.map((f) => findingWarning(subject, f)));
    expect(warnings.at(-1)).toBe(`ai-api-guard: 26 more warnings not shown: ${listsThemAll}`);
  });
});
