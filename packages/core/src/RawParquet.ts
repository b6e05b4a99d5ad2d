/**
 * The Parquet file of one raw partition (`b3_portfolio_raw`, one index on one day): its writer,
 * built straight from the columnar `Portfolio`, and an exact reader.
 *
 * Columns and types are `Tables.rawColumns`, in that order, every column OPTIONAL: `int` -> INT32,
 * `string` -> UTF-8 BYTE_ARRAY (STRING), `decimal(p,s)` -> DECIMAL(p,s) on INT32 (p <= 9) or INT64
 * (p <= 18) with exact unscaled integers, `bigint` -> INT64; uncompressed pages, dictionary-encoded
 * where that is smaller (a constant column costs one value a file), one row group. The
 * partition columns (`ref_date`, `index_code`) live in the path, not in the file. No timestamp or
 * random value goes into the file: the same portfolio and metadata always give the same bytes,
 * which is what makes re-running the raw layer a no-op.
 *
 * The writer is core's `SmallParquet` (pure TypeScript, one reused buffer): for a file of ~120 rows
 * it costs a fraction of hyparquet-writer's ~0.9 ms (its writer before) and of building an Arrow
 * table for parquet-wasm (which writes the same physical types, so DuckDB, Athena and
 * `decodeRawParquet` read both alike). The Arrow helpers (`rawColumnsOf`, `writeColumns`) stay for
 * benchmarks and batch writers. Files written by the earlier writer (SNAPPY pages) read the same;
 * re-ingesting such a day replaces its raw file once (new bytes, same rows) and refines the date.
 *
 * Row values in TypeScript (`RawFileRow`): `decimal(7,3)` as integer thousandths (`number`:
 * 3.570% is 3570), `bigint` as `bigint`, `decimal(18,8)` as the unscaled `bigint` (1e-8 units).
 *
 * @since 0.1.0
 */
import type { Portfolio } from "./Domain.js"
import * as P from "./internal/parquet.js"
import { sectorTotals } from "./internal/rawParquetEncode.js"

/** What the raw file records about its payload besides the portfolio. @category models */
export interface RawMeta {
  /** SHA-256 (hex) of the archived payload bytes (all pages, concatenated in order). */
  readonly payloadSha256: string
  /** ISO-8601 time the payload was (first) fetched. */
  readonly fetchedAt: string
}

/**
 * One row of a raw file, named as its columns (`Tables.rawColumns`).
 *
 * @category models
 */
export interface RawFileRow {
  readonly row_number: number
  readonly segment: string | null
  readonly cod: string
  readonly asset: string
  readonly type: string
  /** decimal(7,3) as thousandths of a percent. */
  readonly part: number
  /** decimal(7,3) as thousandths of a percent; null in by-ticker data. */
  readonly part_acum: number | null
  readonly theorical_qty: bigint
  readonly total_qty: bigint
  /** decimal(18,8) unscaled (units of 1e-8); null when the payload has none. */
  readonly reductor: bigint | null
  readonly language: string
  readonly source_format: string
  readonly payload_sha256: string
  readonly fetched_at: string
}

/**
 * The writer (`encodeRawParquet`) and the sector totals live in `internal/rawParquetEncode.ts`,
 * which imports neither Arrow nor parquet-wasm: the raw layer imports them from there, so a bundle
 * that writes raw files (the ingest Lambda's) carries neither. This module is their public home.
 *
 * @category encoding
 */
export { encodeRawParquet, sectorTotals } from "./internal/rawParquetEncode.js"

/**
 * The columns of a raw file, ready for `writeColumns` (exposed for benchmarks and batch writers).
 *
 * @category encoding
 */
export const rawColumnsOf = (p: Portfolio, meta: RawMeta): Array<P.ColumnData> => {
  const n = p.size
  const rowNumbers = new Int32Array(n)
  for (let i = 0; i < n; i++) rowNumbers[i] = i + 1
  const partAcum = sectorTotals(p)
  const totals = new BigInt64Array(n).fill(p.totalQuantity)
  const reductor = p.reductor
  return [
    P.int32Column("row_number", rowNumbers),
    P.stringColumn("segment", 0, n, (i) => p.sectors[i] ?? null),
    P.stringColumn("cod", 1, n, (i) => p.tickers[i] ?? null),
    P.stringColumn("asset", 2, n, (i) => p.assets[i] ?? null),
    P.stringColumn("type", 3, n, (i) => p.types[i] ?? null),
    P.decimalColumn("part", 7, 3, n, (i) => p.weights[i] ?? null),
    P.decimalColumn("part_acum", 7, 3, n, (i) => partAcum[i] ?? null),
    P.int64Column("theorical_qty", p.quantities.subarray(0, n)),
    P.int64Column("total_qty", totals),
    P.decimalColumn("reductor", 18, 8, n, () => reductor),
    P.constantStringColumn("language", 4, n, p.language),
    P.constantStringColumn("source_format", 5, n, p.format),
    P.constantStringColumn("payload_sha256", 6, n, meta.payloadSha256),
    P.constantStringColumn("fetched_at", 7, n, meta.fetchedAt)
  ]
}

/**
 * A dictionary-encoded string column built the way the writers build theirs (codes interned with a
 * `Map`), exposed for benchmarks. `id` must be unique within a file.
 *
 * @category encoding
 */
export const dictionaryStringColumn = (
  name: string,
  id: number,
  values: ReadonlyArray<string | null>
): P.ColumnData => P.stringColumn(name, id, values.length, (i) => values[i] ?? null)

/** Writes columns of equal length as one Parquet file (exposed for benchmarks). @category encoding */
export const writeColumns = (columns: ReadonlyArray<P.ColumnData>, length: number): Uint8Array =>
  P.writeColumns(columns, length)

const need = <A>(values: ReadonlyArray<A | null>, column: string, i: number): A => {
  const v = values[i]
  if (v === null || v === undefined) throw new Error(`column ${column} is null at row ${i + 1}`)
  return v
}

/**
 * Reads a raw file back, exactly. Throws an Error naming the column and row when the bytes are
 * not Parquet, a column is missing or a required value is null.
 *
 * @category decoding
 */
export const decodeRawParquet = (bytes: Uint8Array): Array<RawFileRow> => {
  const table = P.readTable(bytes)
  const col = (name: string) => P.child(table, name)
  const rowNumber = P.readInt32(col("row_number"))
  const segment = P.readStrings(col("segment"))
  const cod = P.readStrings(col("cod"))
  const asset = P.readStrings(col("asset"))
  const type = P.readStrings(col("type"))
  const part = P.readDecimals(col("part"))
  const partAcum = P.readDecimals(col("part_acum"))
  const qty = P.readInt64(col("theorical_qty"))
  const total = P.readInt64(col("total_qty"))
  const reductor = P.readDecimals(col("reductor"))
  const language = P.readStrings(col("language"))
  const sourceFormat = P.readStrings(col("source_format"))
  const sha = P.readStrings(col("payload_sha256"))
  const fetchedAt = P.readStrings(col("fetched_at"))
  const thousandths = (d: { scale: number; values: Array<bigint | null> }, i: number): number | null => {
    const v = d.values[i]
    return v === null || v === undefined ? null : Number(P.rescale(v, d.scale, 3))
  }
  const out: Array<RawFileRow> = new Array(table.numRows)
  for (let i = 0; i < table.numRows; i++) {
    const r = reductor.values[i] ?? null
    const w = thousandths(part, i)
    if (w === null) throw new Error(`column part is null at row ${i + 1}`)
    out[i] = {
      row_number: need(rowNumber, "row_number", i),
      segment: segment[i] ?? null,
      cod: need(cod, "cod", i),
      asset: need(asset, "asset", i),
      type: need(type, "type", i),
      part: w,
      part_acum: thousandths(partAcum, i),
      theorical_qty: need(qty, "theorical_qty", i),
      total_qty: need(total, "total_qty", i),
      reductor: r === null ? null : P.rescale(r, reductor.scale, 8),
      language: need(language, "language", i),
      source_format: need(sourceFormat, "source_format", i),
      payload_sha256: need(sha, "payload_sha256", i),
      fetched_at: need(fetchedAt, "fetched_at", i)
    }
  }
  return out
}
