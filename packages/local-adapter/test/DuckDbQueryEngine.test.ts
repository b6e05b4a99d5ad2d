/**
 * The DuckDB query engine: DuckDB opens when the layer is built, so a failure to open fails the
 * layer with a typed `QueryError`, before any query runs.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DuckDbQueryEngine from "../src/DuckDbQueryEngine.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

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
