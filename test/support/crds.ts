// Installs the product's CRDs from crds/ into the shared control plane. The CRDs are cluster-scoped and
// shared by every test file of a run: server-side apply makes installing idempotent, and nothing deletes them.
import { fileURLToPath } from "node:url";
import { type Kubectl, kubectl } from "./cluster.ts";

const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));

export async function installCrds(): Promise<void> {
  const applied = await kubectl(["apply", "--server-side", "-f", CRD_DIR]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds/ failed: ${applied.stderr}`);
  const established = await untilEstablished(["-f", CRD_DIR]);
  if (established.code !== 0) throw new Error(`the CRDs did not become Established: ${established.stderr}`);
}

/**
 * `kubectl wait --for=condition=Established`, asked again while a CRD has no status yet: until the API server
 * writes its first conditions, kubectl fails at once (".status.conditions accessor error") instead of waiting,
 * which a busy API server (installing other CRDs) makes likely.
 */
export async function untilEstablished(target: string[], run: Kubectl = kubectl) {
  for (let tries = 0; ; tries++) {
    const waited = await run(["wait", "--for=condition=Established", "--timeout=60s", ...target]);
    if (waited.code === 0 || !waited.stderr.includes("accessor error") || tries >= 40) return waited;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A report API's CRDs, copied from its Go module into third-party/crds/ by npm run generate. */
const REPORT_CRDS = {
  openreports: { dir: "openreports.io", served: "reports.openreports.io" },
  wgpolicyk8s: { dir: "wgpolicyk8s.io", served: "policyreports.wgpolicyk8s.io" },
} as const;

/** The report CRDs of a format the audit writes, served and ready for objects. */
export async function installReportCrds(format: keyof typeof REPORT_CRDS): Promise<void> {
  const { dir, served } = REPORT_CRDS[format];
  const path = fileURLToPath(new URL(`../../third-party/crds/${dir}/`, import.meta.url));
  const applied = await kubectl(["apply", "--server-side", "-f", path]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f third-party/crds/${dir}/ failed: ${applied.stderr}`);
  await untilEstablished(["-f", path]);
  await waitUntilServed(served);
}

/** A CRD of a test's own (it may delete it), served and ready for objects. */
export async function installTestCrd(crd: Record<string, unknown> & { metadata: { name: string } }): Promise<void> {
  const applied = await kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify(crd) });
  if (applied.code !== 0) throw new Error(`kubectl apply of CRD ${crd.metadata.name} failed: ${applied.stderr}`);
  await untilEstablished([`crd/${crd.metadata.name}`]);
  await waitUntilServed(crd.metadata.name);
}

/** A new CRD answers 429 "storage is (re)initializing" for a moment after it is Established. */
async function waitUntilServed(resource: string): Promise<void> {
  for (let tries = 0; (await kubectl(["get", resource, "-A"])).code !== 0; tries++) {
    if (tries > 60) throw new Error(`${resource} is not served after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
