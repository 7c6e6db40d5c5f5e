// Taking a leader-election Lease away from the replica that holds it, as another replica's write would.
import { kubectl } from "./cluster.ts";

/** Writes `identity` as the Lease's holder; the holder notices at its next renewal that it lost the Lease. */
export async function handLeaseTo(namespace: string, name: string, identity: string): Promise<void> {
  const patch = JSON.stringify({ spec: { holderIdentity: identity } });
  const taken = await kubectl(["-n", namespace, "patch", "lease", name, "--type=merge", "-p", patch]);
  if (taken.code !== 0) throw new Error(`could not hand the Lease to ${identity}: ${taken.stderr}`);
}
