// Reading untrusted Kubernetes objects (admission requests, manifests) without trusting their shape.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at a path of keys, or undefined as soon as a step is not an object. */
export function pathValue(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}
