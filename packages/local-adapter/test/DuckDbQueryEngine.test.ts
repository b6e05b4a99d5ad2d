/**
 * The DuckDB query engine passes the QueryEngine contract (core's suite, typed literals included) on
 * a warehouse folder written through the filesystem store and the local catalog. DuckDB opens when
 * the layer is built, so a failure to open fails the layer with a typed `QueryError`.
 */
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
})
