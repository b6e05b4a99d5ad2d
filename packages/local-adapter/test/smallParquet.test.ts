import { DuckDBInstance } from "@duckdb/node-api"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as FC from "effect/FastCheck"
import * as fs from "node:fs"
import * as path from "node:path"
import type { SmallColumn } from "../src/internal/smallParquet.js"
import * as SmallParquet from "../src/internal/smallParquet.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

/** The kinds of column the writer supports, each with its values and how DuckDB gives one back. */
const KINDS: ReadonlyArray<{
  readonly column: Omit<SmallColumn, "name">
  readonly value: FC.Arbitrary<unknown>
  /** A select of the column `c` whose value compares with `expect(value)`. */
  readonly select: (c: string) => string
  readonly expect: (v: unknown) => unknown
}> = [
  {
    column: { type: "BYTE_ARRAY", converted: "UTF8" },
    value: FC.string({ unit: "grapheme", maxLength: 40 }),
    select: (c) => c,
    expect: (v) => v
  },
  {
    column: { type: "INT32" },
    value: FC.integer({ min: -2147483648, max: 2147483647 }),
    select: (c) => c,
    expect: (v) => v
  },
  {
    column: { type: "INT64" },
    value: FC.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    select: (c) => c,
    expect: (v) => v
  },
  {
    column: { type: "INT32", converted: "DATE" },
    value: FC.integer({ min: -700_000, max: 2_900_000 }),
    select: (c) => `CAST(date_diff('day', DATE '1970-01-01', ${c}) AS INTEGER)`,
    expect: (v) => v
  },
  {
    column: { type: "INT32", converted: "DECIMAL", precision: 7, scale: 3 },
    value: FC.integer({ min: -9_999_999, max: 9_999_999 }),
    select: (c) => `CAST(${c} * 1000 AS INTEGER)`,
    expect: (v) => v
  },
  {
    column: { type: "INT64", converted: "DECIMAL", precision: 18, scale: 4 },
    value: FC.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }),
    select: (c) => `CAST(CAST(${c} AS DECIMAL(38,4)) * 10000 AS BIGINT)`,
    expect: (v) => v
  }
]

/** A table: 1-20 columns of any kinds, 1-40 rows, a value null one time in four. */
const table = FC.array(FC.nat({ max: KINDS.length - 1 }), { minLength: 1, maxLength: 20 }).chain((kinds) =>
  FC.integer({ min: 1, max: 40 }).chain((rows) =>
    FC.tuple(
      FC.constant(kinds),
      FC.tuple(
        ...kinds.map((k) =>
          FC.array(FC.option(KINDS[k]!.value, { freq: 4, nil: null }), { minLength: rows, maxLength: rows })
        )
      ),
      FC.nat({ max: rows - 1 })
    )
  )
)

describe("smallParquet", () => {
  it("writes files DuckDB reads back with the schema's types and every value, nulls included", async () => {
    const dir = tempWarehouse()
    const db = await (await DuckDBInstance.create(":memory:")).connect()
    let n = 0
    await FC.assert(
      FC.asyncProperty(table, async ([kinds, data, from]) => {
        const columns = kinds.map((k, i): SmallColumn => ({ name: `c${i}`, ...KINDS[k]!.column }))
        const rows = data[0]!.length
        const file = path.join(dir, `t${n++}.parquet`)
        const bytes = SmallParquet.encoder(columns, "test")(data, from, rows)
        // deterministic: the same rows give the same bytes
        assert.deepStrictEqual(SmallParquet.encoder(columns, "test")(data, from, rows), bytes)
        fs.writeFileSync(file, bytes)
        const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRowsJS().map((r) => r[1])
        assert.deepStrictEqual(
          described,
          columns.map((c) =>
            c.converted === "UTF8" ?
              "VARCHAR" :
              c.converted === "DATE" ?
              "DATE" :
              c.converted === "DECIMAL" ?
              `DECIMAL(${c.precision},${c.scale})` :
              c.type === "INT32" ?
              "INTEGER" :
              "BIGINT"
          )
        )
        const got = (await db.runAndReadAll(
          `SELECT ${columns.map((c, i) => KINDS[kinds[i]!]!.select(c.name)).join(", ")} FROM '${file}'`
        )).getColumnsJS()
        const want = data.map((values, i) =>
          values.slice(from).map((v) => v === null ? null : KINDS[kinds[i]!]!.expect(v))
        )
        assert.deepStrictEqual(got, want)
      }),
      { numRuns: 150 }
    )
  })

  it("a value of the wrong kind is an error naming the column and the row", () => {
    const encode = SmallParquet.encoder([{ name: "qty", type: "INT64" }, { name: "w", type: "INT32" }], "test")
    assert.throws(() => encode([[1n, 2n], [1, "3"]], 0, 2), /column w \(INT32\) row 1: cannot write string 3/)
    assert.throws(() => encode([[1.5], [1]], 0, 1), /column qty \(INT64\) row 0/)
    assert.throws(() => encode([[1n], [2 ** 31]], 0, 1), /column w \(INT32\) row 0/)
  })
})
