// Bundles the `b3` CLI into one ESM file (packages/cli/dist/b3.mjs) so that it starts in a fraction
// of the time a TypeScript loader needs. Runs on `npm ci`/`npm install` (root `prepare`) and via
// `npm run build:cli`. Native and WebAssembly packages stay external: they load their own files.
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const started = Date.now()
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["packages/cli/src/bin.ts"],
  outfile: "packages/cli/dist/b3.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // the workspace's packages are bundled from their TypeScript sources, not their dist/
  conditions: ["@b3-pipeline/source"],
  external: ["@duckdb/node-api", "parquet-wasm", "@aws-sdk/*", "@smithy/*", "playwright-core"],
  banner: {
    js:
      "import { createRequire as __b3CreateRequire } from \"node:module\"; const require = __b3CreateRequire(import.meta.url);"
  }
})
process.stderr.write(`b3: CLI bundled in ${Date.now() - started} ms\n`)
