#!/usr/bin/env node
// ai-api-guard: one entry point, one module per subcommand. Each command module exports
// `main(argv): Promise<number>` and returns its exit code; it never calls process.exit itself.
// Commands load lazily, so `scan` does not pay for the Kubernetes client.

type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  run: {
    summary: "run the operator: the admission webhook (out of cluster with --webhook-url)",
    load: () => import("./run.ts"),
  },
  scan: { summary: "check manifests for hardcoded secrets and plaintext endpoints", load: () => import("./scan.ts") },
  inventory: {
    summary: "list the AI APIs (AiApiPolicies, their workloads, unregistered use) as CSV, JSON or markdown",
    load: () => import("./inventory.ts"),
  },
  crd: {
    summary: "print the AiApiPolicy CustomResourceDefinition (the same bytes as crds/)",
    load: () => import("./crd.ts"),
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ["usage: ai-api-guard <command> [options]", "", "commands:", ...rows].join("\n");
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`ai-api-guard: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).main(rest);
}

process.exitCode = await dispatch(process.argv.slice(2));
