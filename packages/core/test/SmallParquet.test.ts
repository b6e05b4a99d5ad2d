import { DuckDBInstance } from "@duckdb/node-api"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Arrow from "apache-arrow"
import * as FC from "effect/FastCheck"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readParquet } from "parquet-wasm"
import type { SmallColumn } from "../src/SmallParquet.js"
import * as SmallParquet from "../src/SmallParquet.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "b3-small-parquet-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

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

/**
 * A column's values: any values of its kind, or values drawn from a pool of one to four (what
 * dictionary pages are for); a value is null one time in four.
 */
const columnValues = (kind: number, rows: number) => {
  const value = KINDS[kind]!.value
  const values = (v: FC.Arbitrary<unknown>) =>
    FC.array(FC.option(v, { freq: 4, nil: null }), { minLength: rows, maxLength: rows })
  return FC.oneof(
    values(value),
    FC.array(value, { minLength: 1, maxLength: 4 }).chain((pool) => values(FC.constantFrom(...pool)))
  )
}

/** A table: 1-20 columns of any kinds, 1-60 rows, and the first row of the file. */
const table = FC.array(FC.nat({ max: KINDS.length - 1 }), { minLength: 1, maxLength: 20 }).chain((kinds) =>
  FC.integer({ min: 1, max: 60 }).chain((rows) =>
    FC.tuple(
      FC.constant(kinds),
      FC.tuple(...kinds.map((k) => columnValues(k, rows))),
      FC.nat({ max: rows - 1 })
    )
  )
)

/** DuckDB's type name of a column. */
const duckType = (c: SmallColumn): string =>
  c.converted === "UTF8" ?
    "VARCHAR" :
    c.converted === "DATE" ?
    "DATE" :
    c.converted === "DECIMAL" ?
    `DECIMAL(${c.precision},${c.scale})` :
    c.type === "INT32" ?
    "INTEGER" :
    "BIGINT"

describe("smallParquet", () => {
  for (const dictionary of [false, true]) {
    it(`writes files DuckDB and parquet-wasm read back with the schema's types and every value, nulls included (dictionary: ${dictionary})`, async () => {
      const db = await (await DuckDBInstance.create(":memory:")).connect()
      let n = 0
      let dictionaryColumns = 0
      await FC.assert(
        FC.asyncProperty(table, async ([kinds, data, from]) => {
          const columns = kinds.map((k, i): SmallColumn => ({ name: `c${i}`, ...KINDS[k]!.column }))
          const rows = data[0]!.length
          const file = path.join(dir, `t${dictionary}${n++}.parquet`)
          const encode = SmallParquet.encoder(columns, "test", { dictionary })
          const bytes = encode(data, from, rows)
          // deterministic: the same rows give the same bytes, from this encoder or a new one
          assert.deepStrictEqual(encode(data, from, rows), bytes)
          assert.deepStrictEqual(SmallParquet.encoder(columns, "test", { dictionary })(data, from, rows), bytes)
          fs.writeFileSync(file, bytes)
          const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRowsJS().map((r) => r[1])
          assert.deepStrictEqual(described, columns.map(duckType))
          const got = (await db.runAndReadAll(
            `SELECT ${columns.map((c, i) => KINDS[kinds[i]!]!.select(c.name)).join(", ")} FROM '${file}'`
          )).getColumnsJS()
          const want = data.map((values, i) =>
            values.slice(from).map((v) => v === null ? null : KINDS[kinds[i]!]!.expect(v))
          )
          assert.deepStrictEqual(got, want)
          // parquet-wasm (core's reader) reads the same file: rows, nulls of each column, text values
          const arrow = Arrow.tableFromIPC(readParquet(bytes).intoIPCStream())
          assert.strictEqual(arrow.numRows, rows - from)
          columns.forEach((c, i) => {
            const vector = arrow.getChildAt(i)!
            assert.strictEqual(vector.nullCount, want[i]!.filter((v) => v === null).length)
            if (c.type === "BYTE_ARRAY") assert.deepStrictEqual(vector.toArray(), want[i])
          })
          const encodings = (await db.runAndReadAll(
            `SELECT encodings FROM parquet_metadata('${file}') ORDER BY column_id`
          )).getColumnsJS()[0]!.map(String)
          const used = encodings.filter((e) => e.includes("RLE_DICTIONARY")).length
          if (!dictionary) assert.strictEqual(used, 0)
          dictionaryColumns += used
        }),
        { numRuns: 150 }
      )
      // the property met dictionary columns (pooled values) when they were on
      if (dictionary) assert.isAbove(dictionaryColumns, 20)
    })
  }

  it("dictionary pages: a constant column is one run, and indices wider than a byte read back", async () => {
    const db = await (await DuckDBInstance.create(":memory:")).connect()
    const rows = 1200
    // 300 distinct long texts, each four times (bit width 9: two bytes an index), a constant text,
    // a constant and a repeating int64 given as bigints and numbers, nulls in runs
    const long = Array.from(
      { length: rows },
      (_, i) => i % 7 === 0 ? null : `company number ${i % 300} ${"x".repeat(30)}`
    )
    const constant = Array.from({ length: rows }, () => "a".repeat(64))
    const qty = Array.from({ length: rows }, (_, i) => i % 2 === 0 ? 5_000_000_000n : -42)
    const columns: Array<SmallColumn> = [
      { name: "long", type: "BYTE_ARRAY", converted: "UTF8" },
      { name: "constant", type: "BYTE_ARRAY", converted: "UTF8" },
      { name: "qty", type: "INT64" }
    ]
    const plainBytes = SmallParquet.encoder(columns, "test")([long, constant, qty], 0, rows)
    const bytes = SmallParquet.encoder(columns, "test", { dictionary: true })([long, constant, qty], 0, rows)
    assert.isBelow(bytes.length, plainBytes.length / 3)
    const file = path.join(dir, "dictionary.parquet")
    fs.writeFileSync(file, bytes)
    const encodings = (await db.runAndReadAll(
      `SELECT encodings FROM parquet_metadata('${file}') ORDER BY column_id`
    )).getColumnsJS()[0]!.map(String)
    assert.deepStrictEqual(encodings.map((e) => e.includes("RLE_DICTIONARY")), [true, true, true])
    const got = (await db.runAndReadAll(`SELECT long, constant, qty FROM '${file}'`)).getColumnsJS()
    assert.deepStrictEqual(got, [long, constant, qty.map(BigInt)])
    const arrow = Arrow.tableFromIPC(readParquet(bytes).intoIPCStream())
    assert.deepStrictEqual([...arrow.getChild("long")!], long)
    assert.deepStrictEqual([...arrow.getChild("qty")!], qty.map(BigInt))
  })

  it("a value of the wrong kind is an error naming the column and the row", () => {
    const encode = SmallParquet.encoder([{ name: "qty", type: "INT64" }, { name: "w", type: "INT32" }], "test")
    assert.throws(() => encode([[1n, 2n], [1, "3"]], 0, 2), /column w \(INT32\) row 1: cannot write string 3/)
    assert.throws(() => encode([[1.5], [1]], 0, 1), /column qty \(INT64\) row 0/)
    assert.throws(() => encode([[1n], [2 ** 31]], 0, 1), /column w \(INT32\) row 0/)
  })
})
