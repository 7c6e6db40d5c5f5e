// Egress for the selected pods: a NetworkPolicy (ipBlocks from spec.egress.cidrs on the TLS ports,
// DNS to kube-dns) or, with provider Cilium, a CiliumNetworkPolicy (toFQDNs for the endpoint's host).
// NetworkPolicies add up: other egress the pods need must be allowed by other policies.
import { ownerToken } from "../api/index.ts";
import type { CachedOwned } from "../kube/cached.ts";
import { canonical } from "../kube/order.ts";
import { objectPath, resources } from "../kube/resources.ts";
import { isStatus } from "../kube/rest.ts";
import { served } from "../kube/served.ts";
import type { Observed } from "./conditions.ts";
import type { Context } from "./controller.ts";
import { ciliumPolicyIntent, networkPolicyIntent, ownedName, POLICY_LABEL } from "./intents.ts";
import { describeFailure, failedWrite, type WorkloadFailure } from "./workloads.ts";

export interface EgressResult {
  observed: Observed;
  networkPolicy?: string;
  /** The write that failed: in the condition, and retried once the status is written. */
  failure?: WorkloadFailure;
}

export async function egress(ctx: Context, current: CachedOwned | undefined): Promise<EgressResult> {
  const { policy } = ctx;
  const namespace = policy.metadata.namespace ?? "";
  const name = ownedName(policy);
  const spec = ctx.active.includes(policy) ? policy.spec.egress : undefined;
  const wantKubernetes = spec?.provider === "Kubernetes" && (spec.cidrs ?? []).length > 0;
  const wantCilium = spec?.provider === "Cilium";

  // A refused deletion (an admission policy, RBAC) is the condition's and an Event's, like a refused apply.
  try {
    if (!wantKubernetes && current && (await ctx.remove(resources.networkPolicy, namespace, name)))
      ctx.event("Normal", "NetworkPolicyDeleted", `Deleted NetworkPolicy ${name}.`);
  } catch (error) {
    return refused(ctx, error, `NetworkPolicy/${name}`, "delete");
  }
  if (!wantCilium && (await served(ctx.rest, resources.ciliumNetworkPolicy, ctx.signal))) {
    if (await exists(ctx, name)) {
      try {
        await ctx.remove(resources.ciliumNetworkPolicy, namespace, name);
      } catch (error) {
        return refused(ctx, error, `CiliumNetworkPolicy/${name}`, "delete");
      }
      ctx.event("Normal", "CiliumNetworkPolicyDeleted", `Deleted CiliumNetworkPolicy ${name}.`);
    }
  }

  if (!spec)
    return {
      observed: {
        status: "True",
        reason: "NotRequested",
        message: "spec.egress is not set: egress is not restricted.",
      },
    };
  if (wantCilium) return cilium(ctx, name);
  if (!wantKubernetes)
    return {
      observed: {
        status: "False",
        reason: "NoCIDRs",
        message:
          "spec.egress.cidrs is empty, so no NetworkPolicy was made: list the API's address blocks, or use provider Cilium to allow it by name.",
      },
    };
  const intent = networkPolicyIntent(policy);
  const converged =
    current &&
    canonical(current.spec) === canonical(intent.spec) &&
    current.metadata.labels[POLICY_LABEL] === ownerToken(policy);
  if (!converged) {
    try {
      await ctx.apply(resources.networkPolicy, intent, true);
    } catch (error) {
      return refused(ctx, error, `NetworkPolicy/${name}`);
    }
    ctx.event(
      "Normal",
      current ? "NetworkPolicyUpdated" : "NetworkPolicyCreated",
      `${current ? "Updated" : "Created"} NetworkPolicy ${name}: ${describeEgress(ctx)}.`,
    );
  }
  return {
    observed: {
      status: "True",
      reason: "NetworkPolicyApplied",
      message: `NetworkPolicy ${name}: ${describeEgress(ctx)}.`,
    },
    networkPolicy: name,
  };
}

/** A write of the egress policy that failed: an Event, and EgressReady False with the (redacted) reason. */
function refused(ctx: Context, error: unknown, subject: string, verb = "apply"): EgressResult {
  const failure = failedWrite(ctx, error, subject, `${verb} ${subject}`);
  return { observed: { status: "False", reason: failure.reason, message: describeFailure(failure) }, failure };
}

/** What the selected pods may reach, in words. */
export function describeEgress(ctx: Pick<Context, "policy">): string {
  const egressSpec = ctx.policy.spec.egress;
  const ports = (egressSpec?.ports ?? [443]).join(", ");
  const dns = egressSpec?.allowDNS !== false ? " and kube-dns on port 53 (UDP, TCP)" : "";
  return `the selected pods may reach ${(egressSpec?.cidrs ?? []).join(", ")} on TCP ${ports}${dns}, nothing else`;
}

async function exists(ctx: Context, name: string): Promise<boolean> {
  try {
    await ctx.rest.request(objectPath(resources.ciliumNetworkPolicy, ctx.policy.metadata.namespace ?? "", name), {
      signal: ctx.signal,
    });
    return true;
  } catch (error) {
    if (isStatus(error, 404)) return false;
    throw error;
  }
}

async function cilium(ctx: Context, name: string): Promise<EgressResult> {
  if (!(await served(ctx.rest, resources.ciliumNetworkPolicy, ctx.signal)))
    return {
      observed: {
        status: "False",
        reason: "CiliumNotInstalled",
        message:
          "provider Cilium needs the CiliumNetworkPolicy CRD (cilium.io/v2), which this cluster does not serve: install Cilium or use provider Kubernetes with cidrs.",
      },
    };
  const intent = ciliumPolicyIntent(ctx.policy);
  let current: { spec?: unknown } | undefined;
  try {
    current = await ctx.rest.request(
      objectPath(resources.ciliumNetworkPolicy, ctx.policy.metadata.namespace ?? "", name),
      { signal: ctx.signal },
    );
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
  if (!current || canonical(current.spec) !== canonical(intent.spec)) {
    try {
      await ctx.apply(resources.ciliumNetworkPolicy, intent, true);
    } catch (error) {
      return refused(ctx, error, `CiliumNetworkPolicy/${name}`);
    }
    ctx.event(
      "Normal",
      "CiliumNetworkPolicyApplied",
      `Applied CiliumNetworkPolicy ${name}: the selected pods may reach ${new URL(ctx.policy.spec.api.endpoint).hostname} by name.`,
    );
  }
  return {
    observed: {
      status: "True",
      reason: "CiliumNetworkPolicyApplied",
      message: `CiliumNetworkPolicy ${name} allows ${new URL(ctx.policy.spec.api.endpoint).hostname} on the TLS ports.`,
    },
    networkPolicy: name,
  };
}
