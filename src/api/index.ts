// The AiApiPolicy API: schemas, types, parsing, the CRD and the values derived from a policy.

export { crdManifest, crdYaml } from "./crd.ts";
export { credentialsMountPath, endpointHost, ownerToken, type ReviewState, reviewState } from "./derived.ts";
export {
  API_GROUP,
  API_VERSION,
  CATEGORIES,
  CRD_NAME,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
} from "./names.ts";
export { type AiApiPolicy, AiApiPolicySchema, ObjectMetaSchema, type ParseResult, parseAiApiPolicy } from "./policy.ts";
export {
  AdmissionSchema,
  type AiApiPolicySpec,
  AiApiPolicySpecSchema,
  ApiSchema,
  AuthTypeSchema,
  CredentialsSchema,
  EgressSchema,
  LabelSelectorSchema,
  RateLimitSchema,
  ResponseSchema,
  SensitivitySchema,
} from "./spec.ts";
export {
  type AiApiPolicyStatus,
  AiApiPolicyStatusSchema,
  CONDITION_TYPES,
  type Condition,
  ConditionSchema,
  MAX_WORKLOAD_NAMES,
} from "./status.ts";
