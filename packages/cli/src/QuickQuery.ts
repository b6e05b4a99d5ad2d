/**
 * The quick path of `b3 query` on the local target: recognises the command lines it can run without
 * the command tree (`Cli.ts`), whose @effect/cli and @effect/platform-node modules cost more start-up
 * time than a small query. `bin.ts` asks `plan` first; `QueryMain.ts` runs what it returns, through
 * the same warehouse check, handler and failure printing as the full program. No Effect import.
 *
 * Only unambiguous lines are taken: `query` with exactly one of an SQL argument or `--file F`, and at
 * most once each `--format table|json|csv`, `--warehouse DIR` and `--target local`, the last two before
 * or after `query`, each as `--name value` or `--name=value`. Anything else (another flag, `--help`,
 * `--target aws`, a second argument, a value starting with `-`, an empty value, a `--file` that is not
 * an existing regular file, which @effect/cli reports in its own words) is left to the full program,
 * so that the two never answer differently.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"

/** A `b3 query` command line the quick path runs. @category models */
export interface Plan {
  /** The SQL argument, or `undefined` with `file`. */
  readonly sql: string | undefined
  /** `--file`: an existing regular file when the line was read. */
  readonly file: string | undefined
  readonly format: "table" | "json" | "csv"
  /** `--warehouse` (given after `query` wins over before it); absent: `$B3_WAREHOUSE`, else `./warehouse`. */
  readonly warehouse: string | undefined
}

const ROOT_OPTIONS: ReadonlyArray<string> = ["--warehouse", "--target"]
const QUERY_OPTIONS: ReadonlyArray<string> = [...ROOT_OPTIONS, "--file", "--format"]
const FORMATS: ReadonlyArray<string> = ["table", "json", "csv"]

const isRegularFile = (file: string): boolean => {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * The options of one level of the line (`b3 ...` before the command, `query ...` after it) and its
 * arguments, reading `args` from `start` until `stop` (an argument that ends the level) or the end;
 * `undefined` when a token is not one of `names` or repeats one.
 */
const level = (
  args: ReadonlyArray<string>,
  start: number,
  names: ReadonlyArray<string>,
  stop: (arg: string) => boolean
): { readonly options: Map<string, string>; readonly positional: Array<string>; readonly end: number } | undefined => {
  const options = new Map<string, string>()
  const positional: Array<string> = []
  let i = start
  for (; i < args.length; i++) {
    const arg = args[i] ?? ""
    if (!arg.startsWith("-")) {
      if (stop(arg)) break
      positional.push(arg)
      continue
    }
    const eq = arg.indexOf("=")
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1)
    if (!names.includes(name) || options.has(name)) return undefined
    if (value === undefined || value === "" || value.startsWith("-")) return undefined
    options.set(name, value)
  }
  return { options, positional, end: i }
}

/**
 * The plan of the command line `args` (the arguments after `b3`), or `undefined` when the full
 * program must run it.
 *
 * @category parsing
 */
export const plan = (args: ReadonlyArray<string>): Plan | undefined => {
  const root = level(args, 0, ROOT_OPTIONS, () => true)
  if (root === undefined || args[root.end] !== "query") return undefined
  const sub = level(args, root.end + 1, QUERY_OPTIONS, () => false)
  if (sub === undefined || sub.positional.length > 1) return undefined
  for (const options of [root.options, sub.options]) {
    const target = options.get("--target")
    if (target !== undefined && target !== "local") return undefined
  }
  const format = sub.options.get("--format") ?? "table"
  if (!FORMATS.includes(format)) return undefined
  const sql = sub.positional[0]
  const file = sub.options.get("--file")
  if ((sql === undefined) === (file === undefined)) return undefined
  if (file !== undefined && !isRegularFile(file)) return undefined
  return {
    sql,
    file,
    format: format as Plan["format"],
    warehouse: sub.options.get("--warehouse") ?? root.options.get("--warehouse")
  }
}
