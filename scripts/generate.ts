// Writes what is generated: the AiApiPolicy CRD in crds/ from src/api/ (a unit test fails when the
// committed file drifts), and the third-party CRDs the product writes to, copied byte for byte from
// their projects' Go modules into third-party/crds/ (outside crds/, which holds only ours; the chart
// installs them when absent).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { crdYaml } from "../src/api/index.ts";

const target = new URL("../crds/aiapipolicies.aiapiguard.dev.yaml", import.meta.url);
writeFileSync(target, crdYaml());
console.log(`wrote ${target.pathname}`);

/** OpenReports Report and ClusterReport (openreports.io/v1alpha1), for the background audit. */
const THIRD_PARTY = [
  {
    module: "github.com/openreports/reports-api@v0.2.1",
    folder: "openreports.io",
    files: ["config/crd/openreports.io_reports.yaml", "config/crd/openreports.io_clusterreports.yaml"],
  },
];

for (const { module, folder, files } of THIRD_PARTY) {
  const download = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8" }));
  if (typeof download.Dir !== "string") throw new Error(`go mod download ${module} gave no folder: ${download.Error}`);
  const out = new URL(`../third-party/crds/${folder}/`, import.meta.url);
  mkdirSync(out, { recursive: true });
  for (const file of files) {
    const text = readFileSync(`${download.Dir}/${file}`, "utf8");
    const name = file.split("/").pop() as string;
    writeFileSync(
      new URL(name, out),
      `# Copied by \`npm run generate\` from ${module}, ${file}. Do not edit.\n${text}`,
    );
    console.log(`wrote ${new URL(name, out).pathname} (from ${module})`);
  }
}
