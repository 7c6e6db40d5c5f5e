// The Kubernetes resources ai-api-guard reads and writes, and their REST paths.
import { API_GROUP, API_VERSION, KIND, PLURAL } from "../api/index.ts";
import type { WorkloadKind } from "../api/workload-kinds.ts";

export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const resources = {
  policy: { group: API_GROUP, version: API_VERSION, plural: PLURAL, kind: KIND },
  ingress: { group: "networking.k8s.io", version: "v1", plural: "ingresses", kind: "Ingress" },
  networkPolicy: { group: "networking.k8s.io", version: "v1", plural: "networkpolicies", kind: "NetworkPolicy" },
  secret: { group: "", version: "v1", plural: "secrets", kind: "Secret" },
  namespace: { group: "", version: "v1", plural: "namespaces", kind: "Namespace" },
  event: { group: "", version: "v1", plural: "events", kind: "Event" },
  lease: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" },
  middleware: { group: "traefik.io", version: "v1alpha1", plural: "middlewares", kind: "Middleware" },
  ciliumNetworkPolicy: {
    group: "cilium.io",
    version: "v2",
    plural: "ciliumnetworkpolicies",
    kind: "CiliumNetworkPolicy",
  },
} as const satisfies Record<string, Resource>;

/** A row of the kinds table as a resource. */
export function resourceOf(row: WorkloadKind): Resource {
  return { group: row.group, version: row.version, plural: row.resource, kind: row.kind };
}

export function apiVersionOf(resource: Resource): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** The collection: every namespace when namespace is undefined. */
export function collectionPath(resource: Resource, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return namespace === undefined
    ? `${root}/${resource.plural}`
    : `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
}

/** A cluster-scoped object's path for namespace "". */
export function objectPath(resource: Resource, namespace: string, name: string, subresource?: string): string {
  const path = `${collectionPath(resource, namespace || undefined)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

export function resourceKey(resource: Resource): string {
  return `${resource.plural}.${resource.group}`;
}
