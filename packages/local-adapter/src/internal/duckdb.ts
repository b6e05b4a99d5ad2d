/**
 * A scoped DuckDB connection (in-memory database, closed on release) and SQL helpers shared by the
 * refine job and the query engine.
 */
import type { DuckDBConnection, DuckDBMaterializedResult, DuckDBResultReader } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as HeadStart from "../DuckDbHeadStart.js"

export interface Db {
  readonly connection: DuckDBConnection
  /** Runs SQL and reads every row; DuckDB's error message on failure. */
  readonly all: (sql: string) => Effect.Effect<DuckDBResultReader, DuckDbFailure>
  /** Runs SQL and keeps its whole result in DuckDB's chunks (read them with `getChunk`). */
  readonly materialize: (sql: string) => Effect.Effect<DuckDBMaterializedResult, DuckDbFailure>
  readonly run: (sql: string) => Effect.Effect<void, DuckDbFailure>
}

/** A DuckDB failure before it is translated into a port's error. */
export class DuckDbFailure {
  readonly _tag = "DuckDbFailure"
  constructor(readonly sql: string, readonly message: string, readonly cause: unknown) {}
}

const messageOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

export const open = (options?: { readonly threads?: number }): Effect.Effect<Db, DuckDbFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const instance = yield* Effect.acquireRelease(
      Effect.tryPromise({
        // the instance `DuckDbHeadStart.start` began opening, if one with these options is waiting
        try: () => HeadStart.take(options),
        catch: (cause) => new DuckDbFailure("open", messageOf(cause), cause)
      }),
      (db) => Effect.sync(() => db.closeSync())
    )
    const connection = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => instance.connect(),
        catch: (cause) => new DuckDbFailure("connect", messageOf(cause), cause)
      }),
      (c) => Effect.sync(() => c.closeSync())
    )
    const attempt = <A>(sql: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new DuckDbFailure(sql, messageOf(cause), cause) })
    const all = (sql: string) => attempt(sql, () => connection.runAndReadAll(sql))
    const materialize = (sql: string) => attempt(sql, () => connection.run(sql))
    // the result stays in DuckDB (`runAndReadAll` is this plus copying every chunk into JS)
    const run = (sql: string) => Effect.asVoid(materialize(sql))
    return { connection, all, materialize, run }
  })

/** A SQL string literal (single quotes doubled). */
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** Drops `--` comments and a trailing `;` so a statement can be embedded (`CREATE TABLE x AS <sql>`). */
export const stripSql = (sql: string): string =>
  sql.split("\n").map((line) => line.replace(/--.*$/, "")).join("\n").trim().replace(/;\s*$/, "")

/** Splits a script of `;`-terminated statements (no `;` inside literals in our scripts). */
export const statements = (sql: string): Array<string> =>
  stripSql(sql).split(";").map((s) => s.trim()).filter((s) => s.length > 0)
