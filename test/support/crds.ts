// Installs the product's CRDs from crds/ into the shared control plane. The CRDs are cluster-scoped and
// shared by every test file of a run: server-side apply makes installing idempotent, and nothing deletes them.
import { fileURLToPath } from "node:url";
import { kubectl } from "./cluster.ts";

const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));

export async function installCrds(): Promise<void> {
  const applied = await kubectl(["apply", "--server-side", "-f", CRD_DIR]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds/ failed: ${applied.stderr}`);
  const established = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRD_DIR]);
  if (established.code !== 0) throw new Error(`the CRDs did not become Established: ${established.stderr}`);
}
