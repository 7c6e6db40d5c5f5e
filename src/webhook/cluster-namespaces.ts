// The cluster's namespaces as the set the engine asks about in-cluster names (`http://svc.<namespace>`),
// kept from the shared informer: built again only after a namespace came or went, not per review.
import type { Cached, Informer } from "../kube/informer.ts";

/** The current names, or undefined until the first list: the engine then falls back to its public-suffix test. */
export function namespaceNames(informer: Informer<Cached>): () => ReadonlySet<string> | undefined {
  let names: ReadonlySet<string> | undefined;
  informer.on((event) => {
    if (event.type === "add" || event.type === "delete") names = undefined;
  });
  return () => {
    if (!informer.synced()) return undefined;
    names ??= new Set(informer.list().map((namespace) => namespace.metadata.name));
    return names;
  };
}
