import * as Catalog from "@b3-pipeline/core/Catalog"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { suite } from "@b3-pipeline/core/testing/QueryEngineContract"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FC from "effect/FastCheck"
import * as Layer from "effect/Layer"

suite(
  "memory",
  QueryEngine.layerMemory.pipe(Layer.provideMerge(Layer.merge(ObjectStore.layerMemory, Catalog.layerMemory)))
)

describe("the SqlValue mapping (one place for every engine)", () => {
  it.prop("integers: text, number or bigint map to a number when safe, a bigint past 2^53", {
    n: FC.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
  }, ({ n }) => {
    const safe = n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER)
    for (const type of ["BIGINT", "bigint", "HUGEINT", "int"]) {
      const decode = QueryEngine.sqlValueDecoder(type)
      const fromText = decode(n.toString())
      assert.strictEqual(fromText, safe ? Number(n) : n)
      assert.strictEqual(decode(n), fromText)
      if (safe) assert.strictEqual(decode(Number(n)), Number(n))
    }
  })

  it("decimals stay exact text, dates YYYY-MM-DD, booleans from text, doubles from text, NULL from null and undefined", () => {
    assert.strictEqual(QueryEngine.sqlValueDecoder("DECIMAL(7,3)")("0.100"), "0.100")
    assert.strictEqual(
      QueryEngine.sqlValueDecoder("decimal")("-12345678901234567890.12345678"),
      "-12345678901234567890.12345678"
    )
    assert.strictEqual(QueryEngine.sqlValueDecoder("date")("2025-01-02"), "2025-01-02")
    assert.strictEqual(QueryEngine.sqlValueDecoder("boolean")("false"), false)
    assert.strictEqual(QueryEngine.sqlValueDecoder("BOOLEAN")(true), true)
    assert.strictEqual(QueryEngine.sqlValueDecoder("double")("1.25"), 1.25)
    assert.isNaN(QueryEngine.sqlValueDecoder("DOUBLE")("NaN"))
    assert.strictEqual(QueryEngine.sqlValueDecoder("timestamp")("2025-01-02 10:00:00.000"), "2025-01-02T10:00:00.000")
    assert.strictEqual(QueryEngine.sqlValueDecoder("timestamp")(Date.UTC(2025, 0, 2, 10)), "2025-01-02T10:00:00.000")
    assert.strictEqual(QueryEngine.sqlValueDecoder("INTEGER[]")([1, 2]), "[1,2]")
    assert.strictEqual(QueryEngine.sqlValueDecoder("varchar")("ação"), "ação")
    for (const type of ["bigint", "decimal(7,3)", "date", "varchar", "boolean", "double", "timestamp"]) {
      assert.isNull(QueryEngine.sqlValueDecoder(type)(null))
      assert.isNull(QueryEngine.sqlValueDecoder(type)(undefined))
    }
  })

  it.effect("a value that does not fit its type fails decodeRows with BadRow naming the column, type and row", () =>
    Effect.gen(function*() {
      const columns = [{ name: "qty", type: "bigint" }, { name: "day", type: "date" }]
      const ok = yield* QueryEngine.decodeRows(columns, [["12", "2025-01-02"]], (r, i) => r[i])
      assert.deepStrictEqual(ok, [{ qty: 12, day: "2025-01-02" }])
      for (
        const [bad, column] of [[["1.5", "2025-01-02"], "qty (bigint)"], [["1", "2025-1-2"], "day (date)"]] as const
      ) {
        const error = yield* Effect.flip(
          QueryEngine.decodeRows(columns, [["1", "2025-01-03"], bad], (r, i) => r[i], { sql: "SELECT 1" })
        )
        assert.strictEqual(error.reason, "BadRow")
        assert.strictEqual(error.sql, "SELECT 1")
        assert.include(error.message, `column ${column} of row 2`)
      }
      const notBoolean = yield* Effect.flip(
        QueryEngine.decodeRows([{ name: "b", type: "boolean" }], [["yes"]], (r, i) => r[i])
      )
      assert.include(notBoolean.message, "not a boolean")
    }))
})
