/**
 * The raw Parquet writer (`RawParquet.encodeRawParquet`, hyparquet-writer) and the sector totals,
 * in a module that imports neither Arrow nor parquet-wasm (`RawParquet` also holds the Arrow
 * helpers and the reader, which need both). The raw layer imports from here, so a bundle that only
 * writes raw files (the ingest Lambda's) carries neither.
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer"
import type { ColumnSource, SchemaElement } from "hyparquet-writer"
import type { Portfolio } from "../Domain.js"
import type { RawMeta } from "../RawParquet.js"

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
