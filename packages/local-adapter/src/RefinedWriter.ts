/**
 * Writes the refined partition files of a refine pass straight from DuckDB's result, one date at a
 * time: the date's rows of the `refined` table (built by `glue/sql/refine.sql`) are read column by
 * column, cut into runs of one ticker, and each run is encoded as one Parquet file
 * (`<staging>/ref_date=D/ticker=T/part-00000.parquet`) by core's `SmallParquet` (PLAIN pages).
 *
 * Why not DuckDB's `COPY ... PARTITION_BY (ticker)`: with one small file per ticker (about 900 a
 * date) the partitioned COPY holds a buffer per open partition (a date took ~250 MB, a month did not
 * fit in 4 GB) and spends ~0.4 ms a file. Why not a general writer: core's
 * `Refine.encodeRefinedParquet` (Arrow + parquet-wasm) costs 0.35-0.75 ms a file of one to a few
 * rows, hyparquet-writer about 0.25-0.35 ms; `smallParquet` writes the same columns, types and values
 * in 10-20 us (`npm run bench -- parquet`), which took the encoding out of a backfill's refine
 * (3.2 s of a 20-day replay's 10 s refine before). The files read back as the same rows through
 * core's `Refine.decodeRefinedParquet` and DuckDB (test/RefinedWriter.test.ts).
 *
 * Memory: a date's rows and files; two dates while one is written and the next refined (DuckDbRefineJob).
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import type { SmallColumn } from "@b3-pipeline/core/SmallParquet"
import * as SmallParquet from "@b3-pipeline/core/SmallParquet"
import * as Effect from "effect/Effect"
import * as nodeFs from "node:fs"
import * as nodePath from "node:path"
import type { Db, DuckDbFailure } from "./internal/duckdb.js"
import { literal } from "./internal/duckdb.js"

/**
 * The columns of a refined file, in file order (`Tables.refinedColumns`), with how DuckDB hands each
 * one over: decimals as their unscaled thousandths (BIGINT), dates as days since 1970-01-01.
 */
const COLUMNS: ReadonlyArray<{ readonly column: SmallColumn; readonly select: string }> = [
  { column: { name: "index_code", type: "BYTE_ARRAY", converted: "UTF8" }, select: "index_code" },
  { column: { name: "company", type: "BYTE_ARRAY", converted: "UTF8" }, select: "company" },
  {
    column: { name: "weight_pct", type: "INT32", converted: "DECIMAL", precision: 7, scale: 3 },
    select: "CAST(weight_pct * 1000 AS BIGINT)"
  },
  { column: { name: "theoretical_qty", type: "INT64" }, select: "CAST(theoretical_qty AS BIGINT)" },
  { column: { name: "share_class", type: "BYTE_ARRAY", converted: "UTF8" }, select: "share_class" },
  { column: { name: "sector", type: "BYTE_ARRAY", converted: "UTF8" }, select: "sector" },
  { column: { name: "index_constituents", type: "INT64" }, select: "CAST(index_constituents AS BIGINT)" },
  {
    column: { name: "sector_weight_pct", type: "INT32", converted: "DECIMAL", precision: 7, scale: 3 },
    select: "CAST(sector_weight_pct * 1000 AS BIGINT)"
  },
  {
    column: { name: "period_start", type: "INT32", converted: "DATE" },
    select: "CAST(date_diff('day', DATE '1970-01-01', period_start) AS INTEGER)"
  },
  { column: { name: "days_since_period_start", type: "INT32" }, select: "days_since_period_start" },
  { column: { name: "days_since_previous_snapshot", type: "INT32" }, select: "days_since_previous_snapshot" }
]

/**
 * One refined file: the rows `[from, to)` of `columns` (in `COLUMNS` order, as DuckDB returned them).
 *
 * @category encoding
 */
export const encodeFile: (columns: ReadonlyArray<ReadonlyArray<unknown>>, from: number, to: number) => Uint8Array =
  SmallParquet.encoder(COLUMNS.map((c) => c.column), "b3-pipeline")

/** A date's rows, read: its tickers in order, and how to write their files. @category models */
export interface StagedDate {
  readonly refDate: RefDate
  readonly tickers: ReadonlyArray<string>
  readonly rows: number
  /**
   * Encodes and writes every ticker's file under `staging` (a folder of this run only); fails with
   * the filesystem's error (an errno error naming the path).
   */
  readonly write: (staging: string) => Effect.Effect<void, unknown>
}

/**
 * Reads one date of the `refined` table (ordered by ticker, then index code: the file order).
 *
 * @category encoding
 */
export const readDate = (db: Db, refDate: RefDate): Effect.Effect<StagedDate, DuckDbFailure> =>
  Effect.map(
    db.all(
      `SELECT ticker, ${COLUMNS.map((c) => c.select).join(", ")} FROM refined
       WHERE ref_date = DATE ${literal(refDate)} ORDER BY ticker, index_code`
    ),
    (result) => {
      const [tickerColumn = [], ...columns] = result.getColumnsJS()
      const n = tickerColumn.length
      const runs: Array<{ readonly ticker: string; readonly from: number; readonly to: number }> = []
      let from = 0
      while (from < n) {
        const ticker = String(tickerColumn[from])
        let to = from + 1
        while (to < n && String(tickerColumn[to]) === ticker) to++
        runs.push({ ticker, from, to })
        from = to
      }
      return {
        refDate,
        tickers: runs.map((r) => r.ticker),
        rows: n,
        write: (staging) =>
          Effect.try({
            try: () => {
              // Synchronous node:fs calls, one file after the other: ~800 small files a date into a
              // staging folder of this run only. Each asynchronous call is a round trip through
              // libuv's thread pool; for a file of 1-2 KB that round trip costs more than the call
              // (on tmpfs, 800 folders + files: ~45 us a file this way, ~170-210 us through
              // fs.promises 4 or 8 at a time, with three times the CPU). The refine job overlaps
              // this write with DuckDB's refine of the next date (DuckDbRefineJob).
              const dateDir = nodePath.join(staging, `ref_date=${refDate}`)
              nodeFs.mkdirSync(dateDir, { recursive: true })
              for (const r of runs) {
                const dir = nodePath.join(dateDir, `ticker=${r.ticker}`)
                nodeFs.mkdirSync(dir, { recursive: true })
                nodeFs.writeFileSync(nodePath.join(dir, "part-00000.parquet"), encodeFile(columns, r.from, r.to))
              }
            },
            catch: (cause) => cause
          })
      }
    }
  )
