/**
 * Athena at the SDK boundary, in process: an `aws-sdk-client-mock` on a real `AthenaClient`
 * answering `StartQueryExecution`, `GetQueryExecution`, `GetQueryResults` and `StopQueryExecution`
 * the way Athena does, with the answers computed by another `QueryEngine` (core's memory engine
 * over a memory store and catalog, typically) and sent as Athena's wire form:
 *
 * - every value is text (`VarCharValue`), NULL is a cell without one; a timestamp has a space
 *   between date and time; column types are Athena's (`varchar`, `integer`, `bigint`, `date`,
 *   `decimal` with `Precision`/`Scale`, `double`, `boolean`, `timestamp`);
 * - a query is QUEUED, then RUNNING, then SUCCEEDED or FAILED (one step per `GetQueryExecution`);
 * - the first results page of a SELECT starts with the header row; pages hold `MaxResults` rows
 *   and a `NextToken` while rows remain;
 * - text the engine cannot parse is rejected at `StartQueryExecution` with
 *   `InvalidRequestException` (as Athena rejects a syntax error); a missing table FAILS with
 *   `TABLE_NOT_FOUND`, a missing column with `COLUMN_NOT_FOUND`, in `StateChangeReason`.
 *
 * `canned` answers given queries with given wire rows (what Athena sends for SQL the backing engine
 * cannot run, such as typed literals).
 *
 * Test support (`@b3-pipeline/aws-adapter/testing/AthenaFake`): it needs `aws-sdk-client-mock` (a
 * devDependency of this package), so use it from tests only.
 *
 * @since 0.1.0
 */
import type { ColumnInfo, QueryExecutionState, Row as AthenaRow } from "@aws-sdk/client-athena"
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  InvalidRequestException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand
} from "@aws-sdk/client-athena"
import type { QueryEngine, SqlValue } from "@b3-pipeline/core/QueryEngine"
import { mockClient } from "aws-sdk-client-mock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"

/** A result in Athena's wire form. */
export interface WireResult {
  readonly columns: ReadonlyArray<ColumnInfo>
  /** Cells as Athena sends them: text, or `undefined` for NULL. */
  readonly rows: ReadonlyArray<ReadonlyArray<string | undefined>>
}

export interface AthenaFakeOptions {
  /** Queries answered with these wire results instead of the engine's (matched on the exact text). */
  readonly canned?: ReadonlyArray<{ readonly sql: string; readonly result: WireResult }>
}

interface Execution {
  readonly sql: string
  polls: number
  stopped: boolean
  readonly outcome: Either.Either<WireResult, string>
}

/** Athena's column info for a catalog or engine type name (`decimal(7,3)`, `string`, `int`...). */
export const columnInfo = (name: string, type: string): ColumnInfo => {
  const t = type.toLowerCase()
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(t)
  if (decimal !== null) return { Name: name, Type: "decimal", Precision: Number(decimal[1]), Scale: Number(decimal[2]) }
  const athenaType = t === "string" ? "varchar" : t === "int" ? "integer" : t
  return { Name: name, Type: athenaType, Precision: 0, Scale: 0 }
}

/** A value as Athena's text. */
export const wireText = (type: string, value: SqlValue): string | undefined =>
  value === null ?
    undefined :
    type.toLowerCase().startsWith("timestamp") ?
    String(value).replace("T", " ") :
    String(value)

/** Builds the fake: `client` is what `Athena` should provide; `executions` records every query. */
export const make = (engine: Context.Tag.Service<QueryEngine>, options: AthenaFakeOptions = {}) => {
  const client = new AthenaClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const executions = new Map<string, Execution>()
  let next = 0

  const run = (sql: string): Promise<Either.Either<WireResult, { reason: string; detail: string }>> => {
    const canned = options.canned?.find((c) => c.sql === sql)
    if (canned !== undefined) return Promise.resolve(Either.right(canned.result))
    return Effect.runPromise(
      engine.query(sql).pipe(
        Effect.flatMap((result) =>
          Effect.map(Stream.runCollect(result.rows), (rows): WireResult => ({
            columns: result.columns.map((c) => columnInfo(c.name, c.type)),
            rows: Array.from(rows, (row) => result.columns.map((c) => wireText(c.type, row[c.name] ?? null)))
          }))
        ),
        Effect.mapError((e) => ({ reason: e.reason, detail: e.detail ?? e.message })),
        Effect.either
      )
    )
  }

  mock.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString?: string }) => {
    const sql = input.QueryString ?? ""
    const outcome = await run(sql)
    if (Either.isLeft(outcome) && outcome.left.reason === "Syntax" && !outcome.left.detail.startsWith("column ")) {
      throw new InvalidRequestException({
        message: `line 1:1: mismatched input. ${outcome.left.detail}`,
        $metadata: { httpStatusCode: 400 }
      })
    }
    const id = `fake-${++next}`
    executions.set(id, {
      sql,
      polls: 0,
      stopped: false,
      outcome: Either.mapLeft(outcome, (e) =>
        e.reason === "NoSuchTable" ?
          `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.default' does not exist (${e.detail})` :
          e.reason === "Syntax" ?
          `COLUMN_NOT_FOUND: line 1:1: Column cannot be resolved (${e.detail})` :
          `GENERIC_INTERNAL_ERROR: ${e.detail}`)
    })
    return { QueryExecutionId: id }
  })

  const executionOf = (id: string | undefined): Execution => {
    const execution = id === undefined ? undefined : executions.get(id)
    if (execution === undefined) {
      throw new InvalidRequestException({ message: `QueryExecution ${id} was not found`, $metadata: {} })
    }
    return execution
  }

  mock.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId?: string }) => {
    const execution = executionOf(input.QueryExecutionId)
    execution.polls++
    const state: QueryExecutionState = execution.stopped ?
      "CANCELLED" :
      execution.polls === 1 ?
      "QUEUED" :
      execution.polls === 2 ?
      "RUNNING" :
      Either.isRight(execution.outcome) ?
      "SUCCEEDED" :
      "FAILED"
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Query: execution.sql,
        StatementType: "DML",
        Status: {
          State: state,
          ...(state === "FAILED" && Either.isLeft(execution.outcome) ?
            { StateChangeReason: execution.outcome.left, AthenaError: { ErrorMessage: execution.outcome.left } } :
            {})
        }
      }
    }
  })

  mock.on(GetQueryResultsCommand).callsFake(
    async (input: { QueryExecutionId?: string; NextToken?: string; MaxResults?: number }) => {
      const execution = executionOf(input.QueryExecutionId)
      if (Either.isLeft(execution.outcome) || execution.polls < 3) {
        throw new InvalidRequestException({ message: "Query has not yet finished", $metadata: {} })
      }
      const result = execution.outcome.right
      const header: AthenaRow = { Data: result.columns.map((c) => ({ VarCharValue: c.Name ?? "" })) }
      const all: Array<AthenaRow> = [
        header,
        ...result.rows.map((cells) => ({ Data: cells.map((v) => (v === undefined ? {} : { VarCharValue: v })) }))
      ]
      const from = input.NextToken === undefined ? 0 : Number(input.NextToken)
      const to = Math.min(all.length, from + (input.MaxResults ?? 1000))
      return {
        ResultSet: { Rows: all.slice(from, to), ResultSetMetadata: { ColumnInfo: [...result.columns] } },
        ...(to < all.length ? { NextToken: String(to) } : {})
      }
    }
  )

  mock.on(StopQueryExecutionCommand).callsFake(async (input: { QueryExecutionId?: string }) => {
    executionOf(input.QueryExecutionId).stopped = true
    return {}
  })

  return { client, mock, executions }
}
