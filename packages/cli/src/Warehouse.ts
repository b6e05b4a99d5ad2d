/**
 * The check that a command points at a local warehouse folder: a reading command needs an existing
 * warehouse (a mistyped folder must not look like an empty warehouse), a writing command may start a
 * new one and says so. No @effect/cli import: the full program (`Globals`, `Cli`) and the quick path of
 * `b3 query` (`QueryMain`) run the same check.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Stdio from "./Stdio.js"
import { UsageError } from "./Usage.js"

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

/**
 * What a command may do with a folder: use it (`ok`), create it as a new warehouse (`create`, at the
 * absolute path `dir`), or nothing (`refused`: the usage error's text).
 *
 * @category warehouse
 */
export type Verdict =
  | { readonly _tag: "ok" }
  | { readonly _tag: "create"; readonly dir: string }
  | { readonly _tag: "refused"; readonly detail: string }

const entries = (dir: string): ReadonlyArray<string> | undefined => {
  try {
    return fs.readdirSync(dir)
  } catch {
    return undefined
  }
}

const HINT = "(choose one with --warehouse DIR or $B3_WAREHOUSE)"

/**
 * Looks at the folder `dir` for a command with `access`, without changing anything. A reading
 * command on a folder that does not exist or holds no warehouse is refused, naming the folder; a
 * writing command may create a missing or empty folder, and is refused a non-empty folder that is not
 * a warehouse, rather than filling an unrelated folder.
 *
 * @category warehouse
 */
export const verdict = (dir: string, access: Access): Verdict => {
  const abs = path.resolve(dir)
  const found = entries(abs)
  if (found !== undefined && found.some((e) => WAREHOUSE_ENTRIES.includes(e))) return { _tag: "ok" }
  if (access === "read") {
    return {
      _tag: "refused",
      detail: found === undefined ?
        `${abs}: no such warehouse folder ${HINT}` :
        `${abs} is not a warehouse: it holds none of ${
          WAREHOUSE_ENTRIES.filter((e) => !e.startsWith(".")).join("/, ")
        }/ ${HINT}`
    }
  }
  if (found !== undefined && found.length > 0) {
    return { _tag: "refused", detail: `${abs} is not empty and is not a warehouse: refusing to write into it ${HINT}` }
  }
  return { _tag: "create", dir: abs }
}

/**
 * Checks the local warehouse folder for a command (`verdict`): a refusal fails with a `UsageError`
 * (exit 2); a new warehouse is created (its `runs/` folder) and announced on stderr.
 *
 * @category warehouse
 */
export const ensureWarehouse = (dir: string, access: Access): Effect.Effect<void, UsageError> =>
  Effect.suspend(() => {
    const v = verdict(dir, access)
    if (v._tag === "ok") return Effect.void
    if (v._tag === "refused") return Effect.fail(new UsageError({ detail: v.detail }))
    return Effect.try({
      // `runs/` at once: a second writer racing this one sees a warehouse, not a foreign folder
      try: () => fs.mkdirSync(path.join(v.dir, "runs"), { recursive: true }),
      catch: (e) => new UsageError({ detail: `${v.dir}: cannot create the warehouse folder (${String(e)})` })
    }).pipe(Effect.zipRight(Stdio.err(`b3: new warehouse at ${v.dir}\n`)))
  })
