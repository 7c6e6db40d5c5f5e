// The only way a value leaves a rule: as a hint that names what it is and at most its last 4 characters.

/** Below this length even 4 characters give too much of the value away. */
const SHORTEST_WITH_TAIL = 16;

export function redactedHint(label: string, secret: string): string {
  if (secret.length < SHORTEST_WITH_TAIL) return `${label} (redacted)`;
  return `${label} ending "…${secret.slice(-4)}"`;
}
