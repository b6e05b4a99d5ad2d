import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
  ThrottlingException,
  UpdatePartitionCommand,
  UpdateTableCommand
} from "@aws-sdk/client-glue"
import { Catalog } from "@b3-pipeline/core/Catalog"
import * as Tables from "@b3-pipeline/core/Tables"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { Glue } from "../src/AwsClients.js"
import * as GlueCatalog from "../src/GlueCatalog.js"

const BUCKET = "b3-bucket"

const setup = () => {
  const client = new GlueClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const layer = GlueCatalog.layer({ bucket: BUCKET }).pipe(Layer.provide(Layer.succeed(Glue, client)))
  return { mock, layer }
}

const notFound = () => new EntityNotFoundException({ message: "Table not found", $metadata: {} })
const refinedGlue = () => ({ ...GlueCatalog.tableInput(BUCKET, Tables.refinedTable), DatabaseName: "default" })

describe("GlueCatalog", () => {
  it.effect("upsertTable creates a Hive Parquet table with Tables.ts columns and partition keys", () => {
    const { layer, mock } = setup()
    mock.on(GetTableCommand).rejects(notFound())
    mock.on(CreateTableCommand).resolves({})
    return Effect.gen(function*() {
      yield* (yield* Catalog).upsertTable(Tables.refinedTable)
      const input = mock.commandCalls(CreateTableCommand)[0]!.args[0].input
      assert.strictEqual(input.DatabaseName, "default")
      const t = input.TableInput!
      assert.strictEqual(t.Name, "b3_portfolio_refined")
      assert.strictEqual(t.TableType, "EXTERNAL_TABLE")
      assert.strictEqual(t.StorageDescriptor!.Location, "s3://b3-bucket/refined/b3_portfolio_refined/")
      assert.strictEqual(
        t.StorageDescriptor!.SerdeInfo!.SerializationLibrary,
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      )
      assert.strictEqual(
        t.StorageDescriptor!.InputFormat,
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
      )
      assert.deepStrictEqual(
        t.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type]),
        Tables.refinedColumns.map((c) => [c.name, c.type])
      )
      assert.deepStrictEqual(t.PartitionKeys!.map((c) => [c.Name, c.Type]), [["ref_date", "date"], [
        "ticker",
        "string"
      ]])
      assert.strictEqual(mock.commandCalls(UpdateTableCommand).length, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("upsertTable updates an existing table; getTable round-trips the definition", () => {
    const { layer, mock } = setup()
    mock.on(GetTableCommand).resolves({ Table: refinedGlue() })
    mock.on(UpdateTableCommand).resolves({})
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      yield* catalog.upsertTable(Tables.refinedTable)
      assert.strictEqual(mock.commandCalls(UpdateTableCommand).length, 1)
      assert.strictEqual(mock.commandCalls(CreateTableCommand).length, 0)
      const def = Option.getOrThrow(yield* catalog.getTable(Tables.REFINED_TABLE))
      assert.deepStrictEqual(def, Tables.refinedTable)
    }).pipe(Effect.provide(layer))
  })

  it.effect("listTables pages, skips tables it cannot type, and retries throttling", () => {
    const { layer, mock } = setup()
    mock.on(GetTablesCommand)
      .rejectsOnce(new ThrottlingException({ message: "Rate exceeded", $metadata: {} }))
      .resolvesOnce({ TableList: [refinedGlue()], NextToken: "p2" })
      .resolvesOnce({
        TableList: [
          { ...GlueCatalog.tableInput(BUCKET, Tables.rawTable), DatabaseName: "default" },
          { Name: "other", StorageDescriptor: { Columns: [{ Name: "tags", Type: "array<string>" }] } }
        ]
      })
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* Catalog).listTables)
      yield* TestClock.adjust("10 seconds")
      const tables = yield* Fiber.join(fiber)
      assert.deepStrictEqual(tables.map((t) => t.name), ["b3_portfolio_raw", "b3_portfolio_refined"])
      assert.deepStrictEqual(tables[0], Tables.rawTable)
      assert.strictEqual(mock.commandCalls(GetTablesCommand)[2]!.args[0].input.NextToken, "p2")
    }).pipe(Effect.provide(layer))
  })

  it.effect("getTable: absent is None, an untypeable table is Corrupt naming the column", () => {
    const { layer, mock } = setup()
    mock.on(GetTableCommand, { Name: "missing" }).rejects(notFound())
    mock.on(GetTableCommand, { Name: "other" }).resolves({
      Table: { Name: "other", StorageDescriptor: { Columns: [{ Name: "tags", Type: "array<string>" }] } }
    })
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      assert.isTrue(Option.isNone(yield* catalog.getTable("missing")))
      const error = yield* Effect.flip(catalog.getTable("other"))
      assert.strictEqual(error.reason, "Corrupt")
      assert.include(error.message, "tags")
    }).pipe(Effect.provide(layer))
  })

  it.effect("listPartitions pages and strips the bucket; a missing table is NoSuchTable", () => {
    const { layer, mock } = setup()
    const loc = (d: string, t: string) => `s3://b3-bucket/${Tables.refinedPartitionPrefix(d as never, t)}`
    mock.on(GetPartitionsCommand, { TableName: Tables.REFINED_TABLE })
      .resolvesOnce({
        Partitions: [{ Values: ["2025-04-08", "VALE3"], StorageDescriptor: { Location: loc("2025-04-08", "VALE3") } }],
        NextToken: "n"
      })
      .resolvesOnce({
        Partitions: [{ Values: ["2025-04-07", "PETR4"], StorageDescriptor: { Location: loc("2025-04-07", "PETR4") } }]
      })
    mock.on(GetPartitionsCommand, { TableName: "nope" }).rejects(notFound())
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      const parts = yield* catalog.listPartitions(Tables.REFINED_TABLE)
      assert.deepStrictEqual(parts, [
        { values: ["2025-04-07", "PETR4"], location: "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=PETR4/" },
        { values: ["2025-04-08", "VALE3"], location: "refined/b3_portfolio_refined/ref_date=2025-04-08/ticker=VALE3/" }
      ])
      const error = yield* Effect.flip(catalog.listPartitions("nope"))
      assert.strictEqual(error.reason, "NoSuchTable")
      assert.strictEqual(error.table, "nope")
    }).pipe(Effect.provide(layer))
  })

  it.effect("upsertPartitions batches by 100 and updates the ones that exist", () => {
    const { layer, mock } = setup()
    mock.on(GetTableCommand).resolves({ Table: refinedGlue() })
    const partitions = Array.from({ length: 150 }, (_, i) => {
      const ticker = `T${String(i).padStart(3, "0")}3`
      return { values: ["2025-04-07", ticker], location: Tables.refinedPartitionPrefix("2025-04-07" as never, ticker) }
    })
    mock.on(BatchCreatePartitionCommand).resolvesOnce({
      Errors: [{
        PartitionValues: ["2025-04-07", "T0053"],
        ErrorDetail: { ErrorCode: "AlreadyExistsException", ErrorMessage: "exists" }
      }]
    }).resolves({})
    mock.on(UpdatePartitionCommand).resolves({})
    return Effect.gen(function*() {
      yield* (yield* Catalog).upsertPartitions(Tables.REFINED_TABLE, partitions)
      const batches = mock.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.PartitionInputList!)
      assert.deepStrictEqual(batches.map((b) => b.length), [100, 50])
      const first = batches[0]![0]!
      assert.strictEqual(
        first.StorageDescriptor!.Location,
        "s3://b3-bucket/refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=T0003/"
      )
      assert.strictEqual(
        first.StorageDescriptor!.SerdeInfo!.SerializationLibrary,
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      )
      const updates = mock.commandCalls(UpdatePartitionCommand).map((c) => c.args[0].input)
      assert.strictEqual(updates.length, 1)
      assert.deepStrictEqual(updates[0]!.PartitionValueList, ["2025-04-07", "T0053"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("upsertPartitions fails on other batch errors, naming the partition", () => {
    const { layer, mock } = setup()
    mock.on(GetTableCommand).resolves({ Table: refinedGlue() })
    mock.on(BatchCreatePartitionCommand).resolves({
      Errors: [{
        PartitionValues: ["2025-04-07", "X"],
        ErrorDetail: { ErrorCode: "InvalidInputException", ErrorMessage: "bad" }
      }]
    })
    return Effect.gen(function*() {
      const result = yield* Effect.either(
        (yield* Catalog).upsertPartitions(Tables.REFINED_TABLE, [{
          values: ["2025-04-07", "X"],
          location: "refined/x/"
        }])
      )
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.include(result.left.message, "InvalidInputException")
    }).pipe(Effect.provide(layer))
  })

  it.effect("dropPartitions batches by 25 and ignores absent partitions", () => {
    const { layer, mock } = setup()
    mock.on(BatchDeletePartitionCommand).resolves({
      Errors: [{ PartitionValues: ["2025-04-07", "GONE3"], ErrorDetail: { ErrorCode: "EntityNotFoundException" } }]
    })
    return Effect.gen(function*() {
      const values = Array.from({ length: 30 }, (_, i) => ["2025-04-07", `T${i}`])
      yield* (yield* Catalog).dropPartitions(Tables.REFINED_TABLE, values)
      const calls = mock.commandCalls(BatchDeletePartitionCommand).map((c) =>
        c.args[0].input.PartitionsToDelete!.length
      )
      assert.deepStrictEqual(calls, [25, 5])
    }).pipe(Effect.provide(layer))
  })
})
