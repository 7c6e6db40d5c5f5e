// Kubernetes Events for what ai-api-guard decides and does. Fire-and-forget: an Event that cannot be
// written is logged, never allowed to fail the admission or the reconcile that caused it.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { describeError } from "./errors.ts";

export const COMPONENT = "ai-api-guard";
const MAX_MESSAGE = 1024;

export interface EventInput {
  type: "Normal" | "Warning";
  reason: string;
  object: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  /** Already redacted by whoever built it. */
  message: string;
}

export type RecordEvent = (event: EventInput) => void;

export function eventRecorder(kc: k8s.KubeConfig, logger: Logger): RecordEvent {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return (event) => {
    const now = new Date();
    const name = `${event.object.name || event.object.kind.toLowerCase()}.${randomBytes(6).toString("hex")}`;
    const body: k8s.CoreV1Event = {
      metadata: { name, namespace: event.object.namespace },
      involvedObject: { ...event.object },
      type: event.type,
      reason: event.reason,
      message: event.message.length > MAX_MESSAGE ? `${event.message.slice(0, MAX_MESSAGE - 1)}…` : event.message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: COMPONENT,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    core.createNamespacedEvent({ namespace: event.object.namespace, body }).catch((error: unknown) => {
      logger.warn(
        { reason: event.reason, kind: event.object.kind, name: event.object.name, error: describeError(error) },
        "could not record event",
      );
    });
  };
}
