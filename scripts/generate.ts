// Writes what is generated from src/api/: the CRD in crds/. A unit test fails when the committed file drifts.
import { writeFileSync } from "node:fs";
import { crdYaml } from "../src/api/index.ts";

const target = new URL("../crds/aiapipolicies.aiapiguard.dev.yaml", import.meta.url);
writeFileSync(target, crdYaml());
console.log(`wrote ${target.pathname}`);
