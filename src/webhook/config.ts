// What an operator configures about admission (Helm values / flags in `run`).

export type Action = "Deny" | "Warn" | "Audit";

export interface AdmissionConfig {
  /** The action for objects no AiApiPolicy in their namespace selects. */
  defaultAction: Action;
  /** Namespaces admitted without review: the cluster's own and the product's. */
  exemptNamespaces: readonly string[];
  /**
   * The loosest action a policy may apply; a namespace labelled aiapiguard.dev/action-floor (a label
   * only cluster admins should be able to set) has its own.
   */
  actionFloor: Action;
  /**
   * The action for `unregistered-ai-api` findings (an AI API no policy with its endpoint selects), apart
   * from the governing action: Audit by default, so installing the product never blocks a deploy for it.
   */
  unregisteredAction: Action;
  /**
   * Operators of custom resources (their users) whose copy of a controller owner's exemption is honoured
   * without a SubjectAccessReview, as kube-controller-manager's is (src/webhook/owner-exemptions.ts).
   */
  trustedControllers: readonly string[];
}

export const DEFAULT_ADMISSION_CONFIG: AdmissionConfig = {
  defaultAction: "Deny",
  exemptNamespaces: ["kube-system", "ai-api-guard"],
  actionFloor: "Deny",
  unregisteredAction: "Audit",
  trustedControllers: [],
};

export function admissionConfig(overrides: Partial<AdmissionConfig> = {}): AdmissionConfig {
  return { ...DEFAULT_ADMISSION_CONFIG, ...overrides };
}
