// A quick "no" before a keyword regex. Most values of a workload hold no keyword, and an alternation of
// fifty literals costs V8 about 3 ns a character to rule out; this screen reads each character once,
// looks up the last two and three (case folded) in tables of the keywords' first characters, and
// compares the whole keyword only where one starts. Text with a character beyond ASCII goes to the regex.

/** Says false only when no keyword can occur in the text's lower-case form. */
export type KeywordScreen = (text: string) => boolean;

const TRIPLE_MASK = (1 << 21) - 1;
const PAIR_MASK = (1 << 14) - 1;

// ASCII letters fold to lower case; ASCII whitespace to a space, so a keyword's space stands for any.
const FOLD = Uint8Array.from({ length: 128 }, (_, c) => {
  if (c >= 65 && c <= 90) return c + 32;
  return c >= 9 && c <= 13 ? 32 : c;
});

/**
 * `keywords`: lower-case ASCII, two characters or more; a space in one stands for any whitespace (as `\s`
 * in the regex it screens for).
 */
export function keywordScreen(keywords: readonly string[]): KeywordScreen {
  // By the first three (or two) folded characters, 7 bits each: the slot of the keywords that start so. A
  // byte a slot reads faster than a bit; the 2 MiB table is mostly untouched zero pages, not resident memory.
  const triples = new Uint8Array(TRIPLE_MASK + 1);
  const pairs = new Uint8Array(PAIR_MASK + 1);
  const slots: string[][] = [[]];
  for (const keyword of new Set(keywords)) {
    if (!/^[\x20-\x7e]{2,}$/.test(keyword) || keyword !== keyword.toLowerCase())
      throw new Error(`keyword screen: "${keyword}" is not lower-case printable ASCII of 2 characters or more`);
    const codes = [...keyword.slice(0, 3)].map((c) => FOLD[c.charCodeAt(0)] as number);
    const index = codes.reduce((h, c) => (h << 7) | c, 0);
    const table = codes.length === 2 ? pairs : triples;
    if (table[index] === 0) table[index] = slots.push([]) - 1;
    slots[table[index] as number]?.push(keyword);
  }
  if (slots.length > 256) throw new Error("keyword screen: more than 255 distinct keyword starts");
  const withPairs = pairs.some((slot) => slot !== 0);
  const startsAt = (text: string, start: number, slot: number) =>
    (slots[slot] as string[]).some((keyword) => foldedAt(text, start, keyword));
  return (text) => {
    let h = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Lower-casing can make ASCII of what is not (the Kelvin sign becomes k): such text goes to the regex.
      if (c > 127) return true;
      h = ((h << 7) | (FOLD[c] as number)) & TRIPLE_MASK;
      const triple = i >= 2 ? (triples[h] as number) : 0;
      if (triple !== 0 && startsAt(text, i - 2, triple)) return true;
      const pair = withPairs && i >= 1 ? (pairs[h & PAIR_MASK] as number) : 0;
      if (pair !== 0 && startsAt(text, i - 1, pair)) return true;
    }
    return false;
  };
}

/** Whether `keyword` stands at `start` once folded; a character beyond ASCII there may be one of its letters. */
function foldedAt(text: string, start: number, keyword: string): boolean {
  if (start + keyword.length > text.length) return false;
  for (let j = 0; j < keyword.length; j++) {
    const c = text.charCodeAt(start + j);
    if (c > 127) return true;
    if (FOLD[c] !== keyword.charCodeAt(j)) return false;
  }
  return true;
}
