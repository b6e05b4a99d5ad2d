/**
 * The `QueryEngine` contract, written once and run against every backend (memory here; DuckDB and
 * Athena in their packages): `suite("duckdb", layer)`.
 *
 * The layer provides the engine with the `ObjectStore` and `Catalog` it reads: the suite writes raw
 * partitions of generated portfolios through them (`b3_portfolio_raw`, the project's table), then
 * checks what a `SELECT * ... WHERE` returns, value by value, against the port's mapping
 * (`QueryEngine.SqlValue`): integers -> number (bigint past 2^53), DECIMAL -> exact text, DATE ->
 * `YYYY-MM-DD`, strings as stored, NULL -> null. Failures are typed: an unknown table is
 * `NoSuchTable`, text that is not SQL and a column the table lacks are `Syntax`.
 *
 * Engines with full SQL also run `literals` (`options.literals`): one row of typed literals (bigint
 * past 2^53, integer, decimal, date, string, NULL, boolean, double).
 *
 * Every test writes its own dates, so a backend shared across tests (`it.layer`) is fine.
 */
import { assert, describe, layer as withLayer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { Catalog } from "../Catalog.js"
import type { IndexCode, Portfolio, RefDate } from "../Domain.js"
import { epochDay, formatDecimal, fromEpochDay } from "../Domain.js"
import { generatePortfolio } from "../Generate.js"
import { ObjectStore } from "../ObjectStore.js"
import type { Row } from "../QueryEngine.js"
import * as QueryEngine from "../QueryEngine.js"
import type { RawMeta } from "../RawParquet.js"
import { encodeRawParquet, sectorTotals } from "../RawParquet.js"
import { RAW_TABLE, rawColumns, rawParquetKey, rawPartitionKeys, rawTable } from "../Tables.js"

/** Options for backends with fewer abilities. */
export interface SuiteOptions {
  /** Runs `LITERALS.sql` (an engine with full SQL; the memory engine has only `SELECT *`). */
  readonly literals?: boolean
}

/**
 * One row of typed literals and the `Row` the port maps it to (engines with full SQL run it).
 *
 * @category fixtures
 */
export const LITERALS: { readonly sql: string; readonly expected: Row } = {
  sql: "SELECT CAST(9007199254740993 AS BIGINT) AS big, CAST(-42 AS INTEGER) AS small, " +
    "CAST(3.570 AS DECIMAL(7,3)) AS weight, DATE '2025-01-02' AS day, 'ação' AS text, " +
    "CAST(NULL AS VARCHAR) AS nothing, true AS yes, CAST(1.5 AS DOUBLE) AS ratio",
  expected: {
    big: 9007199254740993n,
    small: -42,
    weight: "3.570",
    day: "2025-01-02",
    text: "ação",
    nothing: null,
    yes: true,
    ratio: 1.5
  }
}

/** The rows `b3_portfolio_raw` holds for a portfolio, in the port's values (independent of any engine). */
export const expectedRawRows = (p: Portfolio, meta: RawMeta): Array<Row> => {
  const totals = sectorTotals(p)
  const rows: Array<Row> = []
  for (let i = 0; i < p.size; i++) {
    const total = totals[i] ?? null
    rows.push({
      row_number: i + 1,
      segment: p.sectors[i] ?? null,
      cod: p.tickers[i] ?? null,
      asset: p.assets[i] ?? null,
      type: p.types[i] ?? null,
      part: formatDecimal(p.weights[i] ?? 0, 3),
      part_acum: total === null ? null : formatDecimal(total, 3),
      theorical_qty: QueryEngine.safeInteger(p.quantities[i] ?? 0n),
      total_qty: QueryEngine.safeInteger(p.totalQuantity),
      reductor: p.reductor === null ? null : formatDecimal(p.reductor, 8),
      language: p.language,
      source_format: p.format,
      payload_sha256: meta.payloadSha256,
      fetched_at: meta.fetchedAt,
      ref_date: p.refDate,
      index_code: p.indexCode
    })
  }
  return rows
}

let counter = 0
/** A date no other test of this process used (the base moves per process, so re-runs differ too). */
const base = epochDay("2001-01-01" as RefDate) + Math.floor(Math.random() * 5000)
const freshDate = (): RefDate => fromEpochDay(base + 7 * counter++)

/**
 * A portfolio with the values that test the mapping: one quantity past 2^53 (a bigint), and the
 * sectors (segment 2) or none (segment 1: `segment` and `part_acum` NULL), with or without reductor.
 */
const portfolioOf = (indexCode: string, refDate: RefDate, segment: "1" | "2", reductor: boolean): Portfolio => {
  const p = generatePortfolio({ indexCode: indexCode as IndexCode, refDate, seed: counter, size: 5, segment })
  const quantities = BigInt64Array.from(p.quantities)
  quantities[0] = 2n ** 60n + 7n
  const totalQuantity = quantities.reduce((a, b) => a + b, 0n)
  return { ...p, quantities, totalQuantity, reductor: reductor ? (p.reductor ?? 123_456_789_012n) : null }
}

const metaOf = (p: Portfolio): RawMeta => ({
  payloadSha256: `${p.indexCode}-${p.refDate}`.padEnd(64, "0"),
  fetchedAt: `${p.refDate}T09:30:00.000Z`
})

/** Writes a portfolio's raw partition through the store and registers it in the catalog. */
const seed = (p: Portfolio) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const catalog = yield* Catalog
    const meta = metaOf(p)
    yield* store.put(rawParquetKey(p.refDate, p.indexCode), encodeRawParquet(p, meta))
    yield* catalog.upsertTable(rawTable)
    yield* catalog.upsertPartitions(RAW_TABLE, [{
      values: [p.refDate, p.indexCode],
      location: `${rawTable.location}ref_date=${p.refDate}/index_code=${p.indexCode}/`
    }])
    return expectedRawRows(p, meta)
  })

const byRowNumber = (rows: ReadonlyArray<Row>): Array<Row> =>
  [...rows].sort((a, b) => Number(a["row_number"]) - Number(b["row_number"]))

const partitionSql = (p: Portfolio) =>
  `SELECT * FROM ${RAW_TABLE} WHERE ref_date = '${p.refDate}' AND index_code = '${p.indexCode}'`

/** Runs the QueryEngine contract against `layer` (built once for the suite). */
export const suite = <E>(
  name: string,
  layer: Layer.Layer<QueryEngine.QueryEngine | ObjectStore | Catalog, E>,
  options: SuiteOptions = {}
) => {
  describe(`QueryEngine contract (${name})`, () => {
    withLayer(layer, { timeout: "60 seconds", excludeTestServices: true })((it) => {
      it.effect("SELECT * returns each stored row, every value mapped as the port's SqlValue", () =>
        Effect.gen(function*() {
          const engine = yield* QueryEngine.QueryEngine
          const sectors = portfolioOf("IBOV", freshDate(), "2", true)
          const byTicker = portfolioOf("SMLL", freshDate(), "1", false)
          for (const p of [sectors, byTicker]) {
            const expected = yield* seed(p)
            const result = yield* engine.query(partitionSql(p))
            assert.deepStrictEqual(
              result.columns.map((c) => c.name),
              [...rawColumns, ...rawPartitionKeys].map((c) => c.name)
            )
            const rows = byRowNumber(yield* QueryEngine.collect(partitionSql(p)))
            assert.deepStrictEqual(rows, expected)
          }
        }))

      it.effect("integers past 2^53 are bigints, safe ones numbers; decimals keep their scale as text", () =>
        Effect.gen(function*() {
          const p = portfolioOf("IBXX", freshDate(), "2", true)
          yield* seed(p)
          const rows = byRowNumber(yield* QueryEngine.collect(partitionSql(p)))
          const [first, second] = rows
          assert.isDefined(first)
          assert.isDefined(second)
          assert.strictEqual(first["theorical_qty"], 2n ** 60n + 7n)
          assert.strictEqual(typeof second["theorical_qty"], "number")
          assert.strictEqual(typeof first["total_qty"], "bigint")
          assert.match(String(first["part"]), /^\d+\.\d{3}$/)
          assert.match(String(first["reductor"]), /^\d+\.\d{8}$/)
          assert.strictEqual(first["ref_date"], p.refDate)
          assert.strictEqual(first["row_number"], 1)
        }))

      it.effect("a filter that matches nothing returns no rows", () =>
        Effect.gen(function*() {
          const p = portfolioOf("IBOV", freshDate(), "2", true)
          yield* seed(p)
          const rows = yield* QueryEngine.collect(
            `SELECT * FROM ${RAW_TABLE} WHERE ref_date = '${p.refDate}' AND index_code = 'NONE'`
          )
          assert.deepStrictEqual(rows, [])
        }))

      it.effect("an unknown table fails with NoSuchTable", () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(QueryEngine.collect("SELECT * FROM no_such_table_in_the_contract"))
          assert.strictEqual(error._tag, "QueryError")
          assert.strictEqual(error.reason, "NoSuchTable", error.message)
        }))

      it.effect("text that is not SQL fails with Syntax", () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(QueryEngine.collect("SELEKT everything FROM b3_portfolio_raw"))
          assert.strictEqual(error.reason, "Syntax", error.message)
        }))

      it.effect("a filter on a column the table lacks fails with Syntax", () =>
        Effect.gen(function*() {
          const p = portfolioOf("IBOV", freshDate(), "2", true)
          yield* seed(p)
          const error = yield* Effect.flip(
            QueryEngine.collect(`SELECT * FROM ${RAW_TABLE} WHERE no_such_column = 'x'`)
          )
          assert.strictEqual(error.reason, "Syntax", error.message)
        }))

      if (options.literals === true) {
        it.effect("typed literals map to the port's SqlValues", () =>
          Effect.gen(function*() {
            const rows = yield* QueryEngine.collect(LITERALS.sql)
            assert.deepStrictEqual(rows, [LITERALS.expected])
          }))
      }
    })
  })
}
