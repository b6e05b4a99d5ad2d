/**
 * Test support for the report: a `QueryEngine` over an in-memory DuckDB database (via
 * @duckdb/node-api directly) holding `b3_portfolio_refined` and `b3_portfolio_raw` tables built by
 * the test from canonical `Portfolio`s, the way the refine job derives them.
 */
import {
  epochDay,
  formatDecimal,
  REDUCTOR_SCALE,
  refDateFromParts,
  shareClassOf,
  WEIGHT_SCALE
} from "@b3-pipeline/core/Domain"
import type { IndexCode, Portfolio, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import { QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import type { Row, SqlValue } from "@b3-pipeline/core/QueryEngine"
import { DuckDBInstance } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

const toSafe = (text: string): number | bigint => {
  const b = BigInt(text)
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b
}

/** DuckDB value (JSON-converted) -> QueryEngine.SqlValue: DECIMAL exact text, DATE text, BIGINT number|bigint. */
const mapValue = (type: string, value: unknown): SqlValue => {
  if (value === null || value === undefined) return null
  if (/^(BIGINT|HUGEINT|UBIGINT)$/.test(type)) return toSafe(String(value))
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  return JSON.stringify(value)
}

/** Every SQL text the engine was asked to run, in order (for dialect checks). */
export interface RecordingEngine {
  readonly statements: Array<string>
}

/**
 * A QueryEngine layer over a fresh in-memory DuckDB database, after running `setup`.
 * Pass `recorder` to collect the statements the code under test sends.
 */
export const duckDbEngine = (setup: ReadonlyArray<string>, recorder?: RecordingEngine): Layer.Layer<QueryEngine> =>
  Layer.scoped(
    QueryEngine,
    Effect.gen(function*() {
      const instance = yield* Effect.promise(() => DuckDBInstance.create(":memory:"))
      const connection = yield* Effect.acquireRelease(
        Effect.promise(() => instance.connect()),
        (c) => Effect.sync(() => c.closeSync())
      )
      for (const statement of setup) yield* Effect.promise(() => connection.run(statement))
      return QueryEngine.of({
        query: (sql) =>
          Effect.tryPromise({
            try: async () => {
              recorder?.statements.push(sql)
              const reader = await connection.runAndReadAll(sql)
              const names = reader.columnNames()
              const types = reader.columnTypes().map(String)
              const rows: Array<Row> = reader.getRowsJson().map((values) => {
                const row: Record<string, SqlValue> = {}
                for (let i = 0; i < names.length; i++) row[names[i]!] = mapValue(types[i]!, values[i])
                return row
              })
              return { columns: names.map((name, i) => ({ name, type: types[i]! })), rows: Stream.fromIterable(rows) }
            },
            catch: (cause) => {
              const message = cause instanceof Error ? cause.message : String(cause)
              return new QueryError({
                reason: /^Parser Error/.test(message) ?
                  "Syntax" :
                  /^Catalog Error: Table with name .* does not exist/.test(message) ?
                  "NoSuchTable" :
                  "Failed",
                sql,
                detail: message,
                cause
              })
            }
          })
      })
    })
  )

const q = (s: string | null): string => s === null ? "NULL" : `'${s.replace(/'/g, "''")}'`

export const CREATE_REFINED = `CREATE TABLE b3_portfolio_refined (
  index_code VARCHAR, company VARCHAR, weight_pct DECIMAL(7,3), theoretical_qty BIGINT, share_class VARCHAR,
  sector VARCHAR, index_constituents BIGINT, sector_weight_pct DECIMAL(7,3), period_start DATE,
  days_since_period_start INTEGER, days_since_previous_snapshot INTEGER, ref_date DATE, ticker VARCHAR)`

export const CREATE_RAW = `CREATE TABLE b3_portfolio_raw (
  row_number INTEGER, segment VARCHAR, cod VARCHAR, asset VARCHAR, type VARCHAR, part DECIMAL(7,3),
  part_acum DECIMAL(7,3), theorical_qty BIGINT, total_qty BIGINT, reductor DECIMAL(18,8), language VARCHAR,
  source_format VARCHAR, payload_sha256 VARCHAR, fetched_at VARCHAR, ref_date DATE, index_code VARCHAR)`

const periodStart = (d: RefDate): RefDate => {
  const y = Number(d.slice(0, 4))
  const m = Number(d.slice(5, 7))
  return refDateFromParts(y, m >= 9 ? 9 : m >= 5 ? 5 : 1, 1)!
}

/**
 * INSERT statements for both tables from portfolios, refined columns derived as the refine job
 * does (company = asset, share class, sector totals, period and snapshot day counts).
 */
export const insertPortfolios = (
  portfolios: ReadonlyArray<Portfolio>,
  options: { raw?: boolean } = {}
): Array<string> => {
  const out: Array<string> = []
  const byIndex = new Map<string, Array<RefDate>>()
  for (const p of portfolios) byIndex.set(p.indexCode, [...(byIndex.get(p.indexCode) ?? []), p.refDate])
  for (const p of portfolios) {
    const sectorTotals = new Map<string, number>()
    for (let i = 0; i < p.size; i++) {
      const s = p.sectors[i]
      if (s != null) sectorTotals.set(s, (sectorTotals.get(s) ?? 0) + p.weights[i]!)
    }
    const dates = [...byIndex.get(p.indexCode)!].sort()
    const prev = dates.filter((d) => d < p.refDate).pop()
    const start = periodStart(p.refDate)
    const refined: Array<string> = []
    const raw: Array<string> = []
    for (let i = 0; i < p.size; i++) {
      const sector = p.sectors[i] ?? null
      refined.push(`(${
        [
          q(p.indexCode),
          q(p.assets[i]!),
          formatDecimal(p.weights[i]!, WEIGHT_SCALE),
          p.quantities[i]!.toString(),
          q(shareClassOf(p.types[i]!)),
          q(sector),
          String(p.size),
          sector === null ? "NULL" : formatDecimal(sectorTotals.get(sector)!, WEIGHT_SCALE),
          `DATE '${start}'`,
          String(epochDay(p.refDate) - epochDay(start)),
          prev === undefined ? "NULL" : String(epochDay(p.refDate) - epochDay(prev)),
          `DATE '${p.refDate}'`,
          q(p.tickers[i]!)
        ].join(", ")
      })`)
      raw.push(`(${
        [
          String(i + 1),
          q(sector),
          q(p.tickers[i]!),
          q(p.assets[i]!),
          q(p.types[i]!),
          formatDecimal(p.weights[i]!, WEIGHT_SCALE),
          sector === null ? "NULL" : formatDecimal(sectorTotals.get(sector)!, WEIGHT_SCALE),
          p.quantities[i]!.toString(),
          p.totalQuantity.toString(),
          p.reductor === null ? "NULL" : formatDecimal(p.reductor, REDUCTOR_SCALE),
          q(p.language),
          q(p.format),
          q("0".repeat(64)),
          q(`${p.refDate}T09:00:00Z`),
          `DATE '${p.refDate}'`,
          q(p.indexCode)
        ].join(", ")
      })`)
    }
    if (refined.length > 0) out.push(`INSERT INTO b3_portfolio_refined VALUES ${refined.join(", ")}`)
    if (options.raw !== false && raw.length > 0) out.push(`INSERT INTO b3_portfolio_raw VALUES ${raw.join(", ")}`)
  }
  return out
}

/** A hand-made member for `portfolio`. */
export interface Member {
  readonly ticker: string
  readonly asset: string
  readonly type?: string
  readonly sector?: string | null
  /** Thousandths of a percent. */
  readonly weight: number
  readonly quantity: bigint
}

/** A hand-made `Portfolio` (quantities summed into the total). */
export const portfolio = (
  indexCode: string,
  refDate: string,
  members: ReadonlyArray<Member>,
  reductor: bigint | null = 1501927420202473n
): Portfolio => ({
  indexCode: indexCode as IndexCode,
  refDate: refDate as RefDate,
  language: "pt-br",
  format: "GetPortfolioDay",
  segment: members.some((m) => m.sector != null) ? "2" : "1",
  size: members.length,
  tickers: members.map((m) => m.ticker as Ticker),
  assets: members.map((m) => m.asset),
  types: members.map((m) => m.type ?? "ON      NM"),
  sectors: members.map((m) => m.sector ?? null),
  weights: Int32Array.from(members.map((m) => m.weight)),
  quantities: BigInt64Array.from(members.map((m) => m.quantity)),
  totalQuantity: members.reduce((a, m) => a + m.quantity, 0n),
  reductor
})
