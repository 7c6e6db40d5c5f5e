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

const OPENREPORTS_DIR = fileURLToPath(new URL("../../third-party/crds/openreports.io/", import.meta.url));

/** The OpenReports Report CRDs (copied from their Go module by npm run generate), served and ready for objects. */
export async function installOpenReportsCrds(): Promise<void> {
  const applied = await kubectl(["apply", "--server-side", "-f", OPENREPORTS_DIR]);
  if (applied.code !== 0)
    throw new Error(`kubectl apply -f third-party/crds/openreports.io/ failed: ${applied.stderr}`);
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", OPENREPORTS_DIR]);
  // A new CRD answers 429 "storage is (re)initializing" for a moment after it is Established.
  for (let tries = 0; (await kubectl(["get", "reports.openreports.io", "-A"])).code !== 0; tries++) {
    if (tries > 60) throw new Error("the OpenReports CRD is not served after 30 s");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
