// Bundles the `b3` CLI (packages/cli/dist/b3.mjs plus shared chunks under dist/chunks/) so that it
// starts in a fraction of the time a TypeScript loader needs. Runs on `npm ci`/`npm install` (root
// `prepare`) and via `npm run build:cli`. Code splitting keeps every dynamic `import()` of the
// sources a separate chunk: a command loads only what it uses (`b3 --version` loads neither DuckDB,
// nor the AWS SDK, nor the report). Native and WebAssembly packages stay external: they load their
// own files, and only when the chunk that imports them is loaded.
//
// Then the help snapshot (dist/b3.help.json): the bundle's second entry (dist/b3.snapshot.mjs, over
// src/HelpSnapshot.ts) runs the program in this process on `b3 --help`, `b3 --version` and each
// `b3 <command> --help`, and records what it prints. The bundle answers those command lines from it
// without loading Effect (src/QuickAnswer.ts). `--outdir DIR` builds elsewhere than packages/cli/dist
// (the CLI tests build a copy to compare its answers with the sources').
import * as esbuild from "esbuild"
import { rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"

// CommonJS packages that stay external are loaded with `require`, not `import`, and only when one of
// their exports is first used. Node's ESM loader lexes a CommonJS file to find its named exports,
// which doubled the CPU cost of loading DuckDB and parquet-wasm (measured ~90 ms with require vs
// ~180 ms with import on a 2-core machine); and parquet-wasm instantiates its WebAssembly module as
// it loads (~100 ms), which `b3 query` never needs. So each becomes a module of getters over a
// deferred `require` (esbuild reads a CommonJS module's named exports through property accesses).
const lazyRequire = ["@duckdb/node-bindings", "parquet-wasm"]
const nodeRequire = createRequire(import.meta.url)
const lazyCommonJs = {
  name: "lazy-commonjs-externals",
  setup(build) {
    const filter = new RegExp(`^(${lazyRequire.map((p) => p.replace(/[/.]/g, "\\$&")).join("|")})$`)
    build.onResolve({ filter }, (args) =>
      args.namespace === "lazy-require" ?
        { path: args.path, external: true } :
        { path: args.path, namespace: "lazy-require" })
    build.onLoad({ filter: /.*/, namespace: "lazy-require" }, (args) => {
      const names = Object.getOwnPropertyNames(nodeRequire(args.path)).filter((n) =>
        n !== "default" && n !== "__esModule"
      )
      const getters = names.map((n) => `  get ${JSON.stringify(n)}() { return load()[${JSON.stringify(n)}] }`)
      return {
        contents: [
          "let loaded",
          `const load = () => loaded ??= require(${JSON.stringify(args.path)})`,
          `module.exports = {\n${getters.join(",\n")}\n}`
        ].join("\n"),
        loader: "js"
      }
    })
  }
}

const root = fileURLToPath(new URL("..", import.meta.url))
const { values: flags } = parseArgs({ options: { outdir: { type: "string" } } })
const outdir = flags.outdir ?? `${root}packages/cli/dist`
const started = Date.now()
// only the bundle's own chunks: dist/ also holds the package's tsc output (dist/*.js, *.d.ts)
rmSync(`${outdir}/chunks`, { recursive: true, force: true })
// no snapshot until the new one is complete: a bundle without one runs every command line
rmSync(`${outdir}/b3.help.json`, { force: true })
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { b3: "packages/cli/src/bin.ts", "b3.snapshot": "packages/cli/src/HelpSnapshot.ts" },
  outdir,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  // Less text for V8 to parse at start; identifiers keep their names (error names, stack traces).
  minifyWhitespace: true,
  minifySyntax: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  metafile: true,
  plugins: [lazyCommonJs],
  logLevel: "warning",
  // the workspace's packages are bundled from their TypeScript sources, not their dist/
  conditions: ["@b3-pipeline/source"],
  external: ["@aws-sdk/*", "@smithy/*", "playwright-core"],
  banner: {
    js:
      "import { createRequire as __b3CreateRequire } from \"node:module\"; const require = __b3CreateRequire(import.meta.url);"
  }
})
// What each output file holds (read by bench/cli.ts to check that the entry loads no heavy package).
writeFileSync(`${outdir}/meta.json`, JSON.stringify(result.metafile))
// Without a snapshot the bundle still answers everything (through the program): a failure here warns.
try {
  const { generate } = await import(pathToFileURL(`${outdir}/b3.snapshot.mjs`).href)
  writeFileSync(`${outdir}/b3.help.json`, JSON.stringify(await generate()))
} catch (e) {
  process.stderr.write(`b3: no help snapshot (b3 --help runs the whole program): ${e?.stack ?? e}\n`)
}
process.stderr.write(`b3: CLI bundled in ${Date.now() - started} ms\n`)
