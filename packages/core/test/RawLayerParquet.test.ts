import type { IndexCode, Portfolio, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES, formatDecimal } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import { decodeRawParquet, encodeRawParquet, sectorTotals } from "@b3-pipeline/core/RawParquet"
import type { RefinedFileRow } from "@b3-pipeline/core/Refine"
import { decodeRefinedParquet, encodeRefinedParquet } from "@b3-pipeline/core/Refine"
import { rawColumns, refinedColumns } from "@b3-pipeline/core/Tables"
import { DuckDBInstance } from "@duckdb/node-api"
import { assert, describe, it } from "@effect/vitest"
import * as FC from "effect/FastCheck"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const meta = { payloadSha256: "ab".repeat(32), fetchedAt: "2025-04-07T10:15:00.000Z" }

const checkRoundTrip = (p: Portfolio) => {
  const rows = decodeRawParquet(encodeRawParquet(p, meta))
  assert.strictEqual(rows.length, p.size)
  const acc = sectorTotals(p)
  rows.forEach((r, i) => {
    assert.deepStrictEqual(r, {
      row_number: i + 1,
      segment: p.sectors[i] ?? null,
      cod: p.tickers[i]!,
      asset: p.assets[i]!,
      type: p.types[i]!,
      part: p.weights[i]!,
      part_acum: acc[i]!,
      theorical_qty: p.quantities[i]!,
      total_qty: p.totalQuantity,
      reductor: p.reductor,
      language: p.language,
      source_format: p.format,
      payload_sha256: meta.payloadSha256,
      fetched_at: meta.fetchedAt
    })
  })
}

/** A small hand-made portfolio with the extremes of every type. */
const extreme: Portfolio = {
  indexCode: "IBOV" as IndexCode,
  refDate: "2025-01-02" as RefDate,
  language: "en-us",
  format: "CSV",
  segment: "2",
  size: 4,
  tickers: ["AAAA3", "BBBB11", "CCCC4", "DDDD34"] as Array<Ticker>,
  assets: ["ÁÇÕ É", "", "X".repeat(300), "A;B\"C"],
  types: ["ON  ED  NM", "UNT", "PNA ATZ N1", "DRN"],
  sectors: ["Bens Indls / Máqs e Equips", null, "Bens Indls / Máqs e Equips", "Financ/Outros"],
  weights: new Int32Array([9_999_999, -1, 0, 1]),
  quantities: new BigInt64Array([9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 0n, 4_394_835_131n]),
  totalQuantity: 4_394_835_130n,
  reductor: 9_999_999_999_999_999_99n / 100n
}

describe("raw Parquet", () => {
  it("round-trips generated portfolios exactly (segments 1 and 2, both languages)", () => {
    for (const segment of ["1", "2"] as const) {
      for (const language of ["pt-br", "en-us"] as const) {
        checkRoundTrip(
          generatePortfolio({ indexCode: "IBRA" as IndexCode, refDate: "2025-04-07" as RefDate, segment, language })
        )
      }
    }
  })

  it("round-trips the extremes of every column type", () => {
    checkRoundTrip(extreme)
    checkRoundTrip({ ...extreme, reductor: null })
    checkRoundTrip({ ...extreme, reductor: -(10n ** 18n - 1n) })
  })

  it("rejects values that do not fit their column type", () => {
    assert.throws(() => encodeRawParquet({ ...extreme, weights: new Int32Array([10_000_000, 0, 0, 0]) }, meta), /part/)
    assert.throws(() => encodeRawParquet({ ...extreme, reductor: 10n ** 18n }, meta), /reductor/)
  })

  it("is deterministic: the same input gives the same bytes", () => {
    const p = generatePortfolio({ indexCode: "SMLL" as IndexCode, refDate: "2025-05-02" as RefDate, seed: 7 })
    const a = encodeRawParquet(p, meta)
    const b = encodeRawParquet(
      generatePortfolio({ indexCode: "SMLL" as IndexCode, refDate: "2025-05-02" as RefDate, seed: 7 }),
      meta
    )
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual(encodeRawParquet(p, { ...meta, fetchedAt: "2025-05-02T10:00:00.000Z" }), a)
  })

  it("fails with an Error on bytes that are not Parquet", () => {
    assert.throws(() => decodeRawParquet(new TextEncoder().encode("{\"not\":\"parquet\"}")))
  })

  it.prop(
    "round-trips arbitrary generated portfolios",
    {
      index: FC.constantFrom(...ALL_INDEX_CODES),
      day: FC.integer({ min: 0, max: 3000 }),
      size: FC.integer({ min: 1, max: 300 }),
      seed: FC.integer({ min: 0, max: 1000 }),
      segment: FC.constantFrom("1" as const, "2" as const)
    },
    ({ day, index, seed, segment, size }) => {
      const refDate = new Date(Date.UTC(2018, 0, 1) + day * 86_400_000).toISOString().slice(0, 10) as RefDate
      checkRoundTrip(generatePortfolio({ indexCode: index, refDate, size, seed, segment }))
    },
    { fastCheck: { numRuns: 25 } }
  )
})

const refinedSample: Array<RefinedFileRow> = [
  {
    index_code: "IBOV" as IndexCode,
    company: "PETROBRAS",
    weight_pct: 3570,
    theoretical_qty: 4_394_835_131n,
    share_class: "PN",
    sector: "Petróleo, Gás e Biocombustíveis",
    index_constituents: 87,
    sector_weight_pct: 12_345,
    period_start: "2025-01-01" as RefDate,
    days_since_period_start: 96,
    days_since_previous_snapshot: 3
  },
  {
    index_code: "IFIX" as IndexCode,
    company: "FII HGLG",
    weight_pct: 1,
    theoretical_qty: 9_223_372_036_854_775_807n,
    share_class: "CI",
    sector: null,
    index_constituents: 1,
    sector_weight_pct: null,
    period_start: "2024-09-01" as RefDate,
    days_since_period_start: 0,
    days_since_previous_snapshot: null
  }
]

describe("refined Parquet", () => {
  it("round-trips exactly, nulls included, deterministically", () => {
    const bytes = encodeRefinedParquet(refinedSample)
    assert.deepStrictEqual(decodeRefinedParquet(bytes), refinedSample)
    assert.deepStrictEqual(encodeRefinedParquet(refinedSample), bytes)
  })
})

describe("DuckDB reads the files", () => {
  it("with the column names and SQL types of Tables, and exact values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "b3-parquet-"))
    const db = await DuckDBInstance.create(":memory:")
    const connection = await db.connect()
    try {
      const p = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: "2025-04-07" as RefDate, seed: 3 })
      const rawFile = join(dir, "raw.parquet")
      writeFileSync(rawFile, encodeRawParquet(p, meta))
      const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${rawFile}')`))
        .getRowObjectsJson()
      const sqlType = (t: string) =>
        t === "int"
          ? "INTEGER"
          : t === "bigint"
          ? "BIGINT"
          : t === "string"
          ? "VARCHAR"
          : t === "date"
          ? "DATE"
          : t.toUpperCase()
      assert.deepStrictEqual(
        described.map((r) => [r["column_name"], r["column_type"]]),
        rawColumns.map((c) => [c.name, sqlType(c.type)])
      )
      const physicalOf: Record<string, [string, string | null]> = {
        "int": ["INT32", null],
        "bigint": ["INT64", null],
        "string": ["BYTE_ARRAY", "UTF8"],
        "decimal(7,3)": ["INT32", "DECIMAL"],
        "decimal(18,8)": ["INT64", "DECIMAL"]
      }
      // the physical types Athena and Spark read (and parquet-rs writes): decimals on INT32 up to
      // 9 digits, on INT64 up to 18; strings UTF-8 byte arrays
      const physical = (await connection.runAndReadAll(
        `SELECT name, type, converted_type FROM parquet_schema('${rawFile}') WHERE type IS NOT NULL`
      )).getRowObjectsJson()
      assert.deepStrictEqual(
        physical.map((r) => [r["name"], r["type"], r["converted_type"]]),
        rawColumns.map((c) => [c.name, ...physicalOf[c.type]!])
      )
      const rows = (await connection.runAndReadAll(
        `SELECT cod, CAST(part AS VARCHAR) AS part, CAST(theorical_qty AS VARCHAR) AS qty, CAST(reductor AS VARCHAR) AS reductor,
                CAST(sum(part) OVER () AS VARCHAR) AS total_part, CAST(sum(theorical_qty) OVER () AS VARCHAR) AS total_qty
           FROM read_parquet('${rawFile}') ORDER BY row_number`
      )).getRowObjectsJson()
      assert.strictEqual(rows.length, p.size)
      rows.forEach((r, i) => {
        assert.strictEqual(r["cod"], p.tickers[i])
        assert.strictEqual(r["part"], formatDecimal(p.weights[i]!, 3))
        assert.strictEqual(r["qty"], p.quantities[i]!.toString())
        assert.strictEqual(r["reductor"], formatDecimal(p.reductor!, 8))
      })
      const weightSum = p.weights.reduce((a, b) => a + b, 0)
      assert.strictEqual(rows[0]!["total_part"], formatDecimal(weightSum, 3))
      assert.strictEqual(rows[0]!["total_qty"], p.totalQuantity.toString())

      const refinedFile = join(dir, "refined.parquet")
      writeFileSync(refinedFile, encodeRefinedParquet(refinedSample))
      const refinedTypes = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${refinedFile}')`))
        .getRowObjectsJson()
      assert.deepStrictEqual(
        refinedTypes.map((r) => [r["column_name"], r["column_type"]]),
        refinedColumns.map((c) => [c.name, sqlType(c.type)])
      )
      const refinedRows = (await connection.runAndReadAll(
        `SELECT CAST(period_start AS VARCHAR) AS ps, CAST(sector_weight_pct AS VARCHAR) AS swp, days_since_previous_snapshot AS prev,
                CAST(theoretical_qty AS VARCHAR) AS qty FROM read_parquet('${refinedFile}')`
      )).getRowObjectsJson()
      assert.deepStrictEqual(refinedRows, [
        { ps: "2025-01-01", swp: "12.345", prev: 3, qty: "4394835131" },
        { ps: "2024-09-01", swp: null, prev: null, qty: "9223372036854775807" }
      ])
    } finally {
      connection.closeSync()
      db.closeSync()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
