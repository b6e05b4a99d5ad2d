import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException
} from "@aws-sdk/client-athena"
import type { ColumnInfo } from "@aws-sdk/client-athena"
import { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AthenaQueryEngine from "../src/AthenaQueryEngine.js"
import { Athena } from "../src/AwsClients.js"

const setup = (overrides?: Partial<AthenaQueryEngine.AthenaQueryEngineConfig>) => {
  const client = new AthenaClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const layer = AthenaQueryEngine.layer({
    workgroup: "b3",
    outputLocation: "s3://b3-bucket/athena/",
    ...overrides
  }).pipe(Layer.provide(Layer.succeed(Athena, client)))
  return { mock, layer }
}

const state = (State: string, extra?: object) => ({
  QueryExecution: { QueryExecutionId: "q1", StatementType: "DML" as const, Status: { State, ...extra } as never }
})
const row = (...values: Array<string | undefined>) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v }))
})
const columns: Array<ColumnInfo> = [
  { Name: "ticker", Type: "varchar" },
  { Name: "weight_pct", Type: "decimal", Precision: 7, Scale: 3 },
  { Name: "theoretical_qty", Type: "bigint" },
  { Name: "ref_date", Type: "date" },
  { Name: "listed", Type: "boolean" },
  { Name: "ratio", Type: "double" },
  { Name: "loaded_at", Type: "timestamp" }
]

/** Runs the query on a fork and moves the TestClock until it is done. */
const runOnClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust("10 minutes")
    return yield* Fiber.join(fiber)
  })

const collectAll = Effect.gen(function*() {
  const result = yield* (yield* QueryEngine).query("SELECT * FROM b3_portfolio_refined")
  const rows = yield* Stream.runCollect(result.rows)
  return { columns: result.columns, rows: Chunk.toReadonlyArray(rows) }
})

describe("AthenaQueryEngine", () => {
  it.effect("polls to SUCCEEDED, skips the header, pages, and maps Athena types", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand)
      .resolvesOnce(state("QUEUED"))
      .resolvesOnce(state("RUNNING"))
      .resolvesOnce(state("RUNNING"))
      .resolves(state("SUCCEEDED"))
    mock.on(GetQueryResultsCommand, { QueryExecutionId: "q1", NextToken: undefined }).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: columns },
        Rows: [
          row("ticker", "weight_pct", "theoretical_qty", "ref_date", "listed", "ratio", "loaded_at"),
          row("PETR4", "8.123", "4567890123", "2025-04-07", "true", "0.5", "2025-04-07 21:00:00.000"),
          row("VALE3", "10.000", "9007199254740993", "2025-04-07", "false", "NaN", undefined)
        ]
      },
      NextToken: "page2"
    })
    mock.on(GetQueryResultsCommand, { QueryExecutionId: "q1", NextToken: "page2" }).resolves({
      ResultSet: { Rows: [row("ITUB4", undefined, "-1", "2025-04-08", undefined, "-2.25", "2025-04-08 09:30:00.123")] }
    })
    return Effect.gen(function*() {
      const { columns: cols, rows } = yield* runOnClock(collectAll)
      assert.deepStrictEqual(cols.map((c) => c.type), [
        "varchar",
        "decimal(7,3)",
        "bigint",
        "date",
        "boolean",
        "double",
        "timestamp"
      ])
      assert.deepStrictEqual(rows, [
        {
          ticker: "PETR4",
          weight_pct: "8.123",
          theoretical_qty: 4567890123,
          ref_date: "2025-04-07",
          listed: true,
          ratio: 0.5,
          loaded_at: "2025-04-07T21:00:00.000"
        },
        {
          ticker: "VALE3",
          weight_pct: "10.000",
          theoretical_qty: 9007199254740993n,
          ref_date: "2025-04-07",
          listed: false,
          ratio: NaN,
          loaded_at: null
        },
        {
          ticker: "ITUB4",
          weight_pct: null,
          theoretical_qty: -1,
          ref_date: "2025-04-08",
          listed: null,
          ratio: -2.25,
          loaded_at: "2025-04-08T09:30:00.123"
        }
      ])
      const { ClientRequestToken, ...start } = mock.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input
      assert.match(ClientRequestToken ?? "", /^[0-9a-f-]{36}$/)
      assert.deepStrictEqual(start, {
        QueryString: "SELECT * FROM b3_portfolio_refined",
        WorkGroup: "b3",
        QueryExecutionContext: { Database: "default" },
        ResultConfiguration: { OutputLocation: "s3://b3-bucket/athena/" }
      })
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 4)
      assert.strictEqual(mock.commandCalls(GetQueryResultsCommand).length, 2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("polling backs off: nothing is asked again before the delay has passed", () => {
    const { layer, mock } = setup({ pollInterval: "1 second", maxPollInterval: "2 seconds" })
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand).resolves(state("RUNNING"))
    return Effect.gen(function*() {
      const engine = yield* QueryEngine
      const fiber = yield* Effect.fork(engine.query("SELECT 1"))
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 0)
      yield* TestClock.adjust("1 millis") // t=1s: first poll
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 1)
      yield* TestClock.adjust("1500 millis") // t=2.5s: second poll (1.5 s later)
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 2)
      yield* TestClock.adjust("2 seconds") // t=4.5s: third (capped at 2 s)
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 3)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layer))
  })

  it.effect("FAILED carries Athena's StateChangeReason; syntax and missing tables are told apart", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand, { QueryString: "SELEC 1" }).resolves({ QueryExecutionId: "bad" })
    mock.on(StartQueryExecutionCommand, { QueryString: "SELECT * FROM nope" }).resolves({ QueryExecutionId: "nope" })
    mock.on(StartQueryExecutionCommand, { QueryString: "SELECT 1/0" }).resolves({ QueryExecutionId: "div" })
    mock.on(GetQueryExecutionCommand, { QueryExecutionId: "bad" }).resolves(
      state("FAILED", { StateChangeReason: "line 1:1: mismatched input 'SELEC'. Expecting: 'SELECT'" })
    )
    mock.on(GetQueryExecutionCommand, { QueryExecutionId: "nope" }).resolves(
      state("FAILED", {
        StateChangeReason: "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.default.nope' does not exist"
      })
    )
    mock.on(GetQueryExecutionCommand, { QueryExecutionId: "div" }).resolves(
      state("FAILED", { StateChangeReason: "DIVISION_BY_ZERO: Division by zero", AthenaError: { ErrorCategory: 2 } })
    )
    return Effect.gen(function*() {
      const engine = yield* QueryEngine
      const syntax = yield* runOnClock(Effect.flip(engine.query("SELEC 1")))
      assert.strictEqual(syntax.reason, "Syntax")
      assert.strictEqual(syntax.queryId, "bad")
      assert.include(syntax.message, "mismatched input 'SELEC'")
      const missing = yield* runOnClock(Effect.flip(engine.query("SELECT * FROM nope")))
      assert.strictEqual(missing.reason, "NoSuchTable")
      const failed = yield* runOnClock(Effect.flip(engine.query("SELECT 1/0")))
      assert.strictEqual(failed.reason, "Failed")
      assert.strictEqual(failed.detail, "DIVISION_BY_ZERO: Division by zero")
      assert.strictEqual(failed.sql, "SELECT 1/0")
    }).pipe(Effect.provide(layer))
  })

  it.effect("CANCELLED is Cancelled", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand).resolves(state("CANCELLED", { StateChangeReason: "Query was cancelled by user" }))
    return Effect.gen(function*() {
      const error = yield* runOnClock(Effect.flip((yield* QueryEngine).query("SELECT 1")))
      assert.strictEqual(error.reason, "Cancelled")
      assert.strictEqual(error.detail, "Query was cancelled by user")
    }).pipe(Effect.provide(layer))
  })

  it.effect("throttling on start is retried, then the query runs", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand)
      .rejectsOnce(new TooManyRequestsException({ message: "Rate exceeded", $metadata: {} }))
      .rejectsOnce(new TooManyRequestsException({ message: "Rate exceeded", $metadata: {} }))
      .resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand).resolves(state("SUCCEEDED"))
    mock.on(GetQueryResultsCommand).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: "n", Type: "integer" }] }, Rows: [row("n"), row("42")] }
    })
    return Effect.gen(function*() {
      const result = yield* runOnClock(
        Effect.flatMap(QueryEngine, (e) => e.query("SELECT 42 AS n")).pipe(
          Effect.flatMap((r) => Stream.runCollect(r.rows))
        )
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(result), [{ n: 42 }])
      const starts = mock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken)
      assert.strictEqual(starts.length, 3)
      // every attempt carries the same token: Athena runs a retried start once
      assert.strictEqual(new Set(starts).size, 1)
      assert.isDefined(starts[0])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a query interrupted while it runs is stopped (StopQueryExecution)", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q9" })
    mock.on(GetQueryExecutionCommand).resolves(state("RUNNING"))
    mock.on(StopQueryExecutionCommand).resolves({})
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flatMap(QueryEngine, (e) => e.query("SELECT 1")))
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(mock.commandCalls(StopQueryExecutionCommand).length, 0)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(mock.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input), [
        { QueryExecutionId: "q9" }
      ])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a query past its deadline is stopped and fails with Timeout", () => {
    const { layer, mock } = setup({ deadline: "30 seconds" })
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "slow" })
    mock.on(GetQueryExecutionCommand).resolves(state("RUNNING"))
    mock.on(StopQueryExecutionCommand).resolves({})
    return Effect.gen(function*() {
      const error = yield* runOnClock(Effect.flip((yield* QueryEngine).query("SELECT slow")))
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.queryId, "slow")
      assert.deepStrictEqual(mock.commandCalls(StopQueryExecutionCommand)[0]!.args[0].input, {
        QueryExecutionId: "slow"
      })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a value that does not fit its type is a BadRow error naming it", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand).resolves(state("SUCCEEDED"))
    mock.on(GetQueryResultsCommand).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: "q", Type: "bigint" }] }, Rows: [row("q"), row("12x")] }
    })
    return Effect.gen(function*() {
      const error = yield* runOnClock(Effect.flip(collectAll))
      assert.strictEqual(error.reason, "BadRow")
      assert.include(error.message, "12x")
    }).pipe(Effect.provide(layer))
  })

  it.effect("non-DML results (SHOW TABLES) have no header row to skip", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q1" })
    mock.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { QueryExecutionId: "q1", StatementType: "UTILITY", Status: { State: "SUCCEEDED" } }
    })
    mock.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: "tab_name", Type: "string" }] },
        Rows: [row("b3_portfolio_raw"), row("b3_portfolio_refined")]
      }
    })
    return Effect.gen(function*() {
      const { rows } = yield* runOnClock(collectAll)
      assert.deepStrictEqual(rows, [{ tab_name: "b3_portfolio_raw" }, { tab_name: "b3_portfolio_refined" }])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a start without a QueryExecutionId fails typed instead of polling an empty id", () => {
    const { layer, mock } = setup()
    mock.on(StartQueryExecutionCommand).resolves({})
    return Effect.gen(function*() {
      const error = yield* Effect.flip(runOnClock(collectAll))
      assert.strictEqual(error.reason, "Failed")
      assert.include(error.message, "QueryExecutionId")
      assert.strictEqual(mock.commandCalls(GetQueryExecutionCommand).length, 0)
    }).pipe(Effect.provide(layer))
  })
})
