// Writes everything generated from the schemas: the CRD (crds/ and the chart's crds/) from src/api/;
// the chart's values.yaml, values.schema.json, env block and webhook configuration, and the README's
// configuration table, from src/config/; and manifests/, the chart rendered with its defaults (this
// needs helm, from the local control plane's bin folder). Tests fail when a committed file drifts.
import { readFileSync, writeFileSync } from "node:fs";
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
  writeFileSync(new URL(path, root), text);
  console.log(`wrote ${path}`);
}

write("crds/aiapipolicies.aiapiguard.dev.yaml", crdYaml());
write(`${chart}crds/aiapipolicies.aiapiguard.dev.yaml`, crdYaml());
write(`${chart}values.yaml`, valuesYaml());
write(`${chart}values.schema.json`, valuesSchemaJson());
write(`${chart}templates/_settings.tpl`, settingsEnvTemplate());
write(`${chart}templates/validatingwebhookconfiguration.yaml`, webhookTemplate());
write("README.md", readmeWithTable(readFileSync(new URL("README.md", root), "utf8")));
write("manifests/ai-api-guard.yaml", renderManifests(controlPlaneBinaries()));
