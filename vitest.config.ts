import { defineConfig } from "vitest/config"

// One project per package; each package keeps its tests in `test/`.
export default defineConfig({
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
      test: { name: root.split("/").pop()!, root, include: ["test/**/*.test.ts"] }
    })),
    sequence: { concurrent: false },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    passWithNoTests: false
  }
})
