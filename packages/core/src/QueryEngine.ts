/**
 * The `QueryEngine` port (stage 5, query): SQL in, rows out as a stream. Athena on AWS, DuckDB
 * locally. Tables are named as in the catalog (`b3_portfolio_raw`, `b3_portfolio_refined`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * A result value. Engines map SQL types so: integers that fit in 2^53 and doubles -> `number`,
 * larger integers -> `bigint`, DECIMAL -> its exact text (`"3.570"`), DATE -> `"YYYY-MM-DD"`,
 * TIMESTAMP -> ISO text, NULL -> `null`.
 *
 * @category models
 */
export type SqlValue = string | number | bigint | boolean | null

/** @category models */
export type Row = Readonly<Record<string, SqlValue>>

/** @category models */
export interface QueryResult {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>
  readonly rows: Stream.Stream<Row, QueryError>
}

/** @category errors */
export class QueryError extends Schema.TaggedError<QueryError>()("QueryError", {
  reason: Schema.Literal("Syntax", "NoSuchTable", "Failed", "Cancelled", "Timeout", "Throttled", "Unavailable", "BadRow"),
  sql: Schema.optional(Schema.String),
  queryId: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `query failed (${this.reason})${this.queryId !== undefined ? ` [${this.queryId}]` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  get retryable(): boolean {
    return this.reason === "Throttled" || this.reason === "Unavailable"
  }
}

/** @category tags */
export class QueryEngine extends Context.Tag("@b3-pipeline/core/QueryEngine")<QueryEngine, {
  readonly query: (sql: string) => Effect.Effect<QueryResult, QueryError>
}>() {}

/** Runs a query and collects its rows. @category combinators */
export const collect = (sql: string): Effect.Effect<ReadonlyArray<Row>, QueryError, QueryEngine> =>
  Effect.flatMap(QueryEngine, (engine) => engine.query(sql)).pipe(
    Effect.flatMap((result) => Stream.runCollect(result.rows)),
    Effect.map((chunk) => Array.from(chunk))
  )

/** Runs a query and decodes each row with a Schema (typed rows). @category combinators */
export const stream = <A, I>(
  sql: string,
  schema: Schema.Schema<A, I>
): Stream.Stream<A, QueryError, QueryEngine> =>
  Stream.unwrap(Effect.map(Effect.flatMap(QueryEngine, (engine) => engine.query(sql)), (r) => r.rows)).pipe(
    Stream.mapEffect((row) =>
      Schema.decodeUnknown(schema)(row).pipe(
        Effect.mapError((e) => new QueryError({ reason: "BadRow", sql, detail: e.message }))
      )
    )
  )
