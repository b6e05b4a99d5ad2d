/**
 * Confines a DuckDB connection to reading a warehouse's table folders: what `b3 query` (and the
 * report) run through the local `QueryEngine`. Two locks, each closing what the other leaves open:
 *
 * - DuckDB's own settings (`confinement`): `allowed_directories` (the table folders only),
 *   `enable_external_access = false` (no other file, no URL, no extension install/load),
 *   `lock_configuration = true` (the SQL cannot undo either). These stop `read_csv('/etc/passwd')`,
 *   `COPY ... TO '/tmp/x'`, `ATTACH '/elsewhere'`, but an allowed folder is writable too;
 * - a statement gate (`runSelect`): every statement of the text is prepared first and must be a SELECT
 *   (which covers WITH, VALUES, FROM-first, SHOW, DESCRIBE, SUMMARIZE); COPY, ATTACH, EXPORT, INSERT,
 *   CREATE, SET, LOAD, CALL, ... are refused before anything runs, so nothing can be written into the
 *   table folders.
 */
import type { DuckDBMaterializedResult } from "@duckdb/node-api"
import { StatementType } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import type { Db } from "./duckdb.js"
import { DuckDbFailure, literal } from "./duckdb.js"

/** The prefix of every refusal message (the engine classifies it as `NotAllowed`). */
export const NOT_ALLOWED = "Not allowed"

/**
 * The settings that lock a connection's file access to `directories` (each a folder; a trailing `/`
 * is added), as one text of statements to run in order (the lock last).
 */
export const confinement = (directories: ReadonlyArray<string>): string =>
  [
    `SET allowed_directories = [${directories.map((d) => literal(d.endsWith("/") ? d : `${d}/`)).join(", ")}]`,
    "SET enable_external_access = false",
    "SET lock_configuration = true"
  ].join(";\n")

const messageOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * Runs `sql` and reads its result (the last statement's) if every statement of it is a SELECT, and
 * fails without running anything otherwise. A text of one statement runs the statement prepared for
 * the check, so DuckDB parses, binds and plans it once; a longer text runs whole after the check.
 */
export const runSelect = (db: Db, sql: string): Effect.Effect<DuckDBMaterializedResult, DuckDbFailure> =>
  Effect.gen(function*() {
    const extracted = yield* Effect.tryPromise({
      try: () => db.connection.extractStatements(sql),
      catch: (cause) =>
        new DuckDbFailure(
          sql,
          // DuckDB's own message ("Parser Error: ..."), as running the text would have given it
          messageOf(cause).replace(/^Failed to extract statements: /, ""),
          cause
        )
    })
    for (let i = 0; i < extracted.count; i++) {
      const prepared = yield* Effect.tryPromise({
        try: () => extracted.prepare(i),
        catch: (cause) => new DuckDbFailure(sql, messageOf(cause), cause)
      })
      const type = prepared.statementType
      if (type !== StatementType.SELECT) {
        prepared.destroySync()
        const name = StatementType[type] ?? String(type)
        return yield* Effect.fail(
          new DuckDbFailure(
            sql,
            `${NOT_ALLOWED}: queries only read the warehouse's tables; statement ${
              i + 1
            } is a ${name} (allowed: SELECT, WITH, VALUES, SHOW, DESCRIBE, SUMMARIZE)`,
            undefined
          )
        )
      }
      if (extracted.count === 1) {
        return yield* Effect.tryPromise({
          try: () => prepared.run(),
          catch: (cause) => new DuckDbFailure(sql, messageOf(cause), cause)
        }).pipe(Effect.ensuring(Effect.sync(() => prepared.destroySync())))
      }
      prepared.destroySync()
    }
    return yield* db.materialize(sql)
  })
