/**
 * The two tables of the lakehouse, their columns and where they live. One definition, read by the
 * Parquet writers, the catalogs (local and Glue), the refine SQL checks and the README.
 *
 * Hive layout: partition columns live in the `k=v` path and are NOT repeated inside the files.
 *
 * @since 0.1.0
 */
import type { Column, TableDef } from "./Catalog.js"
import type { IndexCode, RefDate } from "./Domain.js"
import { unsafeKey } from "./ObjectStore.js"
import type { ObjectKey } from "./ObjectStore.js"

/** The database tables are registered in (Glue's `default`). @category names */
export const DATABASE = "default"
/** @category names */
export const RAW_TABLE = "b3_portfolio_raw"
/** @category names */
export const REFINED_TABLE = "b3_portfolio_refined"
/** Prefix of the raw table's Parquet files. @category names */
export const RAW_PREFIX = `raw/${RAW_TABLE}/`
/** Prefix of the archived payload bytes (kept apart from the table so engines never read them). @category names */
export const PAYLOAD_PREFIX = "raw/b3_portfolio_payloads/"
/** Prefix of the refined table. @category names */
export const REFINED_PREFIX = `refined/${REFINED_TABLE}/`
/** Payloads that failed to parse, with their typed error beside them. @category names */
export const QUARANTINE_PREFIX = "quarantine/"

/**
 * Columns of `b3_portfolio_raw` (inside each file), in file order. B3's own field names, snake-cased.
 *
 * @category raw
 */
export const rawColumns: ReadonlyArray<Column> = [
  { name: "row_number", type: "int", comment: "1-based position of the row in the payload" },
  { name: "segment", type: "string", comment: "B3 sector string (segment 2); null in by-ticker data" },
  { name: "cod", type: "string", comment: "ticker" },
  { name: "asset", type: "string", comment: "B3 short trading name" },
  { name: "type", type: "string", comment: "B3 fixed-width type: share class, event flag, listing segment" },
  { name: "part", type: "decimal(7,3)", comment: "weight in percent" },
  { name: "part_acum", type: "decimal(7,3)", comment: "the sector's total weight (segment 2); null otherwise" },
  { name: "theorical_qty", type: "bigint", comment: "theoretical quantity" },
  { name: "total_qty", type: "bigint", comment: "header/footer total quantity of the index that day" },
  { name: "reductor", type: "decimal(18,8)", comment: "index reductor; null when the payload has none" },
  { name: "language", type: "string", comment: "pt-br or en-us" },
  { name: "source_format", type: "string", comment: "GetPortfolioDay, GetTheoricalPortfolio or CSV" },
  { name: "payload_sha256", type: "string", comment: "SHA-256 of the archived payload bytes" },
  { name: "fetched_at", type: "string", comment: "ISO-8601 time the payload was fetched" }
]

/** @category raw */
export const rawPartitionKeys: ReadonlyArray<Column> = [
  { name: "ref_date", type: "date", comment: "B3's date of the portfolio (header date)" },
  { name: "index_code", type: "string" }
]

/** @category raw */
export const rawTable: TableDef = {
  database: DATABASE,
  name: RAW_TABLE,
  location: RAW_PREFIX,
  columns: rawColumns,
  partitionKeys: rawPartitionKeys,
  comment: "B3 Carteira do Dia as fetched: one row per index member per day"
}

/**
 * Columns of `b3_portfolio_refined` (inside each file), in file order.
 *
 * @category refined
 */
export const refinedColumns: ReadonlyArray<Column> = [
  { name: "index_code", type: "string" },
  { name: "company", type: "string", comment: "renamed from asset" },
  { name: "weight_pct", type: "decimal(7,3)", comment: "renamed from part" },
  { name: "theoretical_qty", type: "bigint", comment: "renamed from theoricalQty" },
  { name: "share_class", type: "string", comment: "first word of type: ON, PN, PNA, UNT, CI..." },
  { name: "sector", type: "string", comment: "null in segment-1 data" },
  { name: "index_constituents", type: "bigint", comment: "count of the index's rows that day" },
  {
    name: "sector_weight_pct",
    type: "decimal(7,3)",
    comment: "sum of weight_pct of the row's sector in the index that day"
  },
  { name: "period_start", type: "date", comment: "start of the four-month portfolio period (1 Jan, 1 May, 1 Sep)" },
  { name: "days_since_period_start", type: "int" },
  {
    name: "days_since_previous_snapshot",
    type: "int",
    comment: "days since the index's previous ref_date; null for the first"
  }
]

/** @category refined */
export const refinedPartitionKeys: ReadonlyArray<Column> = [
  { name: "ref_date", type: "date" },
  { name: "ticker", type: "string", comment: "renamed from cod" }
]

/** @category refined */
export const refinedTable: TableDef = {
  database: DATABASE,
  name: REFINED_TABLE,
  location: REFINED_PREFIX,
  columns: refinedColumns,
  partitionKeys: refinedPartitionKeys,
  comment: "One row per (ref_date, index_code, ticker), with sector and date aggregates"
}

/** Folder of one raw partition. @category keys */
export const rawPartitionPrefix = (refDate: RefDate, indexCode: IndexCode): string =>
  `${RAW_PREFIX}ref_date=${refDate}/index_code=${indexCode}/`

/** The one Parquet file of a raw partition (replaced when a different payload arrives). @category keys */
export const rawParquetKey = (refDate: RefDate, indexCode: IndexCode): ObjectKey =>
  unsafeKey(`${RAW_PREFIX}ref_date=${refDate}`, `index_code=${indexCode}`, "part-00000.parquet")

/**
 * Parses a raw Parquet key back into its date and index, or `undefined` for any other key
 * (payloads, refined files, temp files).
 *
 * @category keys
 */
export const parseRawParquetKey = (
  key: string
): { readonly refDate: RefDate; readonly indexCode: IndexCode } | undefined => {
  const m = /^raw\/b3_portfolio_raw\/ref_date=(\d{4}-\d{2}-\d{2})\/index_code=([A-Z][A-Z0-9]{2,5})\/[^/]+\.parquet$/
    .exec(key)
  return m === null ? undefined : { refDate: m[1] as RefDate, indexCode: m[2] as IndexCode }
}

/** Folder of one refined partition. @category keys */
export const refinedPartitionPrefix = (refDate: RefDate, ticker: string): string =>
  `${REFINED_PREFIX}ref_date=${refDate}/ticker=${ticker}/`
