/**
 * `b3 query SQL | --file F [--format table|json|csv]`: the handler, shared by the command tree
 * (`Cli.ts`, on any target) and the quick path of the local target (`QueryMain.ts`), so that both
 * read the SQL, run it and print the result the same way. No @effect/cli import.
 *
 * @since 0.1.0
 */
import type { QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Output from "../Output.js"
import { UsageError } from "../Usage.js"

/** `b3 query --file F` could not read F (exit 1). @category errors */
export class SqlFileError extends Data.TaggedError("SqlFileError")<{ readonly path: string; readonly cause: unknown }> {
  override get message() {
    const code = (this.cause as NodeJS.ErrnoException | undefined)?.code
    return `${this.path}: cannot read the SQL file (${code ?? String(this.cause)})`
  }
}

/** What `b3 query` was given: the SQL as an argument or a file (exactly one), and the format. @category models */
export interface QueryOptions {
  readonly sql: Option.Option<string>
  readonly file: Option.Option<string>
  readonly format: Output.Format
}

/** `b3 query --file F`: the SQL text. */
const readSqlFile = (readFile: (path: string) => Promise<string>, file: Option.Option<string>) => {
  const path = Option.getOrElse(file, () => "")
  return Effect.tryPromise({ try: () => readFile(path), catch: (cause) => new SqlFileError({ path, cause }) })
}

/**
 * Runs the query on the `QueryEngine` of the target and prints its result on stdout
 * (`queryResult.ts`). The modules it uses load on first use (a dynamic import: a module of the CLI
 * that fails to load is a defect).
 *
 * @category commands
 */
export const handler = (o: QueryOptions): Effect.Effect<void, UsageError | SqlFileError | QueryError, QueryEngine> =>
  Effect.gen(function*() {
    if (Option.isSome(o.sql) === Option.isSome(o.file)) {
      return yield* new UsageError({ detail: "give the SQL as an argument or with --file, not both or neither" })
    }
    // the query's own module (queryResult.ts), not `Pipeline` (whose ingest stages load Arrow and the
    // Parquet writer)
    const [fs, { runAndPrint }] = yield* Effect.promise(() =>
      Promise.all([import("node:fs/promises"), import("./queryResult.js")])
    )
    const sql = Option.isSome(o.sql) ? o.sql.value : yield* readSqlFile((p) => fs.readFile(p, "utf8"), o.file)
    yield* runAndPrint(sql, o.format)
  })
