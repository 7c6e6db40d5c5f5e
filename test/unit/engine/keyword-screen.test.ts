// The keyword screen may only save work: wherever the regex it stands before would match, it must say yes.
// Checked on text made of the keywords' own pieces in both cases, whitespace of every kind, and characters
// whose lower case is ASCII (the Kelvin sign), where a screen that reads characters could go wrong.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FREE_TEXT_CREDENTIAL } from "../../../src/engine/assignments.ts";
import { keywordScreen } from "../../../src/engine/keyword-screen.ts";
import { CREDENTIAL_SUBSTRING } from "../../../src/engine/names.ts";
import { hardcodedSecrets, SECRET_KEYWORDS } from "../../../src/engine/rules/hardcoded-secret.ts";
import { ANY_FORMAT_KEYWORD, FORMAT_KEYWORDS } from "../../../src/engine/rules/secret-formats.ts";
import { mayHoldUrl, URL_MARKERS } from "../../../src/engine/rules/urls.ts";
import { shownName } from "../../../src/engine/shown.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";

const RULE_KEYWORDS = SECRET_KEYWORDS;
const ruleScreen = keywordScreen(RULE_KEYWORDS);
const anyRuleKeyword = (text: string) =>
  [ANY_FORMAT_KEYWORD, CREDENTIAL_SUBSTRING, FREE_TEXT_CREDENTIAL].some((regex) => regex.test(text.toLowerCase()));

const piece = (keywords: readonly string[]) =>
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...keywords),
        fc.constantFrom(...keywords).map((k) => k.slice(0, Math.ceil(k.length / 2))),
        fc.constantFrom(...keywords).map((k) => k.slice(Math.floor(k.length / 2))),
        fc.constantFrom(" ", "\t", "\n", "\u000b", "\f", "\r", "\u00a0", "\u2028", "\u212a", "\u0130", "-", "_", "."),
        fc.string({ maxLength: 3, unit: "binary" }),
      ),
      fc.boolean(),
    )
    .map(([text, upper]) => (upper ? text.toUpperCase() : text));
const textOf = (keywords: readonly string[]) => fc.array(piece(keywords), { maxLength: 10 }).map((p) => p.join(""));

describe("keyword screen", () => {
  it("says yes wherever a rule keyword matches the lower-cased value", () => {
    fc.assert(
      fc.property(textOf(RULE_KEYWORDS), (text) => {
        if (anyRuleKeyword(text)) expect(ruleScreen(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("says yes wherever a provider format's keyword matches in any case", () => {
    const screen = keywordScreen(FORMAT_KEYWORDS);
    const caseless = new RegExp(ANY_FORMAT_KEYWORD.source, "i");
    fc.assert(
      fc.property(textOf(FORMAT_KEYWORDS), (text) => {
        if (caseless.test(text)) expect(screen(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("says yes wherever a URL may be", () => {
    const screen = keywordScreen(URL_MARKERS);
    fc.assert(
      fc.property(textOf([...URL_MARKERS, "http", "//"]), (text) => {
        if (mayHoldUrl(text)) expect(screen(text)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it("finds each keyword in upper case, after whitespace, and at the end of a long value", () => {
    const filler = "x".repeat(500);
    for (const keyword of RULE_KEYWORDS) {
      for (const text of [keyword, keyword.toUpperCase(), `${filler}${keyword}`, `a\t${keyword.replace(" ", "\t")}`])
        expect(ruleScreen(text), JSON.stringify(text)).toBe(true);
    }
    // curl -u, with a tab after the flag: FREE_TEXT_CREDENTIAL's \s.
    expect(ruleScreen("curl -u\tadmin:hunter2")).toBe(true);
    // The Kelvin sign lower-cases to "k": "\u212aey" is "key" to the regex.
    expect(anyRuleKeyword("\u212aey")).toBe(true);
    expect(ruleScreen("\u212aey")).toBe(true);
  });

  it("says yes for every fake key of every format, alone and as a name with generated suffixes", () => {
    const group = { source: {}, configMap: false, complete: true };
    const keys = Object.entries(fakeSecrets(7));
    let found = 0;
    for (const [format, key] of keys) {
      for (const text of [key, `${key}-5d8f7c9b4-x2k9p`]) {
        const candidate = { value: text, base: [], tail: [], field: "name" as const, annotations: [], group };
        if (hardcodedSecrets(candidate, text.toLowerCase()).length === 0) continue;
        found++;
        expect(ruleScreen(text), format).toBe(true);
      }
    }
    // Most formats are found in a bare value: the loop above checked something.
    expect(found).toBeGreaterThan(keys.length);
    // The DeepSeek key a Kubernetes name can be, with a Deployment's Pod suffixes: shown by its hint.
    const name = `sk-${"0123456789abcdef".repeat(2)}-5d8f7c9b4-x2k9p`;
    expect(shownName(name)).not.toContain("0123456789abcdef");
  });

  it("says no for the values most workloads are made of", () => {
    for (const text of ["IfNotPresent", "registry.example.com/ml/summarizer-app:1.0.3", "250m", "1Gi", "RollingUpdate"])
      expect(ruleScreen(text), text).toBe(false);
  });

  it("refuses a keyword it cannot screen for, so a rule added with one fails at load", () => {
    expect(() => keywordScreen(["k"])).toThrow(/2 characters or more/);
    expect(() => keywordScreen(["Key"])).toThrow(/lower-case/);
    expect(() => keywordScreen(["clé"])).toThrow(/ASCII/);
  });
});
