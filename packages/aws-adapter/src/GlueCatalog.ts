/**
 * `Catalog` on the AWS Glue Data Catalog.
 *
 * Tables are Hive-style external Parquet tables (`ParquetHiveSerDe`, `MapredParquet*Format`) whose
 * location is `s3://<bucket>/<prefix>`; the port speaks in store prefixes (`refined/x/`), this
 * adapter adds and strips the `s3://<bucket>/`. Partitions copy the table's storage descriptor with
 * their own location.
 *
 * Tables in the database that this project cannot describe (a column type outside `ColumnType`)
 * are left out of `listTables`; `getTable` of one fails with `Corrupt`, naming the column.
 *
 * @since 0.1.0
 */
import type { Column as GlueColumn, PartitionInput, StorageDescriptor, Table, TableInput } from "@aws-sdk/client-glue"
import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  CreateTableCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  UpdatePartitionCommand,
  UpdateTableCommand
} from "@aws-sdk/client-glue"
import { Catalog, CatalogError, ColumnType } from "@b3-pipeline/core/Catalog"
import type { Column, Partition, TableDef } from "@b3-pipeline/core/Catalog"
import * as Tables from "@b3-pipeline/core/Tables"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Glue } from "./ClientGlue.js"
import { classify, describe } from "./internal/awsError.js"
import * as Retry from "./internal/retry.js"

/** @category models */
export interface GlueCatalogConfig {
  /** The bucket table and partition locations live in. */
  readonly bucket: string
  /** The Glue database (`default`). */
  readonly database?: string | undefined
  readonly retry?: Retry.RetryPolicy | undefined
}

/** Glue's limits per batch call. */
const CREATE_BATCH = 100
const DELETE_BATCH = 25

const PARQUET = {
  InputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
  OutputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
  SerdeInfo: {
    SerializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    Parameters: { "serialization.format": "1" }
  }
} as const

const reasonOf = (cause: unknown): CatalogError["reason"] => {
  switch (classify(cause)) {
    case "NotFound":
      return "NoSuchTable"
    case "Throttled":
    case "Unavailable":
      return "Throttled"
    case "AccessDenied":
      return "AccessDenied"
    default:
      return "Unknown"
  }
}

const decodeType = Schema.decodeUnknownEither(ColumnType)

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** The Glue `TableInput` of a table definition. @category mapping */
export const tableInput = (bucket: string, table: TableDef): TableInput => ({
  Name: table.name,
  TableType: "EXTERNAL_TABLE",
  ...(table.comment !== undefined ? { Description: table.comment } : {}),
  Parameters: { EXTERNAL: "TRUE", classification: "parquet", "parquet.compression": "ZSTD" },
  StorageDescriptor: {
    Columns: table.columns.map(glueColumn),
    Location: s3Uri(bucket, table.location),
    ...PARQUET,
    SerdeInfo: { ...PARQUET.SerdeInfo, Parameters: { ...PARQUET.SerdeInfo.Parameters } },
    Compressed: false,
    StoredAsSubDirectories: false
  },
  PartitionKeys: table.partitionKeys.map(glueColumn)
})

const glueColumn = (c: Column): GlueColumn => ({
  Name: c.name,
  Type: c.type,
  ...(c.comment !== undefined ? { Comment: c.comment } : {})
})

const s3Uri = (bucket: string, location: string) =>
  location.startsWith("s3://") ? location : `s3://${bucket}/${location.replace(/^\/+/, "")}`

const fromUri = (bucket: string, uri: string | undefined): string => {
  if (uri === undefined) return ""
  const own = `s3://${bucket}/`
  const inBucket = uri.startsWith(own) ? uri.slice(own.length) : uri
  return inBucket === "" || inBucket.endsWith("/") ? inBucket : `${inBucket}/`
}

/** A table definition from Glue's, or the name of the first column this project cannot type. @category mapping */
export const tableDefOf = (bucket: string, database: string, table: Table): Either.Either<TableDef, string> => {
  const columns = (cs: ReadonlyArray<GlueColumn> | undefined): Either.Either<Array<Column>, string> => {
    const out: Array<Column> = []
    for (const c of cs ?? []) {
      const type = decodeType((c.Type ?? "").replace(/\s+/g, ""))
      if (Either.isLeft(type)) return Either.left(`column ${c.Name} has type ${JSON.stringify(c.Type)}`)
      out.push({ name: c.Name ?? "", type: type.right, ...(c.Comment !== undefined ? { comment: c.Comment } : {}) })
    }
    return Either.right(out)
  }
  return Either.gen(function*() {
    const cols = yield* columns(table.StorageDescriptor?.Columns)
    const keys = yield* columns(table.PartitionKeys)
    return {
      database: table.DatabaseName ?? database,
      name: table.Name ?? "",
      location: fromUri(bucket, table.StorageDescriptor?.Location),
      columns: cols,
      partitionKeys: keys,
      ...(table.Description !== undefined ? { comment: table.Description } : {})
    }
  })
}

const make = (config: GlueCatalogConfig) =>
  Effect.gen(function*() {
    const glue = yield* Glue
    const bucket = config.bucket
    const database = config.database ?? Tables.DATABASE
    const fail = (method: string, table?: string) => (cause: unknown) =>
      new CatalogError({
        reason: reasonOf(cause),
        method,
        ...(table !== undefined ? { table } : {}),
        detail: describe(cause),
        cause
      })
    const call = <A>(method: string, table: string | undefined, f: (signal: AbortSignal) => Promise<A>) =>
      Retry.call(f, { onError: fail(method, table), policy: config.retry })

    const getTableRaw = (method: string, name: string): Effect.Effect<Option.Option<Table>, CatalogError> =>
      call(method, name, (abortSignal) =>
        glue.send(new GetTableCommand({ DatabaseName: database, Name: name }), { abortSignal })).pipe(
          Effect.map((out) =>
            Option.fromNullable(out.Table)
          ),
          Effect.catchIf((e) => e.reason === "NoSuchTable", () => Effect.succeedNone)
        )

    const requireTable = (method: string, name: string) =>
      getTableRaw(method, name).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new CatalogError({ reason: "NoSuchTable", method, table: name })),
          onSome: Effect.succeed
        }))
      )

    const partitionInput = (sd: StorageDescriptor | undefined, p: Partition): PartitionInput => ({
      Values: [...p.values],
      StorageDescriptor: { ...sd, Location: s3Uri(bucket, p.location) }
    })

    return Catalog.of({
      listTables: Retry.pages(
        (token, abortSignal) =>
          glue.send(
            new GetTablesCommand({ DatabaseName: database, ...(token !== undefined ? { NextToken: token } : {}) }),
            { abortSignal }
          ),
        (page) => page.NextToken,
        { onError: fail("listTables"), policy: config.retry }
      ).pipe(
        Stream.mapConcat((page) => page.TableList ?? []),
        Stream.filterMap((t) => Either.getRight(tableDefOf(bucket, database, t))),
        Stream.runCollect,
        Effect.map((c) => Chunk.toReadonlyArray(c).slice().sort((a, b) => a.name.localeCompare(b.name))),
        Effect.withSpan("GlueCatalog.listTables")
      ),
      getTable: (name) =>
        getTableRaw("getTable", name).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (t) =>
              Either.match(tableDefOf(bucket, database, t), {
                onLeft: (detail) =>
                  Effect.fail(new CatalogError({ reason: "Corrupt", method: "getTable", table: name, detail })),
                onRight: (def) => Effect.succeed(Option.some(def))
              })
          }))
        ),
      upsertTable: (table) =>
        Effect.gen(function*() {
          const input = tableInput(bucket, table)
          const exists = Option.isSome(yield* getTableRaw("upsertTable", table.name))
          if (exists) {
            yield* call("upsertTable", table.name, (abortSignal) =>
              glue.send(new UpdateTableCommand({ DatabaseName: database, TableInput: input }), { abortSignal }))
          } else {
            yield* call("upsertTable", table.name, (abortSignal) =>
              glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: input }), { abortSignal }))
          }
        }).pipe(Effect.withSpan("GlueCatalog.upsertTable", { attributes: { table: table.name } })),
      listPartitions: (table) =>
        Retry.pages(
          (token, abortSignal) =>
            glue.send(
              new GetPartitionsCommand({
                DatabaseName: database,
                TableName: table,
                ...(token !== undefined ? { NextToken: token } : {})
              }),
              { abortSignal }
            ),
          (page) => page.NextToken,
          { onError: fail("listPartitions", table), policy: config.retry }
        ).pipe(
          Stream.mapConcat((page) => page.Partitions ?? []),
          Stream.map((p): Partition => ({
            values: p.Values ?? [],
            location: fromUri(bucket, p.StorageDescriptor?.Location)
          })),
          Stream.runCollect,
          Effect.map((c) => Chunk.toReadonlyArray(c).slice().sort((a, b) => a.location.localeCompare(b.location))),
          Effect.withSpan("GlueCatalog.listPartitions", { attributes: { table } })
        ),
      upsertPartitions: (table, partitions) =>
        Effect.gen(function*() {
          if (partitions.length === 0) return yield* requireTable("upsertPartitions", table).pipe(Effect.asVoid)
          const sd = (yield* requireTable("upsertPartitions", table)).StorageDescriptor
          for (const batch of chunksOf(partitions, CREATE_BATCH)) {
            const out = yield* call("upsertPartitions", table, (abortSignal) =>
              glue.send(
                new BatchCreatePartitionCommand({
                  DatabaseName: database,
                  TableName: table,
                  PartitionInputList: batch.map((p) => partitionInput(sd, p))
                }),
                { abortSignal }
              ))
            const existing: Array<Partition> = []
            for (const e of out.Errors ?? []) {
              const values = e.PartitionValues ?? []
              const p = batch.find((b) =>
                b.values.length === values.length && b.values.every((v, i) => v === values[i])
              )
              if (e.ErrorDetail?.ErrorCode === "AlreadyExistsException" && p !== undefined) {
                existing.push(p)
              } else {
                return yield* Effect.fail(
                  new CatalogError({
                    reason: reasonOf({ name: e.ErrorDetail?.ErrorCode }),
                    method: "upsertPartitions",
                    table,
                    detail: `partition ${
                      JSON.stringify(values)
                    }: ${e.ErrorDetail?.ErrorCode}: ${e.ErrorDetail?.ErrorMessage}`
                  })
                )
              }
            }
            yield* Effect.forEach(existing, (p) =>
              call("upsertPartitions", table, (abortSignal) =>
                glue.send(
                  new UpdatePartitionCommand({
                    DatabaseName: database,
                    TableName: table,
                    PartitionValueList: [...p.values],
                    PartitionInput: partitionInput(sd, p)
                  }),
                  { abortSignal }
                )), { concurrency: 4, discard: true })
          }
        }).pipe(Effect.withSpan("GlueCatalog.upsertPartitions", { attributes: { table, count: partitions.length } })),
      dropPartitions: (table, values) =>
        Effect.gen(function*() {
          if (values.length === 0) return yield* requireTable("dropPartitions", table).pipe(Effect.asVoid)
          for (const batch of chunksOf(values, DELETE_BATCH)) {
            const out = yield* call("dropPartitions", table, (abortSignal) =>
              glue.send(
                new BatchDeletePartitionCommand({
                  DatabaseName: database,
                  TableName: table,
                  PartitionsToDelete: batch.map((v) => ({ Values: [...v] }))
                }),
                { abortSignal }
              ))
            const bad = (out.Errors ?? []).find((e) => e.ErrorDetail?.ErrorCode !== "EntityNotFoundException")
            if (bad !== undefined) {
              return yield* Effect.fail(
                new CatalogError({
                  reason: reasonOf({ name: bad.ErrorDetail?.ErrorCode }),
                  method: "dropPartitions",
                  table,
                  detail: `partition ${
                    JSON.stringify(bad.PartitionValues)
                  }: ${bad.ErrorDetail?.ErrorCode}: ${bad.ErrorDetail?.ErrorMessage}`
                })
              )
            }
          }
        }).pipe(Effect.withSpan("GlueCatalog.dropPartitions", { attributes: { table, count: values.length } }))
    })
  })

/** @category layers */
export const layer = (config: GlueCatalogConfig): Layer.Layer<Catalog, never, Glue> =>
  Layer.effect(Catalog, make(config))

/** @category layers */
export const layerConfig = (
  config: Config.Config.Wrap<GlueCatalogConfig>
): Layer.Layer<Catalog, ConfigError.ConfigError, Glue> =>
  Layer.effect(Catalog, Effect.flatMap(Config.unwrap(config), make))
