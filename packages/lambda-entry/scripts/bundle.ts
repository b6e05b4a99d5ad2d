// Bundles each Lambda handler for the nodejs22.x runtime: dist/<handler>/index.mjs exporting
// `handler`, the chunks it imports (dist/<handler>/chunk-*.mjs) and their .map files; the folder is
// the Lambda asset. The esbuild options and the parquet-wasm copy are src/Esbuild.ts's (the recipe
// this package offers its users); this script adds what only this repository needs: the workspace
// sources read through the `@b3-pipeline/source` condition, and the pure-module plugin below.
// Code splitting keeps what a cold start does not run (the credential providers other than the
// environment's, for instance) in chunks that are never read unless used. The maps (positions and
// names, not the sources' text) ship in the asset and are read only when an error leaves a handler
// (src/internal/stack.ts), so the function needs no `--enable-source-maps` (which parses them on
// every cold start).
// Usage: tsx scripts/bundle.ts [--sdk=bundled|external] [--outdir=dist] [--no-minify] [--no-splitting]
//   --sdk=bundled (default): the AWS SDK clients are inside the bundle (pinned versions, faster cold
//   start, see the README's "On AWS"); --sdk=external leaves `@aws-sdk/*` to the runtime's copy.
import * as esbuild from "esbuild"
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { buildOptions, copyParquetWasm } from "../src/Esbuild.js"

export const HANDLERS = ["onRawObjectCreated", "scheduledIngest"] as const

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

// Building an Effect, a Layer or a Schema has no side effect, but a bundler cannot know that a
// module-level `export const layerMemory = Layer.effect(...)` is droppable when nothing uses it:
// it keeps the call and everything it references (core's in-memory refine job pulls Arrow and the
// Parquet writer into a handler that only starts a Glue run). This plugin marks the top-level
// `const x = f(...)` initializers of the workspace's own sources `/* @__PURE__ */`, as a
// hand-written annotation would; a value that is used is kept as before.
const TOP_LEVEL_CALL = /^((?:export )?const [\w$]+(?:: [^=\n]+)? = )(?=[A-Za-z_$][\w$.]*(?:<[^>\n]*>)?\()/gm
// The same reasoning at the module level: the workspace's sources have no import-time side
// effects, so a module none of whose exports is used is dropped with its imports (what
// `"sideEffects": false` in each package.json would say).
const WORKSPACE_SOURCE = /\/packages\/[^/]+\/src\/.*\.ts$/
const pureModuleValues: esbuild.Plugin = {
  name: "pure-module-values",
  setup(build) {
    build.onResolve({ filter: /^(\.{1,2}\/|@b3-pipeline\/)/ }, async (args) => {
      if (args.pluginData?.inner === true) return undefined
      // A relative import inside a dependency never lands in the workspace's sources: no need to
      // resolve it twice (most of the imports of a bundle are these).
      if (args.path.startsWith(".") && args.importer.includes("/node_modules/")) return undefined
      const result = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { inner: true }
      })
      if (result.errors.length > 0 || !WORKSPACE_SOURCE.test(result.path)) return undefined
      return { path: result.path, sideEffects: false }
    })
    build.onLoad({ filter: WORKSPACE_SOURCE }, async (args) => {
      const source = await readFile(args.path, "utf8")
      return { contents: source.replace(TOP_LEVEL_CALL, "$1/* @__PURE__ */ "), loader: "ts" }
    })
  }
}

export interface BundleOptions {
  readonly sdk?: "bundled" | "external"
  readonly outdir?: string
  readonly minify?: boolean
  readonly sourcemap?: boolean
  /** The sources' text inside the maps (default `false`, as deployed). */
  readonly sourcesContent?: boolean
  readonly splitting?: boolean
  readonly handlers?: ReadonlyArray<string>
}

export const bundle = async (
  options: BundleOptions = {}
): Promise<Array<{ handler: string; file: string; bytes: number }>> => {
  const sdk = options.sdk ?? "bundled"
  const outdir = resolve(root, options.outdir ?? "dist")
  const out = []
  for (const handler of options.handlers ?? HANDLERS) {
    const dir = join(outdir, handler)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const build = buildOptions({
      entry: join("src", `${handler}.ts`),
      outdir: dir,
      absWorkingDir: root,
      minify: options.minify ?? true,
      splitting: options.splitting !== false,
      sourcemap: options.sourcemap !== false,
      sourcesContent: options.sourcesContent === true,
      conditions: ["@b3-pipeline/source"],
      external: sdk === "external" ? ["@aws-sdk/*"] : []
    })
    const result = await esbuild.build({ ...build, logLevel: "warning", plugins: [pureModuleValues] })
    // Beside the handler's folder, not in it (the folder is the Lambda asset).
    writeFileSync(join(outdir, `${handler}.meta.json`), JSON.stringify(result.metafile))
    // parquet-wasm's Node build reads its .wasm beside itself (__dirname) when loaded.
    copyParquetWasm(result.metafile, build)
    const file = join(dir, "index.mjs")
    out.push({ handler, file, bytes: statSync(file).size })
  }
  return out
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
  const sdk = arg("sdk") ?? "bundled"
  if (sdk !== "bundled" && sdk !== "external") throw new Error(`--sdk must be bundled or external, got ${sdk}`)
  const outdir = arg("outdir")
  const results = await bundle({
    sdk,
    ...(outdir !== undefined ? { outdir } : {}),
    minify: !process.argv.includes("--no-minify"),
    splitting: !process.argv.includes("--no-splitting")
  })
  for (const r of results) console.log(`${r.handler}: ${(r.bytes / 1024).toFixed(1)} KiB (${sdk} SDK) -> ${r.file}`)
}
