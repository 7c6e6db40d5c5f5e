// `--help` is a user's first call to every command: usage on stdout and exit 0, never "Unknown option" and exit 2.
import { describe, expect, it } from "vitest";
import { envName, SETTING_KEYS } from "../../../src/config/settings.ts";
import { runCli } from "./run.ts";

describe("--help", () => {
  it.each(["run", "scan", "inventory", "uninstall", "crd"])(
    "ai-api-guard %s --help prints its usage and exits 0",
    (command) => {
      for (const flag of ["--help", "-h"]) {
        const run = runCli([command, flag]);
        expect(run.stderr).toBe("");
        expect(run.stdout).toMatch(new RegExp(`^usage: ai-api-guard ${command}`));
        expect(run.code).toBe(0);
      }
    },
  );

  it("run --help lists every setting with its environment variable and what it does", () => {
    const { stdout } = runCli(["run", "--help"]);
    for (const key of SETTING_KEYS) expect(stdout).toMatch(new RegExp(`^  --${key} .*\\(${envName(key)}\\)`, "m"));
    expect(stdout).toContain("Action for findings on objects that no AiApiPolicy in their namespace selects.");
  });

  it("an unknown flag is still a usage error, on stderr, exit 2", () => {
    const run = runCli(["run", "--no-such-flag"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--no-such-flag'");
  });
});
