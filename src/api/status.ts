// The status of AiApiPolicy: what the controller observed and did. Conditions follow metav1.Condition.
import { z } from "zod";

/** The condition types the controller reports; Ready sums up the others. */
export const CONDITION_TYPES = [
  "Ready",
  "EgressReady",
  "CredentialsReady",
  "RateLimitReady",
  "ReviewOverdue",
  "CredentialRotationOverdue",
] as const;

/** How many workload names status.workloads.names keeps; count is always exact. */
export const MAX_WORKLOAD_NAMES = 50;

export const ConditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
      )
      .describe(`The aspect this condition is about: ${CONDITION_TYPES.join(", ")}.`),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ format: "int64" })
      .describe("The metadata.generation this condition was computed from."),
    lastTransitionTime: z.iso.datetime({ offset: true }).describe("When status last changed."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe("Why, in one CamelCase word, e.g. SecretNotFound."),
    message: z.string().max(32768).describe("Why, for a human, with what to do next."),
  })
  .describe("One observation of the policy's state, in the shape of metav1.Condition.");

export const AiApiPolicyStatusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ format: "int64" })
      .describe("The metadata.generation the controller last reconciled."),
    conditions: z
      .array(ConditionSchema)
      .max(32)
      .refine((cs) => new Set(cs.map((c) => c.type)).size === cs.length, { message: "must not repeat a type" })
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .optional()
      .describe(`The policy's conditions: ${CONDITION_TYPES.join(", ")}. Each has a reason and a message.`),
    workloads: z
      .object({
        count: z.int().min(0).describe("How many workloads the selector matches."),
        names: z
          .array(z.string().max(512).describe("Kind/name of one workload, e.g. Deployment/summarizer."))
          .max(MAX_WORKLOAD_NAMES)
          .optional()
          .describe(`Kind/name of the matched workloads, at most ${MAX_WORKLOAD_NAMES}.`),
      })
      .optional()
      .describe("The workloads the selector matches."),
    networkPolicy: z
      .string()
      .max(253)
      .optional()
      .describe("The name of the NetworkPolicy the controller manages for this policy."),
  })
  .describe("What the controller observed and did. Written by ai-api-guard only.");

export type Condition = z.output<typeof ConditionSchema>;
export type AiApiPolicyStatus = z.output<typeof AiApiPolicyStatusSchema>;
