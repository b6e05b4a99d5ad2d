/**
 * The refine, as an executable specification: a pure TypeScript function from raw rows to refined
 * rows. The in-memory `RefineJob` runs it; the SQL refine (`glue/sql/refine.sql`, run by DuckDB
 * locally and by Glue on AWS) implements the same contract and is checked against it row for row.
 *
 * Contract of `refine(raw, rawDates)`:
 * - `raw`: the raw rows of the dates being refined (raw columns + `ref_date` + `index_code`);
 *   `rawDates`: `(index_code, ref_date)` of EVERY raw partition (for the previous snapshot).
 * - One refined row per raw row, i.e. per `(ref_date, index_code, ticker)` (raw files have unique
 *   tickers per index and day: the decoder rejects duplicates).
 * - `ticker = cod`, `company = asset`, `weight_pct = part`, `theoretical_qty = theorical_qty`,
 *   `share_class` = first word of `type` (`Domain.shareClassOf`), `sector = segment`.
 * - `index_constituents` = number of raw rows of that `(ref_date, index_code)`.
 * - `sector_weight_pct` = exact sum of `part` over `(ref_date, index_code, sector)`; null when the
 *   sector is null.
 * - `period_start` = 1 Jan, 1 May or 1 Sep of the four-month period containing `ref_date`;
 *   `days_since_period_start = ref_date - period_start` (0 on the first day).
 * - `days_since_previous_snapshot = ref_date - max(rawDates.ref_date < ref_date of that index)`, or
 *   null when there is none.
 * - Sorted by `ref_date`, `ticker`, `index_code` (binary string order).
 *
 * Values: decimals as exact integers (`weight_pct`, `sector_weight_pct` in thousandths), quantities
 * as `bigint`, dates as `YYYY-MM-DD`.
 *
 * Also here: the refined table's Parquet writer and reader (`Tables.refinedColumns`).
 *
 * @since 0.1.0
 */
import type { IndexCode, RefDate } from "./Domain.js"
import { epochDay, fromEpochDay, shareClassOf } from "./Domain.js"
import * as P from "./internal/parquet.js"
import { lastBelow } from "./internal/sorted.js"
import type { RawFileRow } from "./RawParquet.js"

/** A raw row with its partition values. @category models */
export interface RawRow extends RawFileRow {
  readonly ref_date: RefDate
  readonly index_code: IndexCode
}

/** The raw columns the refine reads (any `RawRow` is one). @category models */
export type RefineInput = Pick<
  RawRow,
  "ref_date" | "index_code" | "cod" | "asset" | "type" | "segment" | "part" | "theorical_qty"
>

/** A raw partition: one index on one day. @category models */
export interface RawDate {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
}

/** The columns inside a refined file (`Tables.refinedColumns`). @category models */
export interface RefinedFileRow {
  readonly index_code: IndexCode
  readonly company: string
  /** Thousandths of a percent. */
  readonly weight_pct: number
  readonly theoretical_qty: bigint
  readonly share_class: string
  readonly sector: string | null
  readonly index_constituents: number
  /** Thousandths of a percent; null when `sector` is null. */
  readonly sector_weight_pct: number | null
  readonly period_start: RefDate
  readonly days_since_period_start: number
  readonly days_since_previous_snapshot: number | null
}

/** A refined row with its partition values (`ref_date`, `ticker`). @category models */
export interface RefinedRow extends RefinedFileRow {
  readonly ref_date: RefDate
  readonly ticker: string
}

/** Start of the four-month portfolio period containing `d`: 1 Jan, 1 May or 1 Sep. @category dates */
export const periodStart = (d: RefDate): RefDate => {
  const month = Number(d.slice(5, 7))
  return `${d.slice(0, 4)}-${month <= 4 ? "01" : month <= 8 ? "05" : "09"}-01` as RefDate
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

interface DayTotals {
  count: number
  readonly sectors: Map<string, { sum: number }>
}

const getOrMake = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  const found = map.get(key)
  if (found !== undefined) return found
  const made = make()
  map.set(key, made)
  return made
}

/**
 * The reference refine. Pure and exact; see the module comment for the contract.
 *
 * @category refine
 */
export const refine = (
  raw: ReadonlyArray<RefineInput>,
  rawDates: ReadonlyArray<RawDate>
): Array<RefinedRow> => {
  // one pass: each row holds its (date, index) and (date, index, sector) totals, complete after the pass
  const days = new Map<string, DayTotals>()
  const tagged = raw.map((r) => {
    const totals = getOrMake(days, `${r.ref_date}|${r.index_code}`, () => ({ count: 0, sectors: new Map() }))
    totals.count += 1
    const sector = r.segment === null ? null : getOrMake(totals.sectors, r.segment, () => ({ sum: 0 }))
    if (sector !== null) sector.sum += r.part
    return { r, totals, sector }
  })
  const snapshots = new Map<string, Array<number>>()
  for (const d of rawDates) {
    const list = snapshots.get(d.indexCode)
    if (list === undefined) snapshots.set(d.indexCode, [epochDay(d.refDate)])
    else list.push(epochDay(d.refDate))
  }
  for (const list of snapshots.values()) list.sort((a, b) => a - b)

  const out: Array<RefinedRow> = tagged.map(({ r, sector, totals }) => {
    const day = epochDay(r.ref_date)
    const start = periodStart(r.ref_date)
    const previous = lastBelow(snapshots.get(r.index_code) ?? [], day)
    return {
      ref_date: r.ref_date,
      ticker: r.cod,
      index_code: r.index_code,
      company: r.asset,
      weight_pct: r.part,
      theoretical_qty: r.theorical_qty,
      share_class: shareClassOf(r.type),
      sector: r.segment,
      index_constituents: totals.count,
      sector_weight_pct: sector === null ? null : sector.sum,
      period_start: start,
      days_since_period_start: day - epochDay(start),
      days_since_previous_snapshot: previous === undefined ? null : day - previous
    }
  })
  out.sort((a, b) => cmp(a.ref_date, b.ref_date) || cmp(a.ticker, b.ticker) || cmp(a.index_code, b.index_code))
  return out
}

// ---------------------------------------------------------------------------------------------
// Refined Parquet
// ---------------------------------------------------------------------------------------------

/**
 * The Parquet bytes of refined rows (one partition's rows, usually one `(ref_date, ticker)`), with
 * the columns of `Tables.refinedColumns` in order; `ref_date` and `ticker` stay in the path.
 * Deterministic. Throws a RangeError when a value does not fit its column.
 *
 * @category parquet
 */
export const encodeRefinedParquet = (rows: ReadonlyArray<RefinedFileRow>): Uint8Array => {
  const n = rows.length
  const qty = new BigInt64Array(n)
  const constituents = new BigInt64Array(n)
  const periodDays = new Int32Array(n)
  const sincePeriod = new Int32Array(n)
  const sincePrevious = new Int32Array(n)
  const at = (i: number): RefinedFileRow => {
    const r = rows[i]
    if (r === undefined) throw new RangeError(`refined row ${i} of ${n} is missing`)
    return r
  }
  for (const [i, r] of rows.entries()) {
    qty[i] = r.theoretical_qty
    constituents[i] = BigInt(r.index_constituents)
    periodDays[i] = epochDay(r.period_start)
    sincePeriod[i] = r.days_since_period_start
    sincePrevious[i] = r.days_since_previous_snapshot ?? 0
  }
  return P.writeColumns([
    P.stringColumn("index_code", 0, n, (i) => at(i).index_code),
    P.stringColumn("company", 1, n, (i) => at(i).company),
    P.decimalColumn("weight_pct", 7, 3, n, (i) => at(i).weight_pct),
    P.int64Column("theoretical_qty", qty),
    P.stringColumn("share_class", 2, n, (i) => at(i).share_class),
    P.stringColumn("sector", 3, n, (i) => at(i).sector),
    P.int64Column("index_constituents", constituents),
    P.decimalColumn("sector_weight_pct", 7, 3, n, (i) => at(i).sector_weight_pct),
    P.dateColumn("period_start", periodDays),
    P.int32Column("days_since_period_start", sincePeriod),
    P.int32Column("days_since_previous_snapshot", sincePrevious, (i) => at(i).days_since_previous_snapshot === null)
  ], n)
}

/**
 * Reads a refined file back, exactly (also files written by DuckDB or Spark with these columns).
 * Throws an Error naming the column and row on bad bytes or a missing/null required value.
 *
 * @category parquet
 */
export const decodeRefinedParquet = (bytes: Uint8Array): Array<RefinedFileRow> => {
  const table = P.readTable(bytes)
  const col = (name: string) => P.child(table, name)
  const indexCode = P.readStrings(col("index_code"))
  const company = P.readStrings(col("company"))
  const weight = P.readDecimals(col("weight_pct"))
  const qty = P.readInt64(col("theoretical_qty"))
  const shareClass = P.readStrings(col("share_class"))
  const sector = P.readStrings(col("sector"))
  const constituents = P.readInt64(col("index_constituents"))
  const sectorWeight = P.readDecimals(col("sector_weight_pct"))
  const period = P.readDateDays(col("period_start"))
  const sincePeriod = P.readInt32(col("days_since_period_start"))
  const sincePrevious = P.readInt32(col("days_since_previous_snapshot"))
  const need = <A>(values: ReadonlyArray<A | null>, column: string, i: number): A => {
    const v = values[i]
    if (v === null || v === undefined) throw new Error(`column ${column} is null at row ${i + 1}`)
    return v
  }
  const out: Array<RefinedFileRow> = new Array(table.numRows)
  for (let i = 0; i < table.numRows; i++) {
    const sw = sectorWeight.values[i] ?? null
    out[i] = {
      index_code: need(indexCode, "index_code", i) as IndexCode,
      company: need(company, "company", i),
      weight_pct: Number(P.rescale(need(weight.values, "weight_pct", i), weight.scale, 3)),
      theoretical_qty: need(qty, "theoretical_qty", i),
      share_class: need(shareClass, "share_class", i),
      sector: sector[i] ?? null,
      index_constituents: Number(need(constituents, "index_constituents", i)),
      sector_weight_pct: sw === null ? null : Number(P.rescale(sw, sectorWeight.scale, 3)),
      period_start: fromEpochDay(need(period, "period_start", i)),
      days_since_period_start: need(sincePeriod, "days_since_period_start", i),
      days_since_previous_snapshot: sincePrevious[i] ?? null
    }
  }
  return out
}
