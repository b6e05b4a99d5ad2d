/**
 * The `Catalog` port as small JSON files in the warehouse, sharded so that a change rewrites only
 * what it touches:
 *
 * - `_catalog/<table>/table.json`: the table's definition;
 * - `_catalog/<table>/partitions/v=<first value>.json`: the table's partitions whose first value
 *   (`ref_date` for the project's tables) is that value, one partition per line.
 *
 * An upsert of one date's partitions rewrites that date's file only (the former single document
 * grew to 26 MB at 250 days and was rewritten on every upsert). Every file is written atomically
 * (temp file, rename), under a lock held by this layer, so a crash leaves the old or the new file
 * and another process never sees half a file; a change that spans several shards is applied shard
 * by shard (each shard is consistent; the catalog is rebuilt by re-running the refine of a date).
 * A file that does not parse is a `Corrupt` error naming the file, and is never replaced.
 * Files and folders with a `.` in their name directly under `_catalog/` (such as the former
 * `catalog.json` document) are ignored.
 *
 * @since 0.1.0
 */
import { Catalog, CatalogError, Partition, TableDef } from "@b3-pipeline/core/Catalog"
import { sha256Hex } from "@b3-pipeline/core/ObjectStore"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { classify, describe } from "./internal/fsError.js"
import { Lru } from "./internal/lru.js"

/** The catalog's folder, relative to the warehouse. @category constants */
export const CATALOG_DIR = "_catalog"

/** @category models */
export interface Options {
  /**
   * fsync each file before its rename (default `true`: a refine writes one or two small catalog
   * files, so power-loss safety costs little here, and a torn catalog would stop every query).
   */
  readonly durable?: boolean
}

/** Decoded catalog files kept in memory (a table file and the shards of the dates last touched). */
const CACHED_FILES = 64

const TableFile = Schema.Struct({ version: Schema.Literal(1), table: TableDef })
type TableFile = typeof TableFile.Type
const ShardFile = Schema.Struct({ version: Schema.Literal(1), partitions: Schema.Array(Partition) })
type ShardFile = typeof ShardFile.Type

const decodeTable = Schema.decodeUnknownEither(Schema.parseJson(TableFile))
const decodeShard = Schema.decodeUnknownEither(Schema.parseJson(ShardFile))
// Encoded forms are the types (strings and arrays only): plain JSON.stringify, one partition a line.
const encodeTable = (table: TableDef): string => `{"version":1,"table":${JSON.stringify(table)}}\n`
const encodeShard = (partitions: ReadonlyArray<Partition>): string =>
  `{"version":1,"partitions":[\n${partitions.map((p) => JSON.stringify(p)).join(",\n")}\n]}\n`

/**
 * A file or folder name for any string: `[A-Za-z0-9_-]` kept, other UTF-16 units as `%XXXX` (so a
 * name never holds `.` or `/`), or a hash when that would be too long for a file name.
 */
const fileName = (s: string): string => {
  let out = ""
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i)
    out += /[A-Za-z0-9_-]/.test(ch) ? ch : `%${s.charCodeAt(i).toString(16).padStart(4, "0")}`
  }
  return out.length <= 180 ? out : `h-${sha256Hex(new TextEncoder().encode(s))}`
}

const partitionId = (values: ReadonlyArray<string>): string => JSON.stringify(values)
const byLocation = (a: Partition, b: Partition) => a.location < b.location ? -1 : a.location > b.location ? 1 : 0

/**
 * Builds the catalog on a warehouse folder.
 *
 * @category constructors
 */
export const make = (warehouse: string, options: Options = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = path.join(warehouse, CATALOG_DIR)
    const durable = options.durable ?? true
    const lock = yield* Effect.makeSemaphore(1)

    const tableDir = (table: string) => path.join(root, fileName(table))
    const tableFile = (table: string) => path.join(tableDir(table), "table.json")
    const shardDir = (table: string) => path.join(tableDir(table), "partitions")
    const shardFile = (table: string, values: ReadonlyArray<string>) =>
      path.join(shardDir(table), `v=${fileName(values[0] ?? "")}.json`)

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

    // Decoded files with their stat then: an unchanged file is neither re-read nor re-decoded. Bounded
    // (least recently used out first): a backfill touches each date's shard once or twice, and an
    // unbounded cache held every partition of the history in memory (70k at 120 days).
    const cache = new Lru<string, { readonly value: unknown; readonly mtime: number; readonly size: number }>(
      CACHED_FILES
    )
    const statOf = (file: string) =>
      Effect.map(
        Effect.option(fs.stat(file)),
        Option.flatMap((s) => Option.map(s.mtime, (m) => ({ mtime: m.getTime(), size: Number(s.size) })))
      )

    /** A JSON file decoded, `None` when absent, `Corrupt` naming the file when it does not decode. */
    const readJson = <A>(
      method: string,
      table: string | undefined,
      file: string,
      decode: (text: string) => { readonly _tag: "Left"; readonly left: unknown } | {
        readonly _tag: "Right"
        readonly right: A
      },
      what: string
    ) =>
      Effect.gen(function*() {
        const stat = yield* statOf(file)
        const hit = cache.get(file)
        if (
          hit !== undefined && Option.isSome(stat) && stat.value.mtime === hit.mtime && stat.value.size === hit.size
        ) {
          return Option.some(hit.value as A)
        }
        const text = yield* fs.readFileString(file).pipe(
          Effect.map(Option.some),
          Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeedNone : Effect.fail(e)),
          Effect.mapError(fail(method, table, file))
        )
        if (Option.isNone(text)) return Option.none<A>()
        const decoded = decode(text.value)
        if (decoded._tag === "Left") {
          return yield* Effect.fail(
            new CatalogError({
              reason: "Corrupt",
              method,
              ...(table !== undefined ? { table } : {}),
              detail: `${file}: not a catalog ${what}`,
              cause: decoded.left
            })
          )
        }
        if (Option.isSome(stat)) cache.set(file, { value: decoded.right, ...stat.value })
        return Option.some(decoded.right)
      })

    const writeAtomic = (method: string, table: string, file: string, text: string, value: unknown) =>
      Effect.gen(function*() {
        const dir = path.dirname(file)
        const now = yield* Clock.currentTimeMillis
        const temp = path.join(dir, `.tmp-${now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`)
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(fail(method, table, dir)))
        yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* fs.open(temp, { flag: "wx" })
          yield* handle.writeAll(new TextEncoder().encode(text))
          if (durable) yield* handle.sync
        })).pipe(
          Effect.zipRight(fs.rename(temp, file)),
          Effect.mapError(fail(method, table, file)),
          Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
        )
        const stat = yield* statOf(file)
        if (Option.isSome(stat)) cache.set(file, { value, ...stat.value })
        else cache.delete(file)
      })

    const readTable = (method: string, table: string) =>
      readJson(method, table, tableFile(table), decodeTable, "table file").pipe(
        Effect.map(Option.map((f: TableFile) => f.table))
      )

    /** The table's definition, or `NoSuchTable`. */
    const requireTable = (method: string, table: string) =>
      Effect.flatMap(readTable(method, table), (t) =>
        Option.isSome(t) ?
          Effect.succeed(t.value) :
          Effect.fail(new CatalogError({ reason: "NoSuchTable", method, table })))

    const readShard = (method: string, table: string, file: string) =>
      readJson(method, table, file, decodeShard, "partition file").pipe(
        Effect.map(Option.match({ onNone: (): ReadonlyArray<Partition> => [], onSome: (f: ShardFile) => f.partitions }))
      )

    /** Names in a folder (none when it does not exist), without temp files and other dotted names. */
    const namesIn = (method: string, table: string | undefined, dir: string, suffix: string) =>
      fs.readDirectory(dir).pipe(
        Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeed([]) : Effect.fail(e)),
        Effect.mapError(fail(method, table, dir)),
        Effect.map((names) => names.filter((n) => !n.startsWith(".") && n.endsWith(suffix)).sort())
      )

    /** Read-modify-write of the shards holding `keys`, under the lock. */
    const updateShards = (
      method: string,
      table: string,
      keys: ReadonlyArray<ReadonlyArray<string>>,
      f: (file: string, partitions: ReadonlyArray<Partition>) => ReadonlyArray<Partition>
    ) =>
      lock.withPermits(1)(Effect.gen(function*() {
        yield* requireTable(method, table)
        const files = [...new Set(keys.map((values) => shardFile(table, values)))].sort()
        for (const file of files) {
          const before = yield* readShard(method, table, file)
          const after = f(file, before)
          if (after.length === 0) {
            if (before.length > 0) {
              yield* fs.remove(file).pipe(Effect.mapError(fail(method, table, file)))
              cache.delete(file)
            }
          } else {
            yield* writeAtomic(method, table, file, encodeShard(after), { version: 1, partitions: after })
          }
        }
      }))

    return Catalog.of({
      listTables: Effect.gen(function*() {
        const names = yield* namesIn("listTables", undefined, root, "")
        const tables: Array<TableDef> = []
        for (const name of names) {
          if (name.includes(".")) continue
          const file = path.join(root, name, "table.json")
          const t = yield* readJson("listTables", undefined, file, decodeTable, "table file")
          if (Option.isSome(t)) tables.push(t.value.table)
        }
        return tables.sort((a, b) => a.name.localeCompare(b.name))
      }),
      getTable: (name) => readTable("getTable", name),
      upsertTable: (table) =>
        lock.withPermits(1)(Effect.gen(function*() {
          // Reading first: a corrupt definition fails instead of being replaced.
          yield* readTable("upsertTable", table.name)
          yield* writeAtomic("upsertTable", table.name, tableFile(table.name), encodeTable(table), {
            version: 1,
            table
          })
        })),
      listPartitions: (table) =>
        Effect.gen(function*() {
          yield* requireTable("listPartitions", table)
          const dir = shardDir(table)
          const out: Array<Partition> = []
          for (const name of yield* namesIn("listPartitions", table, dir, ".json")) {
            out.push(...(yield* readShard("listPartitions", table, path.join(dir, name))))
          }
          return out.sort(byLocation)
        }),
      upsertPartitions: (table, partitions) =>
        Effect.suspend(() => {
          // the partitions of each shard, grouped once by their first value, the shard's key (a
          // backfill's month upserts ~20k partitions over ~20 shards: no scan of all of them per
          // shard, and a shard's file name built once per shard, not once per partition)
          const byKey = new Map<string, Array<Partition>>()
          for (const p of partitions) {
            const key = p.values[0] ?? ""
            const list = byKey.get(key)
            if (list === undefined) byKey.set(key, [p])
            else list.push(p)
          }
          const byShard = new Map<string, Array<Partition>>()
          for (const [key, list] of byKey) byShard.set(shardFile(table, [key]), list)
          const keys = [...byKey.keys()].map((key) => [key])
          return updateShards("upsertPartitions", table, keys, (file, before) => {
            const map = new Map(before.map((p) => [partitionId(p.values), p]))
            for (const p of byShard.get(file) ?? []) {
              map.set(partitionId(p.values), { values: [...p.values], location: p.location })
            }
            return [...map.values()].sort(byLocation)
          })
        }),
      dropPartitions: (table, values) =>
        updateShards("dropPartitions", table, values, (_file, before) => {
          const drop = new Set(values.map(partitionId))
          return before.filter((p) => !drop.has(partitionId(p.values)))
        })
    })
  })

/**
 * The catalog of a warehouse folder.
 *
 * @category layers
 */
export const layer = (
  warehouse: string,
  options: Options = {}
): Layer.Layer<Catalog, never, FileSystem.FileSystem | Path.Path> => Layer.effect(Catalog, make(warehouse, options))
