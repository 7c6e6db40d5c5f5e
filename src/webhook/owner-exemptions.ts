// An exemption carried down from a controller owner. The Pods of an exempted Deployment are created by
// kube-controller-manager (through its ReplicaSet), whose identities never hold the "exempt" verb: asking
// a SubjectAccessReview for them would refuse every Pod and make the exemption useless. The annotation is
// honoured without asking when both hold: the requester is one of the built-in workload controllers, and
// the object names a controller owner. The owner was written by someone through this webhook, where the
// exemption was checked; the controllers only copy the owner's template, they never add annotations.
import { isRecord, pathValue } from "../kube/objects.ts";
import type { UserInfo } from "./admission-review.ts";

const CONTROLLER_ACCOUNTS = [
  "replicaset-controller",
  "deployment-controller",
  "job-controller",
  "cronjob-controller",
  "statefulset-controller",
  "daemonset-controller",
  "replication-controller",
];

/**
 * kube-controller-manager's identities that create workloads: one service account per controller with
 * --use-service-account-credentials (the kubeadm default), else its own user.
 */
export const WORKLOAD_CONTROLLER_USERS: ReadonlySet<string> = new Set([
  ...CONTROLLER_ACCOUNTS.map((name) => `system:serviceaccount:kube-system:${name}`),
  "system:kube-controller-manager",
]);

/** The object's controller owner (an ownerReference with controller: true), as the messages name it. */
export interface ControllerOwner {
  kind: string;
  name: string;
}

/**
 * Whether an exemption on this object holds without a SubjectAccessReview: see the header. `trusted`: the
 * operators of custom resources the cluster admin named (--trusted-controllers), which copy their resources'
 * pod templates as kube-controller-manager copies a Deployment's.
 */
export function ownerVouches(
  user: UserInfo,
  owner: ControllerOwner | undefined,
  trusted: readonly string[],
): owner is ControllerOwner {
  return owner !== undefined && (WORKLOAD_CONTROLLER_USERS.has(user.username) || trusted.includes(user.username));
}

/** The ownerReference marked controller: true, if the object has one (Kubernetes allows at most one). */
export function controllerOwner(object: unknown): ControllerOwner | undefined {
  const references = pathValue(object, ["metadata", "ownerReferences"]);
  if (!Array.isArray(references)) return undefined;
  const owner = references.find((reference) => isRecord(reference) && reference.controller === true);
  if (!isRecord(owner) || typeof owner.kind !== "string" || typeof owner.name !== "string") return undefined;
  return { kind: owner.kind.slice(0, 63), name: owner.name.slice(0, 253) };
}
