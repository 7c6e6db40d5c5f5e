import { describe, expect, it } from "vitest";
import { existingWarning, findingWarning, MAX_WARNING_LENGTH } from "../../../src/webhook/messages.ts";
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

  it("keeps the field of a finding that was already there", () => {
    const warning = existingWarning(longPod, longFinding);
    expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(warning).toContain("env[10].value (already there: admitted, fix it)");
  });
});
