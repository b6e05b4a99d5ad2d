import { formatDecimal } from "@b3-pipeline/core/Domain"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import { parseSimpleSelect, QueryEngine } from "@b3-pipeline/core/QueryEngine"
import { rawColumns, rawPartitionKeys, refinedColumns, refinedPartitionKeys } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { samplePayload } from "./fixtures.js"

/** Two indexes on one day, ingested and refined, shared by the tests below (read only). */
const Loaded = Layer.effectDiscard(Effect.gen(function*() {
  yield* Pipeline.ingestPayload(samplePayload({ indexCode: "IBOV", refDate: "2025-04-07", size: 10, seed: 11 }).payload)
  yield* Pipeline.ingestPayload(
    samplePayload({ indexCode: "SMLL", refDate: "2025-04-07", size: 6, seed: 12, segment: "1" }).payload
  )
  yield* Testing.runTriggers
})).pipe(Layer.provideMerge(Testing.layerPorts))

describe("QueryEngine.layerMemory", () => {
  it("parses the one supported shape, and nothing else", () => {
    assert.deepStrictEqual(parseSimpleSelect("select * from b3_portfolio_raw"), {
      table: "b3_portfolio_raw",
      where: []
    })
    assert.deepStrictEqual(
      parseSimpleSelect("SELECT * FROM default.t WHERE a = 'x' AND B='it''s AND more' ;"),
      { table: "default.t", where: [{ column: "a", value: "x" }, { column: "b", value: "it's AND more" }] }
    )
    for (
      const bad of [
        "SELECT cod FROM t",
        "SELECT * FROM t WHERE a = 1",
        "SELECT * FROM t WHERE a = 'x' OR b = 'y'",
        "SELECT * FROM t LIMIT 1",
        "SELECT * FROM t; DROP TABLE t",
        "SELECT * FROM t WHERE a = 'x' AND",
        "DELETE FROM t"
      ]
    ) {
      assert.isUndefined(parseSimpleSelect(bad), bad)
    }
  })

  it.layer(Loaded)((it) => {
    it.effect("SELECT * returns file columns then partition columns, typed as the port says", () =>
      Effect.gen(function*() {
        const engine = yield* QueryEngine
        const result = yield* engine.query("SELECT * FROM b3_portfolio_raw")
        assert.deepStrictEqual(
          result.columns.map((c) => c.name),
          [...rawColumns, ...rawPartitionKeys].map((c) => c.name)
        )
        const rows = yield* Pipeline.queryAll("SELECT * FROM b3_portfolio_raw")
        assert.strictEqual(rows.length, 16)
        const first = rows[0]!
        assert.strictEqual(first["ref_date"], "2025-04-07")
        assert.strictEqual(first["index_code"], "IBOV")
        assert.strictEqual(first["row_number"], 1)
        assert.match(String(first["part"]), /^\d+\.\d{3}$/)
        assert.match(String(first["reductor"]), /^\d+\.\d{8}$/)
        assert.strictEqual(typeof first["theorical_qty"], "number")
        const refined = yield* engine.query("SELECT * FROM default.b3_portfolio_refined")
        assert.deepStrictEqual(
          refined.columns.map((c) => c.name),
          [...refinedColumns, ...refinedPartitionKeys].map((c) => c.name)
        )
      }))

    it.effect("WHERE filters on file and partition columns by their text", () =>
      Effect.gen(function*() {
        const smll = yield* Pipeline.queryAll("SELECT * FROM b3_portfolio_raw WHERE index_code = 'SMLL'")
        assert.strictEqual(smll.length, 6)
        assert.isTrue(smll.every((r) => r["segment"] === null && r["part_acum"] === null))
        const one = smll[2]!
        const byWeight = yield* Pipeline.queryAll(
          `SELECT * FROM b3_portfolio_raw WHERE part = '${one["part"]}' AND cod = '${one["cod"]}'`
        )
        assert.deepStrictEqual(byWeight, [one])
        const none = yield* Pipeline.queryAll("SELECT * FROM b3_portfolio_refined WHERE ref_date = '2025-04-08'")
        assert.deepStrictEqual(none, [])
        const refined = yield* Pipeline.queryAll("SELECT * FROM b3_portfolio_refined WHERE index_code = 'IBOV'")
        assert.strictEqual(refined.length, 10)
        const total = refined.reduce((s, r) => s + Number(String(r["weight_pct"]).replace(".", "")), 0)
        assert.strictEqual(formatDecimal(total, 3), "100.000")
      }))

    it.effect("unsupported SQL fails with Syntax naming what is supported", () =>
      Effect.gen(function*() {
        const engine = yield* QueryEngine
        const error = yield* Effect.flip(engine.query("SELECT cod, sum(part) FROM b3_portfolio_raw GROUP BY cod"))
        assert.strictEqual(error.reason, "Syntax")
        assert.include(error.message, "SELECT * FROM <table>")
        const column = yield* Effect.flip(engine.query("SELECT * FROM b3_portfolio_raw WHERE nope = 'x'"))
        assert.strictEqual(column.reason, "Syntax")
        assert.include(column.message, "nope")
      }))

    it.effect("an unknown table fails with NoSuchTable", () =>
      Effect.gen(function*() {
        const engine = yield* QueryEngine
        assert.strictEqual((yield* Effect.flip(engine.query("SELECT * FROM missing"))).reason, "NoSuchTable")
        assert.strictEqual(
          (yield* Effect.flip(engine.query("SELECT * FROM other.b3_portfolio_raw"))).reason,
          "NoSuchTable"
        )
      }))
  })
})
