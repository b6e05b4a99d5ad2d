/**
 * The Parquet file of one raw partition (`b3_portfolio_raw`, one index on one day): its writer,
 * built straight from the columnar `Portfolio`, and an exact reader.
 *
 * Columns and types are `Tables.rawColumns`, in that order, every column OPTIONAL: `int` -> INT32,
 * `string` -> UTF-8 BYTE_ARRAY (STRING), `decimal(p,s)` -> DECIMAL(p,s) on INT32 (p <= 9) or INT64
 * (p <= 18) with exact unscaled integers, `bigint` -> INT64; SNAPPY pages, one row group. The
 * partition columns (`ref_date`, `index_code`) live in the path, not in the file. No timestamp or
 * random value goes into the file: the same portfolio and metadata always give the same bytes,
 * which is what makes re-running the raw layer a no-op.
 *
 * The writer is hyparquet-writer (pure JavaScript): for files of a few hundred rows it costs under
 * half of building an Arrow table and handing its IPC stream to parquet-wasm (which the physical
 * types above match, so DuckDB, Athena and `decodeRawParquet` read both alike). The Arrow helpers
 * (`rawColumnsOf`, `writeColumns`) stay for benchmarks and batch writers.
 *
 * Row values in TypeScript (`RawFileRow`): `decimal(7,3)` as integer thousandths (`number`:
 * 3.570% is 3570), `bigint` as `bigint`, `decimal(18,8)` as the unscaled `bigint` (1e-8 units).
 *
 * @since 0.1.0
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer"
import type { ColumnSource, SchemaElement } from "hyparquet-writer"
import type { Portfolio } from "./Domain.js"
import * as P from "./internal/parquet.js"

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
 * The sector total of each row's sector (`part_acum`), in thousandths; `null` where the row has
 * no sector.
 *
 * @category encoding
 */
export const sectorTotals = (p: Portfolio): Array<number | null> => {
  const totals = new Map<string, number>()
  for (let i = 0; i < p.size; i++) {
    const s = p.sectors[i] ?? null
    if (s !== null) totals.set(s, (totals.get(s) ?? 0) + (p.weights[i] ?? 0))
  }
  const out: Array<number | null> = new Array(p.size)
  for (let i = 0; i < p.size; i++) {
    const s = p.sectors[i] ?? null
    out[i] = s === null ? null : totals.get(s) ?? null
  }
  return out
}

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

/**
 * The Parquet bytes of one portfolio. Deterministic. Throws a RangeError when a value does not fit
 * its column type (a weight over 9999.999%): callers turn it into a typed error.
 *
 * @category encoding
 */
export const encodeRawParquet = (portfolio: Portfolio, meta: RawMeta): Uint8Array => {
  const p = portfolio
  const n = p.size
  const rowNumbers = new Int32Array(n)
  for (let i = 0; i < n; i++) rowNumbers[i] = i + 1
  const partAcum = sectorTotals(p)
  const strings = (at: (i: number) => string | null | undefined): Array<string | null> => {
    const out: Array<string | null> = new Array(n)
    for (let i = 0; i < n; i++) out[i] = at(i) ?? null
    return out
  }
  const constant = <A>(value: A): Array<A> => new Array<A>(n).fill(value)
  const data: ReadonlyArray<ColumnSource["data"]> = [
    rowNumbers,
    strings((i) => p.sectors[i]),
    strings((i) => p.tickers[i]),
    strings((i) => p.assets[i]),
    strings((i) => p.types[i]),
    decimals("part", 7, n, (i) => p.weights[i] ?? null),
    decimals("part_acum", 7, n, (i) => partAcum[i] ?? null),
    p.quantities.slice(0, n),
    constant(p.totalQuantity),
    decimals("reductor", 18, n, () => p.reductor),
    constant(p.language),
    constant(p.format),
    constant(meta.payloadSha256),
    constant(meta.fetchedAt)
  ]
  const writer = new ByteWriter()
  parquetWrite({
    writer,
    schema: RAW_SCHEMA,
    columnData: RAW_ELEMENTS.map((e, i): ColumnSource => ({
      name: e.name,
      data: data[i] ?? [],
      statistics: false,
      offsetIndex: false
    })),
    rowGroupSize: Math.max(1, n),
    codec: "SNAPPY",
    statistics: false,
    createdBy: "b3-pipeline (hyparquet-writer 0.17)"
  })
  return new Uint8Array(writer.getBuffer())
}

const stringElement = (name: string): SchemaElement => ({
  name,
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  logical_type: { type: "STRING" },
  repetition_type: "OPTIONAL"
})

const decimalElement = (name: string, precision: number, scale: number): SchemaElement => ({
  name,
  type: precision <= 9 ? "INT32" : "INT64",
  converted_type: "DECIMAL",
  precision,
  scale,
  logical_type: { type: "DECIMAL", precision, scale },
  repetition_type: "OPTIONAL"
})

/** The raw file's columns (`Tables.rawColumns`, in order). */
const RAW_ELEMENTS: ReadonlyArray<SchemaElement> = [
  { name: "row_number", type: "INT32", repetition_type: "OPTIONAL" },
  stringElement("segment"),
  stringElement("cod"),
  stringElement("asset"),
  stringElement("type"),
  decimalElement("part", 7, 3),
  decimalElement("part_acum", 7, 3),
  { name: "theorical_qty", type: "INT64", repetition_type: "OPTIONAL" },
  { name: "total_qty", type: "INT64", repetition_type: "OPTIONAL" },
  decimalElement("reductor", 18, 8),
  stringElement("language"),
  stringElement("source_format"),
  stringElement("payload_sha256"),
  stringElement("fetched_at")
]

const RAW_SCHEMA: Array<SchemaElement> = [{ name: "schema", num_children: RAW_ELEMENTS.length }, ...RAW_ELEMENTS]

/**
 * A decimal column's exact unscaled values as bigints (what hyparquet-writer writes as they are).
 * Throws a RangeError naming the column when a value has more digits than `precision`.
 */
const decimals = (
  name: string,
  precision: number,
  n: number,
  unscaledAt: (i: number) => bigint | number | null
): Array<bigint | null> => {
  const limit = 10n ** BigInt(precision)
  const numberLimit = Number(limit)
  const out: Array<bigint | null> = new Array(n)
  let last: bigint | number | null | undefined
  let lastBig: bigint | null = null
  for (let i = 0; i < n; i++) {
    const raw = unscaledAt(i)
    if (raw === last) {
      out[i] = lastBig
      continue
    }
    let v: bigint | null = null
    if (typeof raw === "number") {
      if (!Number.isSafeInteger(raw) || Math.abs(raw) >= numberLimit) {
        throw new RangeError(`${name}: ${raw} does not fit decimal(${precision})`)
      }
      v = BigInt(raw)
    } else if (raw !== null) {
      if (raw >= limit || raw <= -limit) throw new RangeError(`${name}: ${raw} does not fit decimal(${precision})`)
      v = raw
    }
    out[i] = v
    last = raw
    lastBig = v
  }
  return out
}

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
