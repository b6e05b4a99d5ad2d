/**
 * The SQL `b3 report` runs (Trino dialect, also valid DuckDB: the same text on Athena and locally).
 * Every identifier and literal comes from a branded `IndexCode`, `Ticker` or `RefDate` (whose
 * grammars admit no quote, space or slash), never from raw user text. Each statement's rows have a
 * Schema in `Model.ts`.
 *
 * @since 0.1.0
 */
import type { IndexCode, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import { RAW_TABLE, REFINED_TABLE } from "@b3-pipeline/core/Tables"

const SAFE_LITERAL = /^[A-Z0-9-]+$/

/** A string literal from a branded value; the grammar check is a second line of defence. */
const lit = (value: IndexCode | Ticker): string => {
  if (!SAFE_LITERAL.test(value)) throw new Error(`unsafe SQL literal ${JSON.stringify(value)}`)
  return `'${value}'`
}
const dateLit = (value: RefDate): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new Error(`unsafe SQL date ${JSON.stringify(value)}`)
  return `DATE '${value}'`
}
const inList = (values: ReadonlyArray<Ticker>): string => values.map(lit).join(", ")

/**
 * The SQL the report runs, exported so tests (and curious users) can read it.
 *
 * @category sql
 */
export const sql = {
  indexes: `SELECT index_code, count(*) AS row_count FROM ${REFINED_TABLE} GROUP BY index_code ORDER BY index_code`,
  dates: (index: IndexCode) =>
    `SELECT ref_date, count(*) AS constituents FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } GROUP BY ref_date ORDER BY ref_date`,
  members: (index: IndexCode, date: RefDate) =>
    `SELECT ticker, company, share_class, sector, weight_pct, theoretical_qty FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ref_date = ${dateLit(date)} ORDER BY weight_pct DESC, ticker`,
  sectors: (index: IndexCode, date: RefDate) =>
    `SELECT sector, sum(weight_pct) AS weight_pct, count(*) AS members FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ref_date = ${dateLit(date)} GROUP BY sector ORDER BY sum(weight_pct) DESC, sector`,
  header: (index: IndexCode, date: RefDate) =>
    `SELECT total_qty, reductor FROM ${RAW_TABLE} WHERE index_code = ${lit(index)} AND ref_date = ${
      dateLit(date)
    } LIMIT 1`,
  knownTickers: (index: IndexCode, tickers: ReadonlyArray<Ticker>) =>
    `SELECT ticker, count(*) AS snapshots FROM ${REFINED_TABLE} WHERE index_code = ${lit(index)} AND ticker IN (${
      inList(tickers)
    }) GROUP BY ticker ORDER BY ticker`,
  allTickers: (index: IndexCode) =>
    `SELECT ticker, max(weight_pct) AS weight_pct FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } GROUP BY ticker ORDER BY max(weight_pct) DESC, ticker`,
  series: (index: IndexCode, tickers: ReadonlyArray<Ticker>, upTo: RefDate) =>
    `SELECT ref_date, ticker, company, weight_pct FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ticker IN (${inList(tickers)}) AND ref_date <= ${dateLit(upTo)} ORDER BY ref_date, ticker`
} as const
