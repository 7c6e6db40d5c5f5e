import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // No test may be skipped silently: biome refuses .skip/.only (lint/suspicious/noSkippedTests).
    passWithNoTests: false,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          // One real control plane for the whole run; each test file works in its own namespace.
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
