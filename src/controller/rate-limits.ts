// Rate limits on the Ingresses a policy names: ingress-nginx annotations, or Traefik Middlewares and
// the router annotation that attaches them. Each Ingress gets the union of the policies naming it
// (they share the field manager). A missing Ingress is a condition; its creation triggers a reconcile.
import { type AiApiPolicy, ownerToken } from "../api/index.ts";
import { shownName } from "../engine/index.ts";
import type { CachedIngress } from "../kube/cached.ts";
import type { Informer } from "../kube/informer.ts";
import { canonical } from "../kube/order.ts";
import { collectionPath, resources } from "../kube/resources.ts";
import { served } from "../kube/served.ts";
import type { Observed } from "./conditions.ts";
import type { Context } from "./controller.ts";
import { ingressAnnotations, ingressIntent, middlewareIntents, POLICY_LABEL, TRAEFIK_MIDDLEWARES } from "./intents.ts";
import { describeFailure, failedWrite, type WorkloadFailure } from "./workloads.ts";

export interface RateLimitResult {
  observed: Observed;
  /** Ingresses whose write failed: in the condition, and retried. */
  failures: WorkloadFailure[];
}

/**
 * An annotation the policy asks for that holds another value: set by another field manager (theirs, so
 * left as it is), or by another policy naming the same Ingress (`holder`: the first by name wins a key).
 * Names and values as shown (one that holds a key, by its hint): they go into the condition and its Event.
 */
interface Overridden {
  ingress: string;
  key: string;
  have: string;
  wanted: string;
  holder?: string;
}

export async function rateLimits(ctx: Context, ingresses: Informer<CachedIngress>): Promise<RateLimitResult> {
  const { policy } = ctx;
  const namespace = policy.metadata.namespace ?? "";
  const traefikServed = await served(ctx.rest, resources.middleware, ctx.signal);
  const failures = traefikServed ? await middlewares(ctx) : [];
  const named = policy.spec.rateLimit?.ingresses ?? [];
  const missing = named.filter((name) => !ingresses.get(namespace, name));
  // The Ingresses the policy names, and those ai-api-guard wrote to that it may no longer name (a
  // name taken out of spec.rateLimit.ingresses, spec.rateLimit removed, the policy being deleted).
  const overridden: Overridden[] = [];
  for (const ingress of ingresses.list(namespace)) {
    if (!named.includes(ingress.metadata.name) && ingress.metadata.owned.length === 0) continue;
    const result = await converge(ctx, ingress);
    if (result.failure) failures.push(result.failure);
    overridden.push(...result.overridden);
  }
  return { observed: observe(ctx, traefikServed, missing.map(shownName), failures, overridden), failures };
}

function observe(
  ctx: Context,
  traefikServed: boolean,
  missing: string[],
  failures: WorkloadFailure[],
  overridden: Overridden[],
): Observed {
  const { policy } = ctx;
  const namespace = policy.metadata.namespace ?? "";
  const limit = ctx.active.includes(policy) ? policy.spec.rateLimit : undefined;
  const named = (policy.spec.rateLimit?.ingresses ?? []).map(shownName);
  const [failed] = failures;
  if (failed) return { status: "False", reason: failed.reason, message: failures.map(describeFailure).join("; ") };
  if (!limit) return { status: "True", reason: "NotRequested", message: "spec.rateLimit is not set." };
  if (limit.provider === "traefik" && !traefikServed)
    return {
      status: "False",
      reason: "TraefikNotInstalled",
      message:
        "provider traefik needs the Middleware CRD (traefik.io/v1alpha1), which this cluster does not serve: install Traefik or use ingress-nginx.",
    };
  if (missing.length > 0)
    return {
      status: "False",
      reason: "IngressNotFound",
      message: `Ingress ${missing.join(", ")} not found in namespace ${shownName(namespace)}: create it or fix spec.rateLimit.ingresses; the limits are written when it exists.`,
    };
  const held = overridden.filter((o) => o.holder !== undefined);
  if (held.length > 0)
    return {
      status: "False",
      reason: "RateLimitConflict",
      message: `${held.map((o) => `Ingress ${o.ingress} has ${o.key}: "${o.have}" from policy ${o.holder} where this policy asks "${o.wanted}"`).join("; ")}: an Ingress takes one value per key, and the first policy by name wins it; give the policies naming it the same limits, or name different Ingresses.`,
    };
  if (overridden.length > 0)
    return {
      status: "False",
      reason: "AnnotationOverridden",
      message: `${overridden.map((o) => `Ingress ${o.ingress} has ${o.key}: "${o.have}" where the policy asks "${o.wanted}"`).join("; ")}: set by someone else, so it stays and applies; remove it from the Ingress and ai-api-guard writes the policy's (or set the policy's value yourself; ${TRAEFIK_MIDDLEWARES} may list your own middlewares beside the policy's).`,
    };
  return {
    status: "True",
    reason: "RateLimitApplied",
    message: `${limit.requestsPerSecond} requests/s (burst x${limit.burstMultiplier}) on Ingress ${named.join(", ")} via ${limit.provider}${limit.forceTLS ? ", plaintext redirected to https" : ""}.`,
  };
}

/**
 * Writes the Ingress's share of rate limits when it differs; a failed write is returned, not thrown. A key
 * someone else set (`kubectl annotate`, their manifest) to another value is theirs: never changed, left out
 * of the apply (which would otherwise be refused whole as a conflict), and returned for the condition, as
 * are the policy's values that another policy naming the Ingress wins.
 */
async function converge(
  ctx: Context,
  ingress: CachedIngress,
): Promise<{ failure?: WorkloadFailure; overridden: Overridden[] }> {
  const naming = ctx.active.filter((p) => p.spec.rateLimit?.ingresses.includes(ingress.metadata.name));
  const have = ingress.metadata.annotations;
  const name = shownName(ingress.metadata.name);
  const union = ingressAnnotations(ingress, naming);
  const overridden = heldByOthers(ctx, { ingress, name, naming, union });
  const wanted: Record<string, string> = {};
  for (const [key, value] of Object.entries(union)) {
    const held = have[key];
    const theirs = held !== undefined && held !== value && !ingress.metadata.owned.includes(key);
    if (!theirs) wanted[key] = value;
    else if (!listsAll(key, held, value)) overridden.push({ ingress: name, key, have: shownName(held), wanted: value });
  }
  // Converged when every wanted value is there and ai-api-guard owns no key it no longer wants. A key the
  // user set is theirs: never removed, and not a reason to write again.
  const stale = ingress.metadata.owned.filter((key) => !(key in wanted));
  if (stale.length === 0 && Object.entries(wanted).every(([key, value]) => have[key] === value)) return { overridden };
  try {
    await ctx.apply(resources.ingress, ingressIntent(ingress, wanted), false);
  } catch (error) {
    return {
      failure: failedWrite(ctx, error, `Ingress/${name}`, `write the rate limits of Ingress ${name}`),
      overridden,
    };
  }
  if (Object.keys(wanted).length === 0)
    ctx.event("Normal", "RateLimitsRemoved", `Removed the rate-limit annotations of Ingress ${name}.`);
  else ctx.event("Normal", "RateLimitsWritten", `Wrote the rate-limit annotations of Ingress ${name}.`);
  return { overridden };
}

/**
 * The policy's own values that another policy naming the Ingress holds with another value. `union`: the
 * annotations of every policy naming it, as converge writes them; `name`: the Ingress's as shown.
 */
function heldByOthers(
  ctx: Context,
  {
    ingress,
    name,
    naming,
    union,
  }: { ingress: CachedIngress; name: string; naming: readonly AiApiPolicy[]; union: Record<string, string> },
): Overridden[] {
  if (!naming.includes(ctx.policy)) return [];
  const lost = Object.entries(ingressAnnotations(ingress, [ctx.policy])).filter(
    ([key, value]) => key !== TRAEFIK_MIDDLEWARES && union[key] !== value,
  );
  if (lost.length === 0) return [];
  // Each naming policy's own annotations, worked out once, to tell which one holds a key.
  const own = naming.map((p) => ({ policy: p.metadata.name, annotations: ingressAnnotations(ingress, [p]) }));
  return lost.map(([key, wanted]) => ({
    ingress: name,
    key,
    have: shownName(union[key] as string),
    wanted,
    holder: shownName(own.find((o) => o.annotations[key] === union[key])?.policy ?? ""),
  }));
}

/** Traefik's router annotation the user keeps for middlewares of their own: ours are in place when it lists them too. */
function listsAll(key: string, have: string, wanted: string): boolean {
  if (key !== TRAEFIK_MIDDLEWARES) return false;
  const listed = have.split(",").map((m) => m.trim());
  return wanted.split(",").every((m) => listed.includes(m));
}

/** Applies the policy's Middlewares that differ and deletes the ones it no longer wants; the writes refused are returned. */
async function middlewares(ctx: Context): Promise<WorkloadFailure[]> {
  const { policy } = ctx;
  const namespace = policy.metadata.namespace ?? "";
  const wanted = ctx.active.includes(policy) ? middlewareIntents(policy) : [];
  const list = await ctx.rest.request<{ items?: { metadata: { name: string }; spec?: unknown }[] }>(
    collectionPath(resources.middleware, namespace),
    { query: { labelSelector: `${POLICY_LABEL}=${ownerToken(policy)}` }, signal: ctx.signal },
  );
  const have = new Map((list.items ?? []).map((m) => [m.metadata.name, m.spec]));
  const failures: WorkloadFailure[] = [];
  const write = async (name: string, verb: string, done: string, send: () => Promise<unknown>) => {
    try {
      await send();
      ctx.event("Normal", `Middleware${done}`, `${done} Traefik Middleware ${name}.`);
    } catch (error) {
      failures.push(failedWrite(ctx, error, `Middleware/${name}`, `${verb} Traefik Middleware ${name}`));
    }
  };
  for (const intent of wanted) {
    const name = intent.metadata.name;
    if (have.has(name) && canonical(have.get(name)) === canonical(intent.spec)) continue;
    await write(name, "apply", "Applied", () => ctx.apply(resources.middleware, intent, true));
  }
  for (const name of have.keys()) {
    if (wanted.some((w) => w.metadata.name === name)) continue;
    await write(name, "delete", "Deleted", () => ctx.remove(resources.middleware, namespace, name));
  }
  return failures;
}
