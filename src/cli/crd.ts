// `ai-api-guard crd`: prints the CustomResourceDefinition, the same bytes as crds/, for `| kubectl apply -f -`.
import { crdYaml } from "../api/index.ts";

const USAGE = "usage: ai-api-guard crd | kubectl apply -f -";

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) {
    console.log(`${USAGE}\nPrints the AiApiPolicy CustomResourceDefinition, the same bytes as crds/.`);
    return 0;
  }
  if (argv.length > 0) {
    console.error(`ai-api-guard crd: takes no arguments (got "${argv.join(" ")}")\n${USAGE}`);
    return 2;
  }
  process.stdout.write(crdYaml());
  return 0;
}
