/**
 * The DuckDB query engine passes the QueryEngine contract (core's suite, typed literals included) on
 * a warehouse folder written through the filesystem store and the local catalog. DuckDB opens when
 * the layer is built, so a failure to open fails the layer with a typed `QueryError`.
 */
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { suite } from "@b3-pipeline/core/testing/QueryEngineContract"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DuckDbQueryEngine from "../src/DuckDbQueryEngine.js"
import * as FileSystemObjectStore from "../src/FileSystemObjectStore.js"
import * as LocalCatalog from "../src/LocalCatalog.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

const warehouse = tempWarehouse()
suite(
  "duckdb",
  DuckDbQueryEngine.layer({ warehouse, threads: 1 }).pipe(
    Layer.provideMerge(Layer.merge(FileSystemObjectStore.layer(warehouse), LocalCatalog.layer(warehouse))),
    Layer.provideMerge(NodeContext.layer)
  ),
  { literals: true }
)

describe("DuckDbQueryEngine layer", () => {
  it.effect("a DuckDB that cannot open fails the layer's construction with QueryError Unavailable", () =>
    Effect.gen(function*() {
      // DuckDB refuses `threads: 0` ("Failed to set config") when the instance is created
      const layer = DuckDbQueryEngine.layer({ warehouse: tempWarehouse(), threads: 0 })
      const error = yield* Effect.flip(Layer.build(layer).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))
      assert.strictEqual(error._tag, "QueryError")
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "DuckDB did not open")
    }))

  it.effect("a result of several DuckDB chunks (5,000 rows) maps every value, NULLs and repeated dates included", () =>
    Effect.gen(function*() {
      const rows = yield* QueryEngine.collect(
        "SELECT range AS n, CAST(range / 4 AS DECIMAL(12,2)) AS quarter, DATE '2024-01-01' + CAST(range % 400 AS INTEGER) AS day, " +
          "'T' || (range % 7) AS t, CASE WHEN range % 5 = 0 THEN NULL ELSE range * 3 END AS maybe FROM range(5000) ORDER BY n"
      ).pipe(
        Effect.provide(DuckDbQueryEngine.layer({ warehouse: tempWarehouse(), threads: 1 })),
        Effect.provide(NodeContext.layer)
      )
      assert.strictEqual(rows.length, 5000)
      const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + (n % 400) * 86_400_000).toISOString().slice(0, 10)
      // n / 4 to two places, as exact text
      const quarter = (n: number) => `${Math.floor(n / 4)}.${String((n % 4) * 25).padStart(2, "0")}`
      for (const n of [0, 1, 2, 3, 2047, 2048, 2049, 4095, 4096, 4999]) {
        assert.deepStrictEqual(rows[n], {
          n,
          quarter: quarter(n),
          day: day(n),
          t: `T${n % 7}`,
          maybe: n % 5 === 0 ? null : n * 3
        })
      }
      assert.isTrue(rows.every((r, n) => r["n"] === n && r["day"] === day(n) && r["quarter"] === quarter(n)))
    }))
})
