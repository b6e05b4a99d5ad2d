import { Catalog } from "@b3-pipeline/core/Catalog"
import { rawTable, refinedTable } from "@b3-pipeline/core/Tables"
import { suite } from "@b3-pipeline/core/testing/CatalogContract"
import { NodeContext } from "@effect/platform-node"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import * as LocalCatalog from "../src/LocalCatalog.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

suite(
  "local JSON",
  Layer.unwrapScoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return LocalCatalog.layer(yield* fs.makeTempDirectoryScoped())
  })).pipe(Layer.provide(NodeContext.layer))
)

const catalogAt = (warehouse: string) => LocalCatalog.layer(warehouse).pipe(Layer.provide(NodeContext.layer))

describe("LocalCatalog", () => {
  it.effect("persists one file per table and per date under _catalog/ and is read back by a new layer", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const catalog = yield* Catalog
        yield* catalog.upsertTable(rawTable)
        yield* catalog.upsertTable(refinedTable)
        yield* catalog.upsertPartitions(refinedTable.name, [
          {
            values: ["2025-04-07", "PETR4"],
            location: "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=PETR4/"
          },
          {
            values: ["2025-04-08", "PETR4"],
            location: "refined/b3_portfolio_refined/ref_date=2025-04-08/ticker=PETR4/"
          }
        ])
        // an upsert of one date rewrites that date's file only
        const other = path.join(warehouse, "_catalog", refinedTable.name, "partitions", "v=2025-04-08.json")
        const before = fs.statSync(other).mtimeMs
        fs.utimesSync(other, 0, 0)
        yield* catalog.upsertPartitions(refinedTable.name, [
          {
            values: ["2025-04-07", "VALE3"],
            location: "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=VALE3/"
          }
        ])
        assert.strictEqual(fs.statSync(other).mtimeMs, 0)
        assert.isAbove(before, 0)
      }).pipe(Effect.provide(catalogAt(warehouse)))
      const dir = path.join(warehouse, "_catalog")
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), [rawTable.name, refinedTable.name].sort())
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, refinedTable.name)).sort(), ["partitions", "table.json"])
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, refinedTable.name, "partitions")).sort(), [
        "v=2025-04-07.json",
        "v=2025-04-08.json"
      ])
      const again = yield* Effect.gen(function*() {
        const catalog = yield* Catalog
        return {
          table: yield* catalog.getTable(refinedTable.name),
          partitions: yield* catalog.listPartitions(refinedTable.name)
        }
      }).pipe(Effect.provide(catalogAt(warehouse)))
      assert.deepStrictEqual(Option.getOrThrow(again.table), refinedTable)
      assert.deepStrictEqual(again.partitions.map((p) => p.values), [
        ["2025-04-07", "PETR4"],
        ["2025-04-07", "VALE3"],
        ["2025-04-08", "PETR4"]
      ])
    })
  })

  it.effect("a corrupt table file is a Corrupt error naming the file, and is not overwritten", () => {
    const warehouse = tempWarehouse()
    const file = path.join(warehouse, "_catalog", rawTable.name, "table.json")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, "{ not json")
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      const error = yield* Effect.flip(catalog.listTables)
      assert.strictEqual(error.reason, "Corrupt")
      assert.include(error.detail ?? "", file)
      const write = yield* Effect.flip(catalog.upsertTable(rawTable))
      assert.strictEqual(write.reason, "Corrupt")
      assert.strictEqual(fs.readFileSync(file, "utf8"), "{ not json")
    }).pipe(Effect.provide(catalogAt(warehouse)))
  })

  it.effect("a corrupt partition file is a Corrupt error naming the file, and is not overwritten", () => {
    const warehouse = tempWarehouse()
    const file = path.join(warehouse, "_catalog", refinedTable.name, "partitions", "v=2025-04-07.json")
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      yield* catalog.upsertTable(refinedTable)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, "[1,2")
      const list = yield* Effect.flip(catalog.listPartitions(refinedTable.name))
      assert.strictEqual(list.reason, "Corrupt")
      assert.include(list.detail ?? "", file)
      const write = yield* Effect.flip(
        catalog.upsertPartitions(refinedTable.name, [{ values: ["2025-04-07", "PETR4"], location: "x/" }])
      )
      assert.strictEqual(write.reason, "Corrupt")
      assert.strictEqual(fs.readFileSync(file, "utf8"), "[1,2")
      // other dates are unaffected
      yield* catalog.upsertPartitions(refinedTable.name, [{ values: ["2025-04-08", "PETR4"], location: "y/" }])
    }).pipe(Effect.provide(catalogAt(warehouse)))
  })

  it.effect("ignores a former single-document catalog.json, and odd values get safe file names", () => {
    const warehouse = tempWarehouse()
    fs.mkdirSync(path.join(warehouse, "_catalog"), { recursive: true })
    fs.writeFileSync(path.join(warehouse, "_catalog", "catalog.json"), "{\"version\":1,\"tables\":[]}")
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      assert.deepStrictEqual(yield* catalog.listTables, [])
      yield* catalog.upsertTable(rawTable)
      const odd = ["../..", "a/b", ".", "x".repeat(300)]
      yield* catalog.upsertPartitions(rawTable.name, odd.map((v, i) => ({ values: [v, "IBOV"], location: `${i}/` })))
      const parts = yield* catalog.listPartitions(rawTable.name)
      assert.deepStrictEqual(parts.map((p) => p.values[0]), odd)
      const names = fs.readdirSync(path.join(warehouse, "_catalog", rawTable.name, "partitions"))
      assert.strictEqual(names.length, 4)
      for (const name of names) assert.notInclude(name.slice(0, -".json".length), ".")
      yield* catalog.dropPartitions(rawTable.name, odd.map((v) => [v, "IBOV"]))
      assert.deepStrictEqual(yield* catalog.listPartitions(rawTable.name), [])
      assert.deepStrictEqual(fs.readdirSync(path.join(warehouse, "_catalog", rawTable.name, "partitions")), [])
    }).pipe(Effect.provide(catalogAt(warehouse)))
  })

  it.effect("a warehouse that cannot be written is AccessDenied naming the path", () => {
    const parent = tempWarehouse()
    fs.writeFileSync(path.join(parent, "file"), "x")
    const warehouse = path.join(parent, "file", "wh")
    return Effect.gen(function*() {
      const catalog = yield* Catalog
      const error = yield* Effect.flip(catalog.upsertTable(rawTable))
      assert.strictEqual(error.reason, "AccessDenied")
      assert.include(error.detail ?? "", warehouse)
    }).pipe(Effect.provide(catalogAt(warehouse)))
  })
})
