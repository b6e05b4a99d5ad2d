/**
 * `QueryEngine` on Amazon Athena.
 *
 * `query` starts the query (`StartQueryExecution` in the workgroup, database `default` by default),
 * polls `GetQueryExecution` with a growing delay until SUCCEEDED/FAILED/CANCELLED, under a deadline
 * (then `StopQueryExecution`, best effort, and `Timeout`), reads the first results page for the
 * column types, and streams the rest page by page (each page one retried call), without holding a
 * whole result in memory. The header row Athena puts first in a SELECT's first page is skipped.
 *
 * `StartQueryExecution` carries a `ClientRequestToken` made once per query, so a retried start is
 * idempotent; a query interrupted while it runs is stopped (`StopQueryExecution`, best effort).
 *
 * Values (Athena sends text) map to `SqlValue` through core's one mapping
 * (`QueryEngine.decodeRows`): decimal -> its exact text, bigint -> number (bigint past 2^53),
 * integer/double -> number, boolean -> boolean, date -> `YYYY-MM-DD`, timestamp -> ISO text
 * (`T` separator), NULL -> null; other types as their text. A missing column is `Syntax`, as on
 * every engine.
 *
 * @since 0.1.0
 */
import type {
  ColumnInfo,
  GetQueryResultsCommandOutput,
  QueryExecutionStatus,
  Row as AthenaRow
} from "@aws-sdk/client-athena"
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand
} from "@aws-sdk/client-athena"
import { decodeRows, QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import type { Row } from "@b3-pipeline/core/QueryEngine"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { Athena } from "./ClientAthena.js"
import { classify, describe } from "./internal/awsError.js"
import * as Retry from "./internal/retry.js"

/** @category models */
export interface AthenaQueryEngineConfig {
  readonly workgroup: string
  readonly database?: string | undefined
  /** `s3://bucket/prefix/` for results; absent uses the workgroup's setting. */
  readonly outputLocation?: string | undefined
  /** First poll delay (default 200 ms); grows by 1.5x up to `maxPollInterval` (default 2 s). */
  readonly pollInterval?: Duration.DurationInput | undefined
  readonly maxPollInterval?: Duration.DurationInput | undefined
  /** How long a query may take before it is stopped (default 5 minutes). */
  readonly deadline?: Duration.DurationInput | undefined
  /** Rows per GetQueryResults page (max 1000). */
  readonly pageSize?: number | undefined
  readonly retry?: Retry.RetryPolicy | undefined
}

/** One poll's answer. */
interface Polled {
  readonly state: string
  readonly statementType: string
  readonly status: QueryExecutionStatus | undefined
}

const reasonOf = (cause: unknown): QueryError["reason"] => {
  switch (classify(cause)) {
    case "Throttled":
      return "Throttled"
    case "Unavailable":
    case "Aborted":
      return "Unavailable"
    case "NotFound":
      return "NoSuchTable"
    case "InvalidInput":
      return "Syntax"
    default:
      return "Failed"
  }
}

/** The port's reason for a FAILED query, from Athena's reason text. @category mapping */
export const failedReason = (status: QueryExecutionStatus | undefined): QueryError["reason"] => {
  const text = `${status?.StateChangeReason ?? ""} ${status?.AthenaError?.ErrorMessage ?? ""}`
  if (/COLUMN_NOT_FOUND|Column .* cannot be resolved/i.test(text)) return "Syntax"
  if (/TABLE_NOT_FOUND|SCHEMA_NOT_FOUND|Table .* does not exist|does not exist/i.test(text)) return "NoSuchTable"
  if (/SYNTAX_ERROR|mismatched input|extraneous input|no viable alternative|Queries of this type/i.test(text)) {
    return "Syntax"
  }
  if (status?.AthenaError?.Retryable === true) return "Unavailable"
  return "Failed"
}

const typeText = (c: ColumnInfo): string =>
  c.Type === "decimal" && c.Precision !== undefined ? `decimal(${c.Precision},${c.Scale ?? 0})` : (c.Type ?? "unknown")

const make = (config: AthenaQueryEngineConfig) =>
  Effect.gen(function*() {
    const athena = yield* Athena
    const first = Duration.decode(config.pollInterval ?? "200 millis")
    const cap = Duration.decode(config.maxPollInterval ?? "2 seconds")
    const deadline = config.deadline ?? "5 minutes"
    const pageSize = config.pageSize ?? 1000

    const onError = (sql: string, queryId: string | undefined) => (cause: unknown) =>
      new QueryError({
        reason: reasonOf(cause),
        sql,
        ...(queryId !== undefined ? { queryId } : {}),
        detail: describe(cause),
        cause
      })
    const call = <A>(sql: string, queryId: string | undefined, f: (signal: AbortSignal) => Promise<A>) =>
      Retry.call(f, { onError: onError(sql, queryId), policy: config.retry })

    const stop = (sql: string, queryId: string) =>
      Effect.ignore(
        call(
          sql,
          queryId,
          (abortSignal) => athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }), { abortSignal })
        )
      )

    /**
     * Between polls: 1.5x the previous delay (the first poll waits `pollInterval`, the next 1.5x that),
     * never more than `maxPollInterval`, while the query is QUEUED or RUNNING. The schedule passes the
     * last status through, so the repeat ends with the first state that is not.
     */
    const polling = Schedule.exponential(Duration.times(first, 1.5), 1.5).pipe(
      Schedule.union(Schedule.spaced(cap)),
      Schedule.whileInput((polled: Polled) => polled.state === "QUEUED" || polled.state === "RUNNING"),
      Schedule.passthrough
    )

    /** Polls until the query leaves QUEUED/RUNNING, under the deadline (then stops it: `Timeout`). */
    const await_ = (sql: string, queryId: string): Effect.Effect<Polled, QueryError> =>
      Effect.zipRight(
        Effect.sleep(first),
        call(
          sql,
          queryId,
          (abortSignal) => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }), { abortSignal })
        ).pipe(
          Effect.map((out): Polled => ({
            state: out.QueryExecution?.Status?.State ?? "QUEUED",
            statementType: out.QueryExecution?.StatementType ?? "DML",
            status: out.QueryExecution?.Status
          })),
          Effect.repeat(polling)
        )
      ).pipe(
        Effect.timeoutFail({
          duration: deadline,
          onTimeout: () =>
            new QueryError({
              reason: "Timeout",
              sql,
              queryId,
              detail: `not finished after ${Duration.format(deadline)}`
            })
        }),
        Effect.tapErrorTag("QueryError", (e) => e.reason === "Timeout" ? stop(sql, queryId) : Effect.void)
      )

    /** One page of Athena rows (every value is text) as `Row`s, by the port's one mapping. */
    const rowsOf = (
      sql: string,
      queryId: string,
      columns: ReadonlyArray<{ name: string; type: string }>,
      rows: ReadonlyArray<AthenaRow>
    ): Effect.Effect<Array<Row>, QueryError> =>
      decodeRows(columns, rows, (r, i) => r.Data?.[i]?.VarCharValue, { sql, queryId })

    return QueryEngine.of({
      query: (sql) =>
        Effect.gen(function*() {
          // One token for every attempt of this query: a retried StartQueryExecution whose first attempt
          // reached Athena returns the same execution instead of starting a second query.
          const token = randomUUID()
          const started = yield* call(sql, undefined, (abortSignal) =>
            athena.send(
              new StartQueryExecutionCommand({
                QueryString: sql,
                ClientRequestToken: token,
                WorkGroup: config.workgroup,
                QueryExecutionContext: { Database: config.database ?? "default" },
                ...(config.outputLocation !== undefined ?
                  { ResultConfiguration: { OutputLocation: config.outputLocation } } :
                  {})
              }),
              { abortSignal }
            ))
          const queryId = started.QueryExecutionId
          if (queryId === undefined || queryId === "") {
            return yield* new QueryError({
              reason: "Failed",
              sql,
              detail: "StartQueryExecution answered without a QueryExecutionId"
            })
          }
          // Interrupted while Athena runs it (a caller's timeout, Ctrl-C): stop the query, best effort.
          const done = yield* await_(sql, queryId).pipe(Effect.onInterrupt(() => stop(sql, queryId)))
          if (done.state !== "SUCCEEDED") {
            const detail = done.status?.StateChangeReason ?? done.status?.AthenaError?.ErrorMessage ?? done.state
            return yield* Effect.fail(
              new QueryError({
                reason: done.state === "CANCELLED" ? "Cancelled" : failedReason(done.status),
                sql,
                queryId,
                detail
              })
            )
          }
          const firstPage: GetQueryResultsCommandOutput = yield* call(
            sql,
            queryId,
            (abortSignal) =>
              athena.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: pageSize }), {
                abortSignal
              })
          )
          const columns = (firstPage.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
            name: c.Name ?? c.Label ?? "",
            type: typeText(c)
          }))
          // Athena's first row of a SELECT is the header.
          const firstRows = (firstPage.ResultSet?.Rows ?? []).slice(done.statementType === "DML" ? 1 : 0)
          const rest = firstPage.NextToken === undefined ?
            Stream.empty :
            Retry.pages(
              (token, abortSignal) =>
                athena.send(
                  new GetQueryResultsCommand({
                    QueryExecutionId: queryId,
                    MaxResults: pageSize,
                    ...(token !== undefined ? { NextToken: token } : {})
                  }),
                  { abortSignal }
                ),
              (page) => page.NextToken,
              { onError: onError(sql, queryId), policy: config.retry },
              firstPage.NextToken
            ).pipe(Stream.map((page) => page.ResultSet?.Rows ?? []))
          const rows = Stream.concat(Stream.make(firstRows), rest).pipe(
            Stream.mapEffect((page) => rowsOf(sql, queryId, columns, page)),
            Stream.flattenIterables
          )
          return { columns, rows }
        }).pipe(Effect.withSpan("AthenaQueryEngine.query"))
    })
  })

/** @category layers */
export const layer = (config: AthenaQueryEngineConfig): Layer.Layer<QueryEngine, never, Athena> =>
  Layer.effect(QueryEngine, make(config))

/** @category layers */
export const layerConfig = (
  config: Config.Config.Wrap<AthenaQueryEngineConfig>
): Layer.Layer<QueryEngine, ConfigError.ConfigError, Athena> =>
  Layer.effect(QueryEngine, Effect.flatMap(Config.unwrap(config), make))
