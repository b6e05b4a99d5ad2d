/**
 * The options every command takes (`--warehouse`, `--target`), accepted before or after the
 * subcommand, and the check that a reading command points at a warehouse (a mistyped folder must
 * not look like an empty warehouse) while a writing command creates one and says so.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Stdio from "./Stdio.js"
import { UsageError } from "./Usage.js"

/** @category models */
export type Target = "local" | "aws"

const warehouse = Options.text("warehouse").pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription(
    "Warehouse folder of the local target (default: $B3_WAREHOUSE, else ./warehouse). May come before or after the command."
  ),
  Options.optional
)

const target = Options.choice("target", ["local", "aws"]).pipe(
  Options.withDescription(
    "local: a warehouse folder + DuckDB (default); aws: S3, Glue and Athena configured from the environment (README, \"On AWS\")"
  ),
  Options.optional
)

/**
 * The global options, declared on the root command and on every subcommand so that both
 * `b3 --warehouse D query ...` and `b3 query --warehouse D ...` work and each `--help` lists them.
 *
 * @category options
 */
export const options = { warehouse, target }

/** @category models */
export interface Values {
  readonly warehouse: Option.Option<string>
  readonly target: Option.Option<Target>
}

/** The effective values: the subcommand's (given after it) win over the root's. @category options */
export const resolve = (root: Values, sub: Values): { readonly warehouse?: string; readonly target: Target } => {
  const dir = Option.orElse(sub.warehouse, () => root.warehouse)
  return {
    target: Option.getOrElse(Option.orElse(sub.target, () => root.target), () => "local" as const),
    ...(Option.isSome(dir) ? { warehouse: dir.value } : {})
  }
}

/** Entries of a folder that only a warehouse has (any one is enough). @category warehouse */
export const WAREHOUSE_ENTRIES: ReadonlyArray<string> = [
  "raw",
  "refined",
  "serving",
  "_catalog",
  "_manifests",
  "runs",
  "quarantine",
  // a writer's lock: another b3 process is creating or writing this warehouse right now
  ".b3-writer.lock",
  ".b3-writer.json"
]

/**
 * `read`: the command only makes sense on an existing warehouse; `write`: it may start a new one.
 *
 * @category warehouse
 */
export type Access = "read" | "write"

const entries = (dir: string): ReadonlyArray<string> | undefined => {
  try {
    return fs.readdirSync(dir)
  } catch {
    return undefined
  }
}

/**
 * Checks the local warehouse folder for a command. A reading command on a folder that does not exist
 * or holds no warehouse fails with a `UsageError` naming the folder (exit 2). A writing command on a
 * missing or empty folder creates it and says so on stderr; on a non-empty folder that is not a
 * warehouse it refuses, rather than filling an unrelated folder.
 *
 * @category warehouse
 */
export const ensureWarehouse = (dir: string, access: Access): Effect.Effect<void, UsageError> =>
  Effect.suspend(() => {
    const abs = path.resolve(dir)
    const found = entries(abs)
    const isWarehouse = found !== undefined && found.some((e) => WAREHOUSE_ENTRIES.includes(e))
    if (isWarehouse) return Effect.void
    const hint = "(choose one with --warehouse DIR or $B3_WAREHOUSE)"
    if (access === "read") {
      return Effect.fail(
        new UsageError({
          detail: found === undefined ?
            `${abs}: no such warehouse folder ${hint}` :
            `${abs} is not a warehouse: it holds none of ${
              WAREHOUSE_ENTRIES.filter((e) => !e.startsWith(".")).join("/, ")
            }/ ${hint}`
        })
      )
    }
    if (found !== undefined && found.length > 0) {
      return Effect.fail(
        new UsageError({
          detail: `${abs} is not empty and is not a warehouse: refusing to write into it ${hint}`
        })
      )
    }
    return Effect.try({
      // `runs/` at once: a second writer racing this one sees a warehouse, not a foreign folder
      try: () => fs.mkdirSync(path.join(abs, "runs"), { recursive: true }),
      catch: (e) => new UsageError({ detail: `${abs}: cannot create the warehouse folder (${String(e)})` })
    }).pipe(Effect.zipRight(Stdio.err(`b3: new warehouse at ${abs}\n`)))
  })
