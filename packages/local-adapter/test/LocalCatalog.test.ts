import { Catalog } from "@b3-pipeline/core/Catalog"
import { rawTable, refinedTable } from "@b3-pipeline/core/Tables"
import { NodeContext } from "@effect/platform-node"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { suite } from "../../core/test/CatalogContract.js"
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
  it.effect("persists in _catalog/catalog.json and is read back by a new layer", () => {
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
          }
        ])
      }).pipe(Effect.provide(catalogAt(warehouse)))
      const file = path.join(warehouse, "_catalog", "catalog.json")
      assert.isTrue(fs.existsSync(file))
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ["catalog.json"])
      const again = yield* Effect.gen(function*() {
        const catalog = yield* Catalog
        return {
          table: yield* catalog.getTable(refinedTable.name),
          partitions: yield* catalog.listPartitions(refinedTable.name)
        }
      }).pipe(Effect.provide(catalogAt(warehouse)))
      assert.deepStrictEqual(Option.getOrThrow(again.table), refinedTable)
      assert.deepStrictEqual(again.partitions.map((p) => p.values), [["2025-04-07", "PETR4"]])
    })
  })

  it.effect("a corrupt document is a Corrupt error naming the file, and is not overwritten", () => {
    const warehouse = tempWarehouse()
    const file = path.join(warehouse, "_catalog", "catalog.json")
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
