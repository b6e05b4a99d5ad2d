/**
 * The `Catalog` port: tables, their schemas and partitions (the Glue Data Catalog on AWS, a JSON
 * document in the warehouse locally, a Map in memory).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** Column types, in the words Athena/Glue use. @category models */
export const ColumnType = Schema.Union(
  Schema.Literal("string", "date", "bigint", "int", "double", "boolean", "timestamp"),
  Schema.TemplateLiteral("decimal(", Schema.Number, ",", Schema.Number, ")")
)
/** @category models */
export type ColumnType = typeof ColumnType.Type

/** @category models */
export const Column = Schema.Struct({
  name: Schema.String,
  type: ColumnType,
  comment: Schema.optional(Schema.String)
})
/** @category models */
export type Column = typeof Column.Type

/** @category models */
export const TableDef = Schema.Struct({
  database: Schema.String,
  name: Schema.String,
  /** Prefix of the table's data in the object store, ending in `/` (`refined/b3_portfolio_refined/`). */
  location: Schema.String,
  columns: Schema.Array(Column),
  partitionKeys: Schema.Array(Column),
  comment: Schema.optional(Schema.String)
})
/** @category models */
export type TableDef = typeof TableDef.Type

/** @category models */
export const Partition = Schema.Struct({
  /** Values in the order of the table's partition keys. */
  values: Schema.Array(Schema.String),
  location: Schema.String
})
/** @category models */
export type Partition = typeof Partition.Type

/** @category errors */
export class CatalogError extends Schema.TaggedError<CatalogError>()("CatalogError", {
  reason: Schema.Literal("NoSuchTable", "AccessDenied", "Throttled", "Corrupt", "Unknown"),
  method: Schema.String,
  table: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Catalog.${this.method} failed (${this.reason})${this.table !== undefined ? ` for ${this.table}` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  get retryable(): boolean {
    return this.reason === "Throttled"
  }
}

/** @category tags */
export class Catalog extends Context.Tag("@b3-pipeline/core/Catalog")<Catalog, {
  readonly listTables: Effect.Effect<ReadonlyArray<TableDef>, CatalogError>
  readonly getTable: (name: string) => Effect.Effect<Option.Option<TableDef>, CatalogError>
  /** Creates the table or replaces its definition. */
  readonly upsertTable: (table: TableDef) => Effect.Effect<void, CatalogError>
  readonly listPartitions: (table: string) => Effect.Effect<ReadonlyArray<Partition>, CatalogError>
  /** Adds partitions, or updates the location of those that exist. */
  readonly upsertPartitions: (table: string, partitions: ReadonlyArray<Partition>) => Effect.Effect<void, CatalogError>
  /** Removes partitions by their values; absent ones are ignored. */
  readonly dropPartitions: (
    table: string,
    values: ReadonlyArray<ReadonlyArray<string>>
  ) => Effect.Effect<void, CatalogError>
}>() {}

/** @category constructors */
export const makeMemory = (): Effect.Effect<Context.Tag.Service<Catalog>> =>
  Effect.sync(() => {
    const tables = new Map<string, TableDef>()
    const partitions = new Map<string, Map<string, Partition>>()
    const noTable = (method: string, table: string) => new CatalogError({ reason: "NoSuchTable", method, table })
    return Catalog.of({
      listTables: Effect.sync(() => [...tables.values()].sort((a, b) => a.name.localeCompare(b.name))),
      getTable: (name) => Effect.sync(() => Option.fromNullable(tables.get(name))),
      upsertTable: (table) =>
        Effect.sync(() => {
          tables.set(table.name, table)
          if (!partitions.has(table.name)) partitions.set(table.name, new Map())
        }),
      listPartitions: (table) => {
        const parts = partitions.get(table)
        return parts === undefined ?
          Effect.fail(noTable("listPartitions", table)) :
          Effect.succeed([...parts.values()].sort((a, b) => a.location.localeCompare(b.location)))
      },
      upsertPartitions: (table, ps) => {
        const parts = partitions.get(table)
        if (parts === undefined) return Effect.fail(noTable("upsertPartitions", table))
        return Effect.sync(() => {
          for (const p of ps) parts.set(JSON.stringify(p.values), p)
        })
      },
      dropPartitions: (table, values) => {
        const parts = partitions.get(table)
        if (parts === undefined) return Effect.fail(noTable("dropPartitions", table))
        return Effect.sync(() => {
          for (const v of values) parts.delete(JSON.stringify(v))
        })
      }
    })
  })

/** @category layers */
export const layerMemory: Layer.Layer<Catalog> = Layer.effect(Catalog, makeMemory())
