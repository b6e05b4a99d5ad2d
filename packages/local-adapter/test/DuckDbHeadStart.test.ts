/**
 * `DuckDbHeadStart`: the instance `start` began opening is handed out once, to the first open with
 * the same options, and it is the one the query engine then queries.
 */
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DuckDbHeadStart from "../src/DuckDbHeadStart.js"
import * as DuckDbQueryEngine from "../src/DuckDbQueryEngine.js"
import { cleanupWarehouses, generate, tempWarehouse, writeRaw } from "./fixtures.js"

afterAll(cleanupWarehouses)

/** The `threads` setting the instance was opened with, read back through a connection. */
const threadsOf = async (instance: Awaited<ReturnType<typeof DuckDbHeadStart.take>>): Promise<number> => {
  const connection = await instance.connect()
  try {
    const reader = await connection.runAndReadAll("SELECT current_setting('threads') AS t")
    return Number(reader.getRowObjects()[0]?.["t"])
  } finally {
    connection.closeSync()
  }
}

describe("DuckDbHeadStart", () => {
  it("hands the started instance to the first take with the same options, once", async () => {
    DuckDbHeadStart.start({ threads: 3 })
    DuckDbHeadStart.start({ threads: 2 }) // one is already waiting: ignored
    const other = await DuckDbHeadStart.take({ threads: 1 }) // other options: a new instance
    assert.isTrue(DuckDbHeadStart.waiting())
    const started = await DuckDbHeadStart.take({ threads: 3 })
    const again = await DuckDbHeadStart.take({ threads: 3 }) // handed out already: a new instance
    assert.isFalse(DuckDbHeadStart.waiting())
    try {
      assert.notStrictEqual(started, again)
      assert.strictEqual(await threadsOf(other), 1)
      assert.strictEqual(await threadsOf(started), 3)
      assert.strictEqual(await threadsOf(again), 3)
    } finally {
      for (const i of [other, started, again]) i.closeSync()
    }
  })

  it.effect("the query engine queries through the instance started ahead", () =>
    Effect.gen(function*() {
      const warehouse = tempWarehouse()
      for (const p of generate(["IBOV"], ["2025-10-03"])) writeRaw(warehouse, p)
      DuckDbHeadStart.start({ threads: 1 })
      assert.isTrue(DuckDbHeadStart.waiting())
      const rows = yield* QueryEngine.collect(
        "SELECT current_setting('threads') AS t, count(*) AS n FROM b3_portfolio_raw"
      )
        .pipe(Effect.provide(DuckDbQueryEngine.layer({ warehouse, threads: 1 }).pipe(Layer.provide(NodeContext.layer))))
      assert.isTrue(Number(rows[0]?.["n"]) > 0)
      assert.strictEqual(Number(rows[0]?.["t"]), 1)
      assert.isFalse(DuckDbHeadStart.waiting()) // the engine took it
    }))
})
