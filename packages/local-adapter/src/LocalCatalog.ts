/**
 * The `Catalog` port as one JSON document in the warehouse: `<warehouse>/_catalog/catalog.json`.
 *
 * Every change reads the document, applies the change and writes it back atomically (temp file,
 * fsync, rename), under a lock held by this layer, so a crash leaves the old or the new document
 * and another process reading it never sees half a file. A document that does not parse is a
 * `Corrupt` error naming the file (it is never silently replaced).
 *
 * @since 0.1.0
 */
import { Catalog, CatalogError, Partition, TableDef } from "@b3-pipeline/core/Catalog"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { classify, describe } from "./internal/fsError.js"

/** Where the document lives, relative to the warehouse. @category constants */
export const CATALOG_FILE = "_catalog/catalog.json"

const Document = Schema.Struct({
  version: Schema.Literal(1),
  tables: Schema.Array(Schema.Struct({ table: TableDef, partitions: Schema.Array(Partition) }))
})
type Document = typeof Document.Type

const decode = Schema.decodeUnknownEither(Schema.parseJson(Document))
// The document's encoded form is its type (strings and arrays only): plain JSON.stringify, one
// table or partition per line, without a per-partition Schema pass (a long history holds 10^5+).
const encode = (doc: Document): string =>
  `{"version":1,"tables":[\n${
    doc.tables.map((t) =>
      `{"table":${JSON.stringify(t.table)},"partitions":[\n${
        t.partitions.map((p) => JSON.stringify(p)).join(",\n")
      }\n]}`
    ).join(",\n")
  }\n]}`

const partitionId = (values: ReadonlyArray<string>): string => JSON.stringify(values)
const byLocation = (a: Partition, b: Partition) => a.location < b.location ? -1 : a.location > b.location ? 1 : 0

/**
 * Builds the catalog on a warehouse folder.
 *
 * @category constructors
 */
export const make = (warehouse: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(warehouse, ...CATALOG_FILE.split("/"))
    const lock = yield* Effect.makeSemaphore(1)

    const fail = (method: string, table: string | undefined, where: string) => (cause: unknown) => {
      const reason = classify(cause)
      return new CatalogError({
        reason: reason === "AccessDenied" ? "AccessDenied" : "Unknown",
        method,
        ...(table !== undefined ? { table } : {}),
        detail: describe(where, cause),
        cause
      })
    }

    // The last document read or written, with the file's stat then: a long history holds hundreds of
    // thousands of partitions, so an unchanged file is neither re-read nor re-decoded.
    let cached: { readonly doc: Document; readonly mtime: number; readonly size: number } | undefined
    const statKey = Effect.map(
      Effect.option(fs.stat(file)),
      Option.flatMap((s) => Option.map(s.mtime, (m) => ({ mtime: m.getTime(), size: Number(s.size) })))
    )

    const load = (method: string, table?: string) =>
      Effect.gen(function*() {
        const stat = yield* statKey
        if (
          cached !== undefined && Option.isSome(stat) && stat.value.mtime === cached.mtime &&
          stat.value.size === cached.size
        ) {
          return cached.doc
        }
        const text = yield* fs.readFileString(file).pipe(
          Effect.map(Option.some),
          Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeedNone : Effect.fail(e)),
          Effect.mapError(fail(method, table, file))
        )
        if (Option.isNone(text)) return { version: 1, tables: [] } as Document
        const doc = decode(text.value)
        if (doc._tag === "Left") {
          return yield* Effect.fail(
            new CatalogError({
              reason: "Corrupt",
              method,
              ...(table !== undefined ? { table } : {}),
              detail: `${file}: not a catalog document`,
              cause: doc.left
            })
          )
        }
        if (Option.isSome(stat)) cached = { doc: doc.right, ...stat.value }
        return doc.right
      })

    const save = (method: string, table: string, doc: Document) =>
      Effect.gen(function*() {
        const dir = path.dirname(file)
        const temp = path.join(dir, `.tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`)
        const text = new TextEncoder().encode(encode(doc) + "\n")
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(fail(method, table, dir)))
        yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* fs.open(temp, { flag: "wx" })
          yield* handle.writeAll(text)
          yield* handle.sync
        })).pipe(
          Effect.zipRight(fs.rename(temp, file)),
          Effect.mapError(fail(method, table, file)),
          Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
        )
        const stat = yield* statKey
        cached = Option.isSome(stat) ? { doc, ...stat.value } : undefined
      })

    /** Read-modify-write of one table's entry, under the lock. */
    const update = (
      method: string,
      table: string,
      f: (entry: Document["tables"][number]) => Document["tables"][number]
    ) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const doc = yield* load(method, table)
        const index = doc.tables.findIndex((t) => t.table.name === table)
        if (index === -1) return yield* Effect.fail(new CatalogError({ reason: "NoSuchTable", method, table }))
        const tables = doc.tables.slice()
        tables[index] = f(doc.tables[index]!)
        yield* save(method, table, { version: 1, tables })
      }))

    return Catalog.of({
      listTables: load("listTables").pipe(
        Effect.map((doc) => doc.tables.map((t) => t.table).sort((a, b) => a.name.localeCompare(b.name)))
      ),
      getTable: (name) =>
        load("getTable", name).pipe(
          Effect.map((doc) => Option.fromNullable(doc.tables.find((t) => t.table.name === name)?.table))
        ),
      upsertTable: (table) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const doc = yield* load("upsertTable", table.name)
          const index = doc.tables.findIndex((t) => t.table.name === table.name)
          const tables = doc.tables.slice()
          if (index === -1) tables.push({ table, partitions: [] })
          else tables[index] = { table, partitions: doc.tables[index]!.partitions }
          yield* save("upsertTable", table.name, { version: 1, tables })
        })),
      listPartitions: (table) =>
        load("listPartitions", table).pipe(
          Effect.flatMap((doc) => {
            const entry = doc.tables.find((t) => t.table.name === table)
            return entry === undefined ?
              Effect.fail(new CatalogError({ reason: "NoSuchTable", method: "listPartitions", table })) :
              Effect.succeed(entry.partitions.slice().sort(byLocation))
          })
        ),
      upsertPartitions: (table, partitions) =>
        update("upsertPartitions", table, (entry) => {
          const map = new Map(entry.partitions.map((p) => [partitionId(p.values), p]))
          for (const p of partitions) map.set(partitionId(p.values), { values: [...p.values], location: p.location })
          return { table: entry.table, partitions: [...map.values()].sort(byLocation) }
        }),
      dropPartitions: (table, values) =>
        update("dropPartitions", table, (entry) => {
          const drop = new Set(values.map(partitionId))
          return { table: entry.table, partitions: entry.partitions.filter((p) => !drop.has(partitionId(p.values))) }
        })
    })
  })

/**
 * The catalog of a warehouse folder.
 *
 * @category layers
 */
export const layer = (warehouse: string): Layer.Layer<Catalog, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Catalog, make(warehouse))
