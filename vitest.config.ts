import { availableParallelism } from "node:os"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// The workspace's packages export their TypeScript sources under the "@b3-pipeline/source" condition
// (and compiled `dist/` for everyone else): tests run the sources, no build step between edits.
// Vitest's own default drops "module" (packages' ESM builds that Node itself cannot load).
const conditions = ["@b3-pipeline/source", ...defaultServerConditions.filter((c) => c !== "module")]

// One project per package; each package keeps its tests in `test/`.
export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      "packages/core",
      "packages/b3-simulator",
      "packages/local-adapter",
      "packages/aws-adapter",
      "packages/lambda-entry",
      "packages/cli",
      "glue",
      "infra"
    ].map((root) => ({
      extends: true,
      test: { name: root.split("/").at(-1) ?? root, root, include: ["test/**/*.test.ts"] }
    })),
    // Vitest's default is one worker less than the cores (1 on a 2-core machine). Most of the slow
    // files wait on child processes and loopback servers, so two files at a time is faster there
    // (2m46 -> 2m26 on this 2-core box). Files still run in isolation (`isolate: false` breaks the
    // aws-adapter mocks).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    minWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    passWithNoTests: false
  }
})
