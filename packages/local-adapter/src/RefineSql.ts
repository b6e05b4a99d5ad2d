/**
 * The SQL the DuckDB refine job runs: `refine.sql` (the one file the Glue job also runs) and
 * `duckdb-compat.sql` (the Spark/Athena functions DuckDB lacks). The published package ships a copy
 * of both in `dist/sql/`, beside its modules (copied from the repository's `glue/sql/` at build
 * time); inside the repository the sources read `glue/sql/` itself, so an edit is never hidden by a
 * stale copy.
 *
 * Looked up, first hit wins: the `sqlDir` given; `$B3_SQL_DIR`; the package's own `sql/` folder
 * beside this module (`import.meta.url`); the first `glue/sql/` above this module (the repository).
 * A missing or unreadable file is a `RefineSqlError` when the layer is built, naming every folder
 * that was searched.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The files the refine needs. @category constants */
export const FILES = ["refine.sql", "duckdb-compat.sql"] as const

/** @category errors */
export class RefineSqlError extends Schema.TaggedError<RefineSqlError>()("RefineSqlError", {
  reason: Schema.Literal("Missing", "Unreadable"),
  /** The file that is missing or unreadable. */
  file: Schema.String,
  /** Every folder looked in, in order. */
  searched: Schema.Array(Schema.String),
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `refine SQL ${this.reason === "Missing" ? "not found" : "unreadable"}: ${this.file} (looked in ${
      this.searched.join(", ")
    })${this.detail !== undefined ? `: ${this.detail}` : ""}`
  }
  get retryable(): boolean {
    return false
  }
}

/** The texts, and the folder they were read from. @category models */
export interface RefineSqlTexts {
  readonly dir: string
  /** `refine.sql` as written. */
  readonly refine: string
  /** `duckdb-compat.sql` as written. */
  readonly compat: string
}

/** The repository's `glue/sql/` above `from`, if any. */
const repositorySqlDir = (from: string): string | undefined => {
  let dir = from
  for (;;) {
    if (existsSync(join(dir, "glue", "sql", "refine.sql"))) return join(dir, "glue", "sql")
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/**
 * The folders searched, in order (see the module's documentation). An explicit `sqlDir` is the only
 * candidate: asking for a folder and silently reading another would hide a mistake.
 *
 * @category lookup
 */
export const candidates = (sqlDir?: string): ReadonlyArray<string> => {
  if (sqlDir !== undefined) return [sqlDir]
  const out: Array<string> = []
  const fromEnv = process.env["B3_SQL_DIR"]
  if (fromEnv !== undefined && fromEnv !== "") out.push(fromEnv)
  const here = dirname(fileURLToPath(import.meta.url))
  out.push(join(here, "sql"))
  const repository = repositorySqlDir(here)
  if (repository !== undefined) out.push(repository)
  return out
}

/**
 * Reads both files from the first folder that has `refine.sql`.
 *
 * @category constructors
 */
export const load = (sqlDir?: string): Effect.Effect<RefineSqlTexts, RefineSqlError> =>
  Effect.suspend(() => {
    const searched = candidates(sqlDir)
    const dir = searched.find((d) => existsSync(join(d, FILES[0])))
    if (dir === undefined) {
      return Effect.fail(new RefineSqlError({ reason: "Missing", file: FILES[0], searched: [...searched] }))
    }
    const read = (name: string) =>
      Effect.try({
        try: () => readFileSync(join(dir, name), "utf8"),
        catch: (cause) =>
          new RefineSqlError({
            reason: existsSync(join(dir, name)) ? "Unreadable" : "Missing",
            file: join(dir, name),
            searched: [...searched],
            detail: cause instanceof Error ? cause.message : String(cause)
          })
      })
    return Effect.all({ refine: read(FILES[0]), compat: read(FILES[1]) }).pipe(
      Effect.map(({ compat, refine }) => ({ dir, refine, compat }))
    )
  })
