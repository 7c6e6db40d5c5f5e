// One order for everything ai-api-guard sorts or compares: by code unit. Not localeCompare: its order
// follows the machine's locale and ICU data (a Danish locale puts "aa" after "z"; ICU skips "\0" and
// puts "web-2" before "web\0…"), so report order, the policy that holds a mountPath and the bytes of an
// apply would differ from one replica to another.
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with keys sorted, to compare an object with what the API server (or a cache) holds. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => byCodePoint(a, b)))
      : v,
  );
}
