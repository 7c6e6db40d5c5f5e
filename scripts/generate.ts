// Writes everything generated from the schemas: the CRD (crds/ and the chart's crds/) from src/api/;
// the chart's values.yaml, values.schema.json, env block and webhook configuration, and the README's
// configuration table, from src/config/; the third-party CRDs the product writes to (OpenReports),
// copied byte for byte from their projects' Go modules into third-party/crds/ and the chart's crds/
// (Helm installs a chart's CRDs only when they are absent); and manifests/, the chart rendered with
// its defaults (this needs helm, from the local control plane's bin folder). Tests fail when a
// committed file drifts.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { crdYaml } from "../src/api/index.ts";
import {
  readmeWithTable,
  settingsEnvTemplate,
  valuesSchemaJson,
  valuesYaml,
  webhookTemplate,
} from "../src/config/chart-files.ts";
import { controlPlaneBinaries } from "../test/controlplane/binaries.ts";
import { renderManifests } from "./manifests.ts";

const root = new URL("../", import.meta.url);
const chart = "charts/ai-api-guard/";

function write(path: string, text: string): void {
  mkdirSync(new URL(path.replace(/[^/]*$/, ""), root), { recursive: true });
  writeFileSync(new URL(path, root), text);
  console.log(`wrote ${path}`);
}

/**
 * Report CRDs the background audit writes to, from their projects' Go modules: OpenReports' Report and
 * ClusterReport (openreports.io/v1alpha1, the default format, shipped in the chart), and the policy work
 * group's PolicyReport (wgpolicyk8s.io/v1alpha2, `--reports-format wgpolicyk8s`; installed by Kyverno and
 * others, so only the tests install it, from Kyverno's module, which carries the upstream files).
 */
const THIRD_PARTY = [
  {
    module: "github.com/openreports/reports-api@v0.2.1",
    group: "openreports.io",
    files: ["config/crd/openreports.io_reports.yaml", "config/crd/openreports.io_clusterreports.yaml"],
    inChart: true,
  },
  {
    module: "github.com/kyverno/kyverno@v1.13.4",
    group: "wgpolicyk8s.io",
    files: [
      "config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml",
      "config/crds/policyreport/wgpolicyk8s.io_clusterpolicyreports.yaml",
    ],
    inChart: false,
  },
];

function thirdPartyCrds(): void {
  for (const { module, group, files, inChart } of THIRD_PARTY) {
    const download = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8" }));
    if (typeof download.Dir !== "string")
      throw new Error(`go mod download ${module} gave no folder: ${download.Error}`);
    for (const file of files) {
      const text = `# Copied by \`npm run generate\` from ${module}, ${file}. Do not edit.\n${readFileSync(`${download.Dir}/${file}`, "utf8")}`;
      const name = file.split("/").pop() as string;
      write(`third-party/crds/${group}/${name}`, text);
      if (inChart) write(`${chart}crds/${name}`, text);
    }
  }
}

write("crds/aiapipolicies.aiapiguard.dev.yaml", crdYaml());
write(`${chart}crds/aiapipolicies.aiapiguard.dev.yaml`, crdYaml());
thirdPartyCrds();
write(`${chart}values.yaml`, valuesYaml());
write(`${chart}values.schema.json`, valuesSchemaJson());
write(`${chart}templates/_settings.tpl`, settingsEnvTemplate());
write(`${chart}templates/validatingwebhookconfiguration.yaml`, webhookTemplate());
write("README.md", readmeWithTable(readFileSync(new URL("README.md", root), "utf8")));
write("manifests/ai-api-guard.yaml", renderManifests(controlPlaneBinaries()));
