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
import ts from "typescript"
import { buildOptions, copyParquetWasm } from "../src/Esbuild.js"

export const HANDLERS = ["onRawObjectCreated", "scheduledIngest"] as const

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

// Building an Effect, a Layer or a Schema has no side effect, but a bundler cannot know that a
// module-level `export const layerMemory = Layer.effect(...)` is droppable when nothing uses it:
// it keeps the call and everything it references (core's in-memory refine job pulls Arrow and the
// Parquet writer into a handler that only starts a Glue run). This plugin wraps the initializer of
// each top-level `const` of the workspace's own sources, and the `extends` expression of each
// top-level class (`Schema.TaggedError<E>()(...)`, `Context.Tag(...)<...>()`), in a pure arrow call
// `/* @__PURE__ */ (() => (...))()`: esbuild drops it with what it references when the value is
// unused and inlines it back when it is used. A bare `/* @__PURE__ */ f(...)` would not do: esbuild
// keeps it when its arguments call something (`Config.string("X").pipe(...)`) or when a call is
// chained on it (`Effect.map(...).pipe(...)`). The sources are parsed with TypeScript (an
// initializer may span lines); the insertions keep every line where it was, so the maps still give
// the sources' lines.
const PURE_OPEN = "/* @__PURE__ */ (() => ("
const PURE_CLOSE = "))()"
const hasAwait = (node: ts.Node): boolean =>
  ts.isAwaitExpression(node) || (!ts.isFunctionLike(node) && ts.forEachChild(node, hasAwait) === true)
/** Literals, names and functions: nothing to drop that esbuild does not drop already. */
const trivial = (e: ts.Expression): boolean =>
  ts.isArrowFunction(e) || ts.isFunctionExpression(e) || ts.isIdentifier(e) || ts.isLiteralExpression(e) ||
  ts.isNoSubstitutionTemplateLiteral(e) || e.kind === ts.SyntaxKind.TrueKeyword ||
  e.kind === ts.SyntaxKind.FalseKeyword
export const markPure = (source: string, fileName: string): string => {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const wraps: Array<ts.Expression> = []
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) {
      const declared = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword) === true
      if (declared || (statement.declarationList.flags & ts.NodeFlags.Const) === 0) continue
      for (const d of statement.declarationList.declarations) {
        if (d.initializer !== undefined && !trivial(d.initializer)) wraps.push(d.initializer)
      }
    } else if (ts.isClassDeclaration(statement)) {
      for (const clause of statement.heritageClauses ?? []) {
        if (clause.token !== ts.SyntaxKind.ExtendsKeyword) continue
        for (const t of clause.types) if (!trivial(t.expression)) wraps.push(t.expression)
      }
    }
  }
  let out = source
  for (const e of wraps.filter((e) => !hasAwait(e)).sort((a, b) => b.pos - a.pos)) {
    const start = e.getStart(file)
    out = out.slice(0, start) + PURE_OPEN + out.slice(start, e.end) + PURE_CLOSE + out.slice(e.end)
  }
  return out
}
// The same reasoning at the module level: the workspace's sources have no import-time side
// effects, so a module none of whose exports is used is dropped with its imports (what
// `"sideEffects": false` in each package.json would say).
const WORKSPACE_SOURCE = /\/packages\/[^/]+\/src\/.*\.ts$/
/** Resolves an import as esbuild would, marked `inner` so that the plugins asking let it through. */
const resolveInner = (build: esbuild.PluginBuild, args: esbuild.OnResolveArgs) =>
  build.resolve(args.path, {
    kind: args.kind,
    importer: args.importer,
    resolveDir: args.resolveDir,
    pluginData: { inner: true }
  })

const pureModuleValues: esbuild.Plugin = {
  name: "pure-module-values",
  setup(build) {
    build.onResolve({ filter: /^(\.{1,2}\/|@b3-pipeline\/)/ }, async (args) => {
      if (args.pluginData?.inner === true) return undefined
      // A relative import inside a dependency never lands in the workspace's sources: no need to
      // resolve it twice (most of the imports of a bundle are these).
      if (args.path.startsWith(".") && args.importer.includes("/node_modules/")) return undefined
      const result = await resolveInner(build, args)
      if (result.errors.length > 0 || !WORKSPACE_SOURCE.test(result.path)) return undefined
      return { path: result.path, sideEffects: false }
    })
    build.onLoad({ filter: WORKSPACE_SOURCE }, async (args) => {
      const source = await readFile(args.path, "utf8")
      return { contents: markPure(source, args.path), loader: "ts" }
    })
  }
}

// esbuild finds the `import()`s of every module it reads before it drops unused code, and each
// target becomes a chunk's entry even when the code that imported it is dropped (core's memory
// refine job, which loads the Parquet codecs on first use, is in the module of the RefineJob tag
// the handlers import). Such a chunk is never loaded, but it is real to the code splitting: the
// modules the handler shares with it (Effect, here) go to a separate chunk, one more module for
// the handler's import to load and link (measured: 2 chunks less, 7% less CPU for
// onRawObjectCreated's cold start), and a Parquet reader in it gets parquet-wasm's .wasm copied
// into the asset. So each handler is built twice: the first build (not written) lists the dynamic
// entries no output imports; the second leaves those `import()`s out of the bundle (they are in
// dropped code, so nothing refers to them). A dead chunk's own `import()`s are dead too (the SDK's
// credential chain, left by a client the handler no longer uses, is such a chain): what counts is
// what the handler's output reaches, following every import, static or dynamic.
const deadDynamicImports = async (build: esbuild.BuildOptions, plugins: Array<esbuild.Plugin>) => {
  const first = await esbuild.build({ ...build, write: false, logLevel: "silent", plugins })
  const outputs = first.metafile?.outputs ?? {}
  const cwd = build.absWorkingDir ?? root
  const entries = new Set(Object.values(build.entryPoints as Record<string, string>))
  const reached = new Set<string>()
  const queue = Object.entries(outputs).flatMap(([path, o]) =>
    o.entryPoint !== undefined && entries.has(resolve(cwd, o.entryPoint)) ? [path] : []
  )
  while (queue.length > 0) {
    const path = queue.pop() as string
    if (reached.has(path)) continue
    reached.add(path)
    for (const i of outputs[path]?.imports ?? []) if (!i.external) queue.push(i.path)
  }
  return new Set(
    Object.entries(outputs).flatMap(([path, o]) =>
      o.entryPoint === undefined || reached.has(path) ? [] : [resolve(cwd, o.entryPoint)]
    )
  )
}
const dropDynamicImports = (dead: ReadonlySet<string>, dropped: Set<string>): esbuild.Plugin => ({
  name: "drop-dead-dynamic-imports",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      // `inner`: a resolution asked by this plugin or the next one (it resolves normally)
      if (args.kind !== "dynamic-import" || args.pluginData?.inner === true) return undefined
      const result = await resolveInner(build, args)
      if (result.errors.length > 0 || !dead.has(result.path)) return undefined
      dropped.add(args.path)
      return { path: args.path, external: true }
    })
  }
})

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
    // Until no chunk is left unreached: leaving dead imports out can orphan more chunks.
    const own = build.plugins ?? []
    let dead = await deadDynamicImports(build, [pureModuleValues, ...own])
    for (let round = 0; round < 5; round++) {
      const more = await deadDynamicImports(build, [dropDynamicImports(dead, new Set()), pureModuleValues, ...own])
      if ([...more].every((entry) => dead.has(entry))) break
      dead = new Set([...dead, ...more])
    }
    const dropped = new Set<string>()
    const result = await esbuild.build({
      ...build,
      logLevel: "warning",
      plugins: [dropDynamicImports(dead, dropped), pureModuleValues, ...own]
    })
    // A dropped import() left in the output would fail when run (its file is not in the asset).
    for (const [file, output] of Object.entries(result.metafile?.outputs ?? {})) {
      const left = output.imports.find((i) => i.kind === "dynamic-import" && i.external === true && dropped.has(i.path))
      if (left !== undefined) throw new Error(`${file} still imports ${left.path}, which the bundle left out`)
    }
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
