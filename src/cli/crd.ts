// `ai-api-guard crd`: prints the CustomResourceDefinition, the same bytes as crds/, for `| kubectl apply -f -`.
import { crdYaml } from "../api/index.ts";

export async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    console.error(
      `ai-api-guard crd: takes no arguments (got "${argv.join(" ")}")\nusage: ai-api-guard crd | kubectl apply -f -`,
    );
    return 2;
  }
  process.stdout.write(crdYaml());
  return 0;
}
