// The names under which Kubernetes serves AiApiPolicy: used by the CRD, the clients and kubectl.

export const API_GROUP = "aiapiguard.dev";
export const API_VERSION = "v1alpha1";
export const KIND = "AiApiPolicy";
export const LIST_KIND = "AiApiPolicyList";
export const PLURAL = "aiapipolicies";
export const SINGULAR = "aiapipolicy";
export const SHORT_NAMES = ["aap"];
/** `kubectl get ai-api-guard` lists every kind in this category. */
export const CATEGORIES = ["ai-api-guard"];
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;
