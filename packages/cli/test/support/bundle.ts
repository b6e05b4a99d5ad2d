/**
 * A copy of the CLI bundle built by `scripts/build-cli.mjs --outdir DIR`, and a way to run its files
 * as child processes (asynchronously, see `runB3.ts`): tests compare what a bundle answers with what
 * the sources or another of its entries answer.
 */
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Ran } from "./runB3.js"

/** The repository's root. */
export const repo = fileURLToPath(new URL("../../../../", import.meta.url))

/** `node file ...args` with `env` (and `cwd`, default this process's). */
export const runFile = (
  file: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  options: { readonly cwd?: string; readonly nodeArgs?: ReadonlyArray<string> } = {}
): Promise<Ran> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), file, ...args],
      { encoding: "utf8", timeout: 120_000, env, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) },
      (error, stdout, stderr) =>
        done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    )
  })

/** Builds the bundle into `outdir` (b3.mjs, chunks/, meta.json, b3.help.json). */
export const buildBundle = (outdir: string): Promise<Ran> =>
  runFile(join(repo, "scripts", "build-cli.mjs"), ["--outdir", outdir], process.env)

/** What esbuild's metafile says of each output file of a bundle. */
export interface Metafile {
  readonly outputs: Readonly<
    Record<string, {
      readonly imports: ReadonlyArray<{ readonly path: string; readonly kind: string; readonly external?: boolean }>
      readonly inputs: Readonly<Record<string, unknown>>
      readonly entryPoint?: string
    }>
  >
}

/** The metafile of the bundle in `outdir`. */
export const metafile = (outdir: string): Metafile => JSON.parse(readFileSync(join(outdir, "meta.json"), "utf8"))

/** The absolute path of the bundle's output that holds the module `source` (repository-relative). */
export const outputOf = (meta: Metafile, source: string): string => {
  const found = Object.keys(meta.outputs).find((k) => meta.outputs[k]?.entryPoint === source)
  if (found === undefined) throw new Error(`the bundle holds no chunk of ${source}`)
  return resolve(repo, found)
}

/**
 * The inputs (source modules and packages' files) of the outputs `roots` and of every output they
 * import, statically and, with `dynamic`, through `import()` too.
 */
export const inputsReached = (
  meta: Metafile,
  roots: ReadonlyArray<string>,
  options: { readonly dynamic: boolean }
): Set<string> => {
  const byPath = new Map(Object.keys(meta.outputs).map((k) => [resolve(repo, k), k]))
  const seen = new Set<string>()
  const inputs = new Set<string>()
  const visit = (file: string) => {
    const k = byPath.get(file)
    if (k === undefined || seen.has(k)) return
    seen.add(k)
    const out = meta.outputs[k]
    for (const i of Object.keys(out?.inputs ?? {})) inputs.add(i)
    for (const imp of out?.imports ?? []) {
      if (imp.external === true) inputs.add(imp.path)
      else if (imp.kind === "import-statement" || (options.dynamic && imp.kind === "dynamic-import")) {
        visit(resolve(repo, imp.path))
      }
    }
  }
  for (const root of roots) visit(root)
  return inputs
}
