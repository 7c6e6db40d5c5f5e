#!/usr/bin/env node
// ai-api-guard: one entry point, one module per subcommand. Each command module exports
// `main(argv): Promise<number>` and returns its exit code; it never calls process.exit itself.
// Commands load lazily, so `scan` does not pay for the Kubernetes client.

import { readFile } from "node:fs/promises";

type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  run: {
    summary: "run the operator: the admission webhook, the controller and the audit",
    load: () => import("./run.ts"),
  },
  scan: { summary: "check manifests for hardcoded secrets and plaintext endpoints", load: () => import("./scan.ts") },
  inventory: {
    summary: "list the AI APIs (AiApiPolicies, their workloads, unregistered use) as CSV, JSON or markdown",
    load: () => import("./inventory.ts"),
  },
  uninstall: {
    summary: "remove the webhook configuration and the policies' finalizers (the chart's pre-delete hook)",
    load: () => import("./uninstall.ts"),
  },
  crd: {
    summary: "print the AiApiPolicy CustomResourceDefinition (the same bytes as crds/)",
    load: () => import("./crd.ts"),
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ["usage: ai-api-guard <command> [options] | --version", "", "commands:", ...rows].join("\n");
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "version") {
    const manifest = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    console.log(manifest.version);
    return 0;
  }
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

// A reader that stops early (`scan ... | head`) closes the pipe: the rest of the output has no one to
// read it, and the exit code stays the command's (not an unhandled EPIPE's 1 and stack trace).
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});
process.exitCode = await dispatch(process.argv.slice(2));
