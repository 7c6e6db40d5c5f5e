import { describe, expect, it } from "vitest";
import { type LabelSelector, matchesSelector } from "../../../src/kube/label-selector.ts";

const labels = { app: "summarizer", tier: "backend" };

describe("matchesSelector", () => {
  it("matches everything with an empty selector, as Kubernetes does", () => {
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it("requires every matchLabels pair", () => {
    expect(matchesSelector({ matchLabels: { app: "summarizer" } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: "summarizer", tier: "frontend" } }, labels)).toBe(false);
    expect(matchesSelector({ matchLabels: { team: "ml" } }, labels)).toBe(false);
  });

  it.each<[string, LabelSelector, boolean]>([
    ["In with the value", { matchExpressions: [{ key: "tier", operator: "In", values: ["backend", "batch"] }] }, true],
    ["In without the value", { matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }] }, false],
    ["In on a missing label", { matchExpressions: [{ key: "team", operator: "In", values: ["ml"] }] }, false],
    ["NotIn without the value", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["frontend"] }] }, true],
    ["NotIn with the value", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["backend"] }] }, false],
    ["NotIn on a missing label", { matchExpressions: [{ key: "team", operator: "NotIn", values: ["ml"] }] }, true],
    ["Exists on a present label", { matchExpressions: [{ key: "app", operator: "Exists" }] }, true],
    ["Exists on a missing label", { matchExpressions: [{ key: "team", operator: "Exists" }] }, false],
    ["DoesNotExist on a missing label", { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, true],
    ["DoesNotExist on a present label", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
  ])("%s", (_, selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("requires matchLabels and every expression together", () => {
    const selector: LabelSelector = {
      matchLabels: { app: "summarizer" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["backend"] },
        { key: "canary", operator: "DoesNotExist" },
      ],
    };
    expect(matchesSelector(selector, labels)).toBe(true);
    expect(matchesSelector(selector, { ...labels, canary: "true" })).toBe(false);
  });

  it("does not read labels from the prototype chain", () => {
    expect(matchesSelector({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, {})).toBe(false);
  });

  it("selects nothing with an operator the API server would have refused", () => {
    const selector = { matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] } as unknown as LabelSelector;
    expect(matchesSelector(selector, labels)).toBe(false);
  });
});
