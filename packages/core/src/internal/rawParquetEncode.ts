/**
 * The raw Parquet writer (`RawParquet.encodeRawParquet`, on `SmallParquet`) and the sector totals,
 * in a module that imports neither Arrow nor parquet-wasm (`RawParquet` also holds the Arrow
 * helpers and the reader, which need both). The raw layer imports from here, so a bundle that only
 * writes raw files (the ingest Lambda's) carries neither.
 */
import type { Portfolio } from "../Domain.js"
import type { RawMeta } from "../RawParquet.js"
import type { SmallColumn } from "../SmallParquet.js"
import * as SmallParquet from "../SmallParquet.js"

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
  const constant = <A>(value: A): Array<A> => new Array<A>(n).fill(value)
  return encode(
    [
      rowNumbers,
      p.sectors,
      p.tickers,
      p.assets,
      p.types,
      decimals("part", 7, n, (i) => p.weights[i] ?? null),
      decimals("part_acum", 7, n, (i) => partAcum[i] ?? null),
      p.quantities,
      constant(p.totalQuantity),
      decimals("reductor", 18, n, () => p.reductor),
      constant(p.language),
      constant(p.format),
      constant(meta.payloadSha256),
      constant(meta.fetchedAt)
    ],
    0,
    n
  )
}

const text = (name: string): SmallColumn => ({ name, type: "BYTE_ARRAY", converted: "UTF8" })

const decimal = (name: string, precision: number, scale: number): SmallColumn => ({
  name,
  type: precision <= 9 ? "INT32" : "INT64",
  converted: "DECIMAL",
  precision,
  scale
})

/** The raw file's columns (`Tables.rawColumns`, in order). */
const RAW_COLUMNS: ReadonlyArray<SmallColumn> = [
  { name: "row_number", type: "INT32" },
  text("segment"),
  text("cod"),
  text("asset"),
  text("type"),
  decimal("part", 7, 3),
  decimal("part_acum", 7, 3),
  { name: "theorical_qty", type: "INT64" },
  { name: "total_qty", type: "INT64" },
  decimal("reductor", 18, 8),
  text("language"),
  text("source_format"),
  text("payload_sha256"),
  text("fetched_at")
]

/** Dictionary pages where they make a column smaller: the constant columns cost one value a file. */
const encode = SmallParquet.encoder(RAW_COLUMNS, "b3-pipeline", { dictionary: true })

/**
 * A decimal column's exact unscaled values (numbers, or bigints as given). Throws a RangeError
 * naming the column when a value has more digits than `precision`.
 */
const decimals = (
  name: string,
  precision: number,
  n: number,
  unscaledAt: (i: number) => bigint | number | null
): Array<bigint | number | null> => {
  const limit = 10n ** BigInt(precision)
  const numberLimit = Number(limit)
  const out: Array<bigint | number | null> = new Array(n)
  for (let i = 0; i < n; i++) {
    const raw = unscaledAt(i)
    if (typeof raw === "number") {
      if (!Number.isSafeInteger(raw) || Math.abs(raw) >= numberLimit) {
        throw new RangeError(`${name}: ${raw} does not fit decimal(${precision})`)
      }
    } else if (raw !== null && (raw >= limit || raw <= -limit)) {
      throw new RangeError(`${name}: ${raw} does not fit decimal(${precision})`)
    }
    out[i] = raw
  }
  return out
}
