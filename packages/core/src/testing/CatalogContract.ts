/**
 * The `Catalog` contract, written once and run against every backend (memory here; the local
 * JSON catalog and Glue in their packages): `suite("local", layer)`.
 *
 * Tests use fresh table names, so a backend shared across tests (or persistent) is fine.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FC from "effect/FastCheck"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { TableDef } from "../Catalog.js"
import { Catalog } from "../Catalog.js"

let counter = 0
const byLocation = <A extends { readonly location: string }>(xs: ReadonlyArray<A>): Array<A> =>
  [...xs].sort((x, y) => (x.location < y.location ? -1 : x.location > y.location ? 1 : 0))

const freshName = () =>
  `contract_${Date.now().toString(36)}_${(counter++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A table shaped like the project's (string, decimal, bigint, date columns; two partition keys). */
export const sampleTable = (name: string, database = "default"): TableDef => ({
  database,
  name,
  location: `contract/${name}/`,
  columns: [
    { name: "cod", type: "string", comment: "ticker" },
    { name: "part", type: "decimal(7,3)" },
    { name: "theorical_qty", type: "bigint" },
    { name: "period_start", type: "date" },
    { name: "row_number", type: "int" }
  ],
  partitionKeys: [{ name: "ref_date", type: "date" }, { name: "index_code", type: "string" }],
  comment: "contract test table"
})

const partition = (table: TableDef, date: string, index: string) => ({
  values: [date, index],
  location: `${table.location}ref_date=${date}/index_code=${index}/`
})

/** Options for backends with limits. */
export interface SuiteOptions {
  /** fast-check runs per property (default 20: remote catalogs are slow). */
  readonly numRuns?: number
}

/** Runs the Catalog contract against `layer` (built once for the suite). */
export const suite = <E>(name: string, layer: Layer.Layer<Catalog, E>, options: SuiteOptions = {}) => {
  describe(`Catalog contract (${name})`, () => {
    it.layer(layer, { timeout: "60 seconds" })((it) => {
      it.effect("an unknown table is None, and its partitions fail with NoSuchTable", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const name = freshName()
          assert.isTrue(Option.isNone(yield* catalog.getTable(name)))
          const list = yield* Effect.flip(catalog.listPartitions(name))
          assert.strictEqual(list.reason, "NoSuchTable")
          const up = yield* Effect.flip(
            catalog.upsertPartitions(name, [{ values: ["2025-01-02", "IBOV"], location: "x/" }])
          )
          assert.strictEqual(up.reason, "NoSuchTable")
          const drop = yield* Effect.flip(catalog.dropPartitions(name, [["2025-01-02", "IBOV"]]))
          assert.strictEqual(drop.reason, "NoSuchTable")
        }))

      it.effect("upsertTable creates a table that getTable and listTables return", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const table = sampleTable(freshName())
          yield* catalog.upsertTable(table)
          assert.deepStrictEqual(Option.getOrThrow(yield* catalog.getTable(table.name)), table)
          const all = yield* catalog.listTables
          assert.deepStrictEqual(all.find((t) => t.name === table.name), table)
          assert.deepStrictEqual(yield* catalog.listPartitions(table.name), [])
        }))

      it.effect("upsertTable replaces a definition and keeps its partitions", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const table = sampleTable(freshName())
          yield* catalog.upsertTable(table)
          const p = partition(table, "2025-01-02", "IBOV")
          yield* catalog.upsertPartitions(table.name, [p])
          const changed: TableDef = {
            ...table,
            columns: [...table.columns, { name: "extra", type: "string" }],
            comment: "changed"
          }
          yield* catalog.upsertTable(changed)
          assert.deepStrictEqual(Option.getOrThrow(yield* catalog.getTable(table.name)), changed)
          assert.deepStrictEqual(yield* catalog.listPartitions(table.name), [p])
        }))

      it.effect("listTables is sorted by name", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const base = freshName()
          for (const suffix of ["c", "a", "b"]) yield* catalog.upsertTable(sampleTable(`${base}_${suffix}`))
          const names = (yield* catalog.listTables).map((t) => t.name).filter((n) => n.startsWith(base))
          assert.deepStrictEqual(names, [`${base}_a`, `${base}_b`, `${base}_c`])
        }))

      it.effect("partitions: add, update the location, drop (absent ones ignored)", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const table = sampleTable(freshName())
          yield* catalog.upsertTable(table)
          const a = partition(table, "2025-01-03", "SMLL")
          const b = partition(table, "2025-01-02", "IBOV")
          const c = partition(table, "2025-01-03", "IBOV")
          yield* catalog.upsertPartitions(table.name, [a, b])
          yield* catalog.upsertPartitions(table.name, [c])
          assert.deepStrictEqual(byLocation(yield* catalog.listPartitions(table.name)), [b, c, a])
          // the same values again: the location is updated, no duplicate appears
          const moved = { values: b.values, location: `${table.location}moved/` }
          yield* catalog.upsertPartitions(table.name, [moved])
          assert.deepStrictEqual(byLocation(yield* catalog.listPartitions(table.name)), byLocation([c, a, moved]))
          yield* catalog.dropPartitions(table.name, [a.values, ["1999-01-01", "NONE"]])
          assert.deepStrictEqual(byLocation(yield* catalog.listPartitions(table.name)), byLocation([c, moved]))
          yield* catalog.dropPartitions(table.name, [])
          assert.deepStrictEqual(byLocation(yield* catalog.listPartitions(table.name)), byLocation([c, moved]))
        }))

      it.effect("tables keep their partitions apart", () =>
        Effect.gen(function*() {
          const catalog = yield* Catalog
          const one = sampleTable(freshName())
          const two = sampleTable(freshName())
          yield* catalog.upsertTable(one)
          yield* catalog.upsertTable(two)
          yield* catalog.upsertPartitions(one.name, [partition(one, "2025-02-03", "IBOV")])
          assert.deepStrictEqual(yield* catalog.listPartitions(two.name), [])
          assert.strictEqual((yield* catalog.listPartitions(one.name)).length, 1)
        }))

      it.effect.prop(
        "any set of partitions upserted is listed back once each (order free)",
        {
          parts: FC.uniqueArray(
            FC.tuple(
              FC.integer({ min: 0, max: 3650 }),
              FC.constantFrom("IBOV", "IBXX", "SMLL", "IFIX", "ICO2")
            ),
            { maxLength: 12, selector: ([d, i]) => `${d}|${i}` }
          )
        },
        ({ parts }) =>
          Effect.gen(function*() {
            const catalog = yield* Catalog
            const table = sampleTable(freshName())
            yield* catalog.upsertTable(table)
            const ps = parts.map(([day, index]) =>
              partition(table, new Date(Date.UTC(2020, 0, 1) + day * 86_400_000).toISOString().slice(0, 10), index)
            )
            // in two batches, the second overlapping the first
            yield* catalog.upsertPartitions(table.name, ps.slice(0, Math.ceil(ps.length / 2)))
            yield* catalog.upsertPartitions(table.name, ps)
            const listed = yield* catalog.listPartitions(table.name)
            assert.deepStrictEqual(byLocation(listed), byLocation(ps))
          }),
        { fastCheck: { numRuns: options.numRuns ?? 20 } }
      )
    })
  })
}
