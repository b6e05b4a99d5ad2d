/**
 * A recipe for bundling a Lambda of your own that uses b3-pipeline, for esbuild (which you
 * install; this module does not import it):
 *
 * ```js
 * import * as esbuild from "esbuild"
 * import { buildOptions, copyParquetWasm } from "@b3-pipeline/lambda-entry/Esbuild"
 *
 * const options = buildOptions({ entry: "src/handler.ts", outdir: "dist/handler" })
 * const result = await esbuild.build(options)   // dist/handler/index.mjs
 * copyParquetWasm(result.metafile, options)     // dist/handler/parquet_wasm_bg.wasm, when used
 * ```
 *
 * Two things a plain bundle gets wrong, both handled here: CommonJS dependencies inside an ESM
 * bundle still call `require` and read `__dirname` (the banner defines both), and parquet-wasm's
 * Node build reads `parquet_wasm_bg.wasm` beside itself when it loads (`copyParquetWasm` puts the
 * file beside the bundle). Zip the output folder as the Lambda asset (runtime nodejs22.x, handler
 * `index.handler`).
 *
 * @since 0.1.0
 */
import { copyFileSync, existsSync } from "node:fs"
import { builtinModules, createRequire } from "node:module"
import { join, resolve } from "node:path"

/** @category models */
export interface LambdaBundle {
  /** The handler's module (TypeScript or JavaScript), exporting `handler`. */
  readonly entry: string
  /** The Lambda asset folder: `index.mjs` (+ `.map`, + `chunk-*.mjs` when split) is written there. */
  readonly outdir: string
  /** Resolve from here (default: the current directory). */
  readonly absWorkingDir?: string
  /** Default `true`. */
  readonly minify?: boolean
  /** Packages left to the runtime (e.g. `["@aws-sdk/*"]` to use the runtime's SDK). Default none. */
  readonly external?: ReadonlyArray<string>
  /**
   * Code splitting (default `false`): what a cold start does not run goes to `chunk-*.mjs` files
   * that are read only when used.
   */
  readonly splitting?: boolean
  /** A linked source map beside each file (default `true`). */
  readonly sourcemap?: boolean
  /**
   * Embed the sources' text in the maps (default `false`: a map then only carries file names,
   * lines and columns, which is all a stack trace needs, at a fraction of the size).
   */
  readonly sourcesContent?: boolean
  /** Extra package.json export conditions to resolve with (before `import`, `module`). */
  readonly conditions?: ReadonlyArray<string>
}

/** Defines `require`, `__filename` and `__dirname` for the CommonJS code inside an ESM bundle. @category constants */
export const BANNER: string = [
  "import { createRequire as __b3CreateRequire } from \"node:module\";",
  "import { fileURLToPath as __b3FileURLToPath } from \"node:url\";",
  "import { dirname as __b3Dirname } from \"node:path\";",
  "const require = __b3CreateRequire(import.meta.url);",
  "const __filename = __b3FileURLToPath(import.meta.url);",
  "const __dirname = __b3Dirname(__filename);"
].join("\n")

/** The parts of an esbuild plugin used here (this module does not import esbuild). @category models */
export interface PluginLike {
  readonly name: string
  readonly setup: (build: {
    readonly onResolve: (
      options: { readonly filter: RegExp },
      callback: (
        args: { readonly path: string; readonly kind: string }
      ) => { path: string; namespace: string } | undefined
    ) => void
    readonly onLoad: (
      options: { readonly filter: RegExp; readonly namespace: string },
      callback: (args: { readonly path: string }) => { contents: string; loader: "js" }
    ) => void
  }) => void
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const builtins = new Set(builtinModules.filter((m) => !m.startsWith("_")))

/**
 * The source of the stand-in for a Node built-in module: the module's own object from
 * `process.getBuiltinModule`, each export read only where the bundle uses it (a pure call that
 * esbuild drops when its export is unused). The export names are the build machine's Node's; a
 * name the bundle imports that this Node lacks fails the build.
 */
export const builtinStandIn = (name: string): string => {
  const own = createRequire(import.meta.url)(`node:${name}`) as Record<string, unknown>
  const names = Object.keys(own).filter((k) => k !== "default" && !k.startsWith("__b3") && IDENTIFIER.test(k))
  return [
    `const __b3m = process.getBuiltinModule(${JSON.stringify(`node:${name}`)});`,
    "const __b3get = (k) => __b3m[k];",
    "export default __b3m;",
    ...names.map((k) => `export const ${k} = /* @__PURE__ */ __b3get(${JSON.stringify(k)});`)
  ].join("\n")
}

/**
 * An esbuild plugin: a static `import` of a Node built-in module (`node:https`, `crypto`, ...)
 * becomes a read of `process.getBuiltinModule` (Node 20.16+, 22.3+) instead of an ES module import.
 * Importing a built-in as an ES module makes Node build its ES facade, which reads every export
 * once, and on Node 22 that loads the code behind lazy exports the handler never uses: `node:http`'s
 * `WebSocket` and `MessageEvent` load undici, `node:crypto`'s load Web Crypto. `npm run bench -- lambda`
 * on Node 22.23, `onRawObjectCreated`'s import: 78 ms as ES imports, 44 ms this way (Node 20: little
 * difference). `require()` calls and dynamic `import()`s are left as they are.
 *
 * @category constructors
 */
export const builtinsWithoutFacade: PluginLike = {
  name: "b3-builtins-without-facade",
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, "")
      if (args.kind !== "import-statement" || !builtins.has(name)) return undefined
      return { path: name, namespace: "b3-builtin" }
    })
    build.onLoad({ filter: /.*/, namespace: "b3-builtin" }, (args) => ({
      contents: builtinStandIn(args.path),
      loader: "js"
    }))
  }
}

/**
 * esbuild `build` options for one handler: ESM for Node 22, bundled, tree-shaken, `index.mjs` in
 * `outdir`, with a metafile (`copyParquetWasm` reads it) and linked source maps without the sources'
 * text (names and positions only). The repository's own Lambda bundles
 * (`scripts/bundle.ts`) are built from these options too.
 *
 * @category constructors
 */
export const buildOptions = (bundle: LambdaBundle) => {
  const cwd = bundle.absWorkingDir ?? process.cwd()
  return {
    absWorkingDir: cwd,
    entryPoints: { index: resolve(cwd, bundle.entry) },
    outdir: resolve(cwd, bundle.outdir),
    outExtension: { ".js": ".mjs" },
    ...(bundle.splitting === true ? { splitting: true, chunkNames: "chunk-[hash]" } : {}),
    bundle: true,
    platform: "node" as const,
    target: "node22",
    format: "esm" as const,
    minify: bundle.minify ?? true,
    treeShaking: true,
    sourcemap: bundle.sourcemap === false ? false : "linked" as const,
    sourcesContent: bundle.sourcesContent ?? false,
    legalComments: "none" as const,
    metafile: true,
    mainFields: ["module", "main"],
    ...(bundle.conditions !== undefined ? { conditions: [...bundle.conditions, "import", "module"] } : {}),
    external: [...(bundle.external ?? [])],
    banner: { js: BANNER },
    plugins: [builtinsWithoutFacade]
  }
}

/** The parts of esbuild's metafile read here. @category models */
export interface Metafile {
  readonly outputs: Readonly<
    Record<
      string,
      { readonly entryPoint?: string; readonly inputs: Readonly<Record<string, { bytesInOutput: number }>> }
    >
  >
}

/**
 * Copies `parquet_wasm_bg.wasm` beside the bundle when parquet-wasm's Node build is in it (in the
 * entry or in a chunk). Returns the copy's path, or `undefined` when the bundle does not use
 * parquet-wasm. Throws when it is used but its `.wasm` cannot be found (a bundle without it fails at
 * its first Parquet read or write).
 *
 * @category constructors
 */
export const copyParquetWasm = (
  metafile: Metafile | undefined,
  options: { readonly outdir: string; readonly absWorkingDir: string }
): string | undefined => {
  if (metafile === undefined) throw new Error("copyParquetWasm needs the build's metafile (metafile: true)")
  for (const output of Object.values(metafile.outputs)) {
    const js = Object.entries(output.inputs).find(([file, input]) =>
      /parquet-wasm[\\/]node[\\/]parquet_wasm\.js$/.test(file) && input.bytesInOutput > 0
    )?.[0]
    if (js === undefined) continue
    const wasm = resolve(options.absWorkingDir, js.replace(/parquet_wasm\.js$/, "parquet_wasm_bg.wasm"))
    if (!existsSync(wasm)) throw new Error(`parquet-wasm is bundled but ${wasm} is missing`)
    const target = join(options.outdir, "parquet_wasm_bg.wasm")
    copyFileSync(wasm, target)
    return target
  }
  return undefined
}
