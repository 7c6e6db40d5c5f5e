// A name can hold a key anywhere (a DeepSeek key is a valid DNS label): at its start, after a prefix
// (`app-<key>`), before generated suffixes (`<key>-<hash>-<random>`) or both. shownName shows each by its hint.
import { describe, expect, it } from "vitest";
import { hardcodedSecrets } from "../../../src/engine/rules/hardcoded-secret.ts";
import { shownName } from "../../../src/engine/shown.ts";
import { fakeSecrets } from "../../support/fake-secrets.ts";

const group = { source: {}, configMap: false, complete: true };
/**
 * The fake keys hardcoded-secret finds by format alone in a bare value, of the characters a name (an object's,
 * a ConfigMap key, an annotation's, an env var's) is made of, short enough to be one (253 at most).
 */
const keys = Object.entries(fakeSecrets(11)).filter(([, key]) => {
  const candidate = { value: key, base: [], tail: [], field: "name" as const, annotations: [], group };
  return /^[\w.:-]{20,200}$/.test(key) && hardcodedSecrets(candidate, key.toLowerCase()).length > 0;
});
const deepseek = fakeSecrets(11).deepseek as string;

describe("shownName", () => {
  it("shows a key anywhere in a name by its hint, never a piece of it", () => {
    expect(keys.length).toBeGreaterThan(20);
    for (const [format, key] of keys) {
      for (const name of [
        key,
        `${key}-5d8f7c9b4-x2k9p`,
        `app-${key}`,
        `team-a-${key}-worker`,
        `team-a-${key}-worker-5d8f7c9b4-x2k9p`,
        `a.${key}.b`,
      ]) {
        const shown = shownName(name);
        expect(shown, `${format}: ${name}`).toMatch(/<[^>]+>/);
        expect(shown, `${format}: ${name}`).not.toContain(key.slice(-16, -4));
      }
    }
  });

  it("keeps what is around the key", () => {
    const hint = `<DeepSeek API key ending …${deepseek.slice(-4)}>`;
    expect(shownName(`team-a-${deepseek}-worker-5d8f7c9b4-x2k9p`)).toBe(`team-a-${hint}-worker-5d8f7c9b4-x2k9p`);
  });

  it("shows ordinary names as written", () => {
    for (const name of [
      "summarizer-7d9f8b6c5d-x2x9z",
      "api-key-rotator-7d9f8b6c5d-x2x9z",
      "secret-store-csi-driver-provider-aws",
      `app-sk-${"0".repeat(32)}`,
      `${deepseek}a`,
    ])
      expect(shownName(name)).toBe(name);
  });
});
