/**
 * Raw Parquet benchmark (stage 3, write raw). On ~1M generated rows (IBOV-, IBRA- and SMLL-sized
 * portfolios, by sector, cycled over a year of days):
 * - `encodeRawParquet` as the raw layer calls it: one file per (index, day), against hyparquet-writer
 *   writing the same columns with SNAPPY pages (the raw encoder before `SmallParquet`);
 * - the same rows as ONE file (a synthetic 1M-row portfolio): the encoder's throughput without the
 *   per-file cost;
 * - `decodeRawParquet` of the per-portfolio files;
 * - building the four string columns (cod, asset, type, segment) of all rows: naive Arrow Utf8
 *   (`vectorFromArray(values, new Utf8())`) against the Map-interned dictionary build, and the ratio.
 * - a refined `(date, ticker)` partition file of 1 and 3 rows (what a backfill writes ~200k of a
 *   year): `RefinedWriter.encodeFile` (core's `SmallParquet`, PLAIN pages) against
 *   hyparquet-writer with the same schema and options (the encoder it replaced), per file.
 * Times are medians of RUNS runs after a warm-up; the per-file passes (thousands of files) and the
 * slow naive build run once.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/parquet.ts`.
 */
import type { IndexCode, Portfolio, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import { generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import { decodeRawParquet, dictionaryStringColumn, encodeRawParquet, sectorTotals } from "@b3-pipeline/core/RawParquet"
import { encodeFile as encodeRefinedFile } from "@b3-pipeline/local-adapter/RefinedWriter"
import * as Arrow from "apache-arrow"
import { ByteWriter, parquetWrite } from "hyparquet-writer"
import type { ColumnSource, SchemaElement } from "hyparquet-writer"
import { pathToFileURL } from "node:url"
import { SMOKE } from "./check.js"
import { median } from "./stats.js"
import type { BenchRow } from "./types.js"

const TARGET_ROWS = Number(process.env["BENCH_PARQUET_ROWS"] ?? (SMOKE ? 20_000 : 1_000_000))
const RUNS = SMOKE ? 1 : 3
const meta = { payloadSha256: "0".repeat(64), fetchedAt: "2025-04-07T09:00:00.000Z" }

const time = <A>(f: () => A): { ms: number; value: A } => {
  const t = performance.now()
  const value = f()
  return { ms: performance.now() - t, value }
}

const timed = (runs: number, f: () => unknown, warmUp: () => unknown = f): number => {
  warmUp()
  const ms: Array<number> = []
  for (let i = 0; i < runs; i++) ms.push(time(f).ms)
  return median(ms)
}

/** Distinct portfolios (index x day) cycled until TARGET_ROWS rows. */
const corpus = (): { readonly portfolios: ReadonlyArray<Portfolio>; readonly rows: number } => {
  const days = tradingDays("2024-01-01" as RefDate, "2024-12-31" as RefDate)
  const distinct: Array<Portfolio> = []
  for (const refDate of days) {
    for (const code of ["IBOV", "IBRA", "SMLL"] as Array<IndexCode>) {
      distinct.push(generatePortfolio({ indexCode: code, refDate, segment: "2" }))
    }
  }
  const portfolios: Array<Portfolio> = []
  let rows = 0
  for (let k = 0; rows < TARGET_ROWS; k++) {
    const p = distinct[k % distinct.length]
    if (p === undefined) throw new Error("no portfolio to cycle")
    portfolios.push(p)
    rows += p.size
  }
  return { portfolios, rows }
}

/**
 * All rows as one synthetic portfolio (tickers repeat: the encoder does not care). Sectors are
 * suffixed with their portfolio's number so each sector total (`part_acum`) stays <= 100%.
 */
const concatenate = (portfolios: ReadonlyArray<Portfolio>, rows: number): Portfolio => {
  const tickers: Array<Ticker> = []
  const assets: Array<string> = []
  const types: Array<string> = []
  const sectors: Array<string | null> = []
  const weights = new Int32Array(rows)
  const quantities = new BigInt64Array(rows)
  let at = 0
  let total = 0n
  for (const [k, p] of portfolios.entries()) {
    tickers.push(...p.tickers)
    assets.push(...p.assets)
    types.push(...p.types)
    for (const sector of p.sectors) sectors.push(sector === null ? null : `${sector} #${k}`)
    weights.set(p.weights, at)
    quantities.set(p.quantities, at)
    at += p.size
    total += p.totalQuantity
  }
  const [first] = portfolios
  if (first === undefined) throw new Error("no portfolio to concatenate")
  return { ...first, size: rows, tickers, assets, types, sectors, weights, quantities, totalQuantity: total }
}

/** Refined rows as DuckDB hands them to `RefinedWriter` (columns in file order), `n` of them. */
const refinedColumns = (n: number): Array<Array<unknown>> => {
  const cols: Array<Array<unknown>> = Array.from({ length: 11 }, () => [])
  for (let i = 0; i < n; i++) {
    const row = [
      ["IBOV", "IBXX", "SMLL"][i % 3],
      `COMPANY ${i % 500}`,
      BigInt(i % 99_999),
      BigInt(i) * 1000n,
      "ON  NM",
      i % 7 === 0 ? null : "Petróleo, Gás e Biocombustíveis",
      87n,
      i % 5 === 0 ? null : BigInt(i % 100_000),
      19_700 + (i % 3),
      i % 30,
      i % 4 === 0 ? null : 1
    ]
    row.forEach((v, c) => cols[c]?.push(v))
  }
  return cols
}

/** The same files through hyparquet-writer (the schema and options RefinedWriter used with it). */
const REFINED_SCHEMA: Array<SchemaElement> = [
  { name: "schema", num_children: 11 },
  ...([
    { name: "index_code", type: "BYTE_ARRAY", converted_type: "UTF8" },
    { name: "company", type: "BYTE_ARRAY", converted_type: "UTF8" },
    { name: "weight_pct", type: "INT32", converted_type: "DECIMAL", precision: 7, scale: 3 },
    { name: "theoretical_qty", type: "INT64" },
    { name: "share_class", type: "BYTE_ARRAY", converted_type: "UTF8" },
    { name: "sector", type: "BYTE_ARRAY", converted_type: "UTF8" },
    { name: "index_constituents", type: "INT64" },
    { name: "sector_weight_pct", type: "INT32", converted_type: "DECIMAL", precision: 7, scale: 3 },
    { name: "period_start", type: "INT32", converted_type: "DATE" },
    { name: "days_since_period_start", type: "INT32" },
    { name: "days_since_previous_snapshot", type: "INT32" }
  ] as Array<SchemaElement>).map((e) => ({ ...e, repetition_type: "OPTIONAL" as const }))
]
const hyparquetRefinedFile = (cols: ReadonlyArray<ReadonlyArray<unknown>>, from: number, to: number) => {
  const writer = new ByteWriter()
  parquetWrite({
    writer,
    schema: REFINED_SCHEMA,
    columnData: REFINED_SCHEMA.slice(1).map((e, i): ColumnSource => ({
      name: e.name,
      data: (cols[i] ?? []).slice(from, to).map((v) =>
        typeof v === "bigint" && e.type === "INT32" ? Number(v) : v
      ) as ColumnSource["data"],
      statistics: false,
      offsetIndex: false
    })),
    codec: "UNCOMPRESSED",
    statistics: false
  })
  return new Uint8Array(writer.getBuffer())
}

/**
 * A raw file through hyparquet-writer, as `encodeRawParquet` wrote it before `SmallParquet` (same
 * columns, SNAPPY pages, no statistics): the comparison of the raw encode rows.
 */
const RAW_SCHEMA: Array<SchemaElement> = [
  { name: "schema", num_children: 14 },
  ...([
    { name: "row_number", type: "INT32" },
    ...["segment", "cod", "asset", "type"].map((name) => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8" })),
    { name: "part", type: "INT32", converted_type: "DECIMAL", precision: 7, scale: 3 },
    { name: "part_acum", type: "INT32", converted_type: "DECIMAL", precision: 7, scale: 3 },
    { name: "theorical_qty", type: "INT64" },
    { name: "total_qty", type: "INT64" },
    { name: "reductor", type: "INT64", converted_type: "DECIMAL", precision: 18, scale: 8 },
    ...["language", "source_format", "payload_sha256", "fetched_at"].map((name) => ({
      name,
      type: "BYTE_ARRAY",
      converted_type: "UTF8"
    }))
  ] as Array<SchemaElement>).map((e) => ({ ...e, repetition_type: "OPTIONAL" as const }))
]
const hyparquetRawFile = (p: Portfolio): Uint8Array => {
  const n = p.size
  const totals = sectorTotals(p)
  const each = <A>(f: (i: number) => A): Array<A> => Array.from({ length: n }, (_, i) => f(i))
  const data: Array<ColumnSource["data"]> = [
    Int32Array.from({ length: n }, (_, i) => i + 1),
    each((i) => p.sectors[i] ?? null),
    each((i) => p.tickers[i] ?? null),
    each((i) => p.assets[i] ?? null),
    each((i) => p.types[i] ?? null),
    each((i) => p.weights[i] ?? null),
    each((i) => totals[i] ?? null),
    p.quantities.slice(0, n),
    each(() => p.totalQuantity),
    each(() => p.reductor),
    each(() => p.language),
    each(() => p.format),
    each(() => meta.payloadSha256),
    each(() => meta.fetchedAt)
  ]
  const writer = new ByteWriter()
  parquetWrite({
    writer,
    schema: RAW_SCHEMA,
    columnData: RAW_SCHEMA.slice(1).map((e, i): ColumnSource => ({
      name: e.name,
      data: data[i] ?? [],
      statistics: false,
      offsetIndex: false
    })),
    rowGroupSize: Math.max(1, n),
    codec: "SNAPPY",
    statistics: false
  })
  return new Uint8Array(writer.getBuffer())
}

/** Microseconds per file of `encode` over consecutive runs of `per` rows (after one warm-up pass). */
const perFileUs = (
  cols: ReadonlyArray<ReadonlyArray<unknown>>,
  per: number,
  encode: (cols: ReadonlyArray<ReadonlyArray<unknown>>, from: number, to: number) => Uint8Array
): number => {
  const n = cols[0]?.length ?? 0
  const pass = () => {
    for (let i = 0; i + per <= n; i += per) encode(cols, i, i + per)
  }
  return timed(RUNS, pass) * 1000 / Math.floor(n / per)
}

export async function run(): Promise<Array<BenchRow>> {
  const { portfolios, rows } = corpus()
  const note = `${rows} rows, ${portfolios.length} portfolios`

  // thousands of files: one timed pass after a warm-up on the first 300
  let files: Array<Uint8Array> = []
  const warm = portfolios.slice(0, 300)
  const perFileMs = timed(1, () => {
    files = portfolios.map((p) => encodeRawParquet(p, meta))
  }, () => warm.map((p) => encodeRawParquet(p, meta)))
  const bytes = files.reduce((n, f) => n + f.byteLength, 0)
  let hyparquetBytes = 0
  const hyparquetMs = timed(1, () => {
    hyparquetBytes = portfolios.reduce((n, p) => n + hyparquetRawFile(p).byteLength, 0)
  }, () => warm.map(hyparquetRawFile))

  const decodeMs = timed(1, () => {
    let n = 0
    for (const f of files) n += decodeRawParquet(f).length
    if (n !== rows) throw new Error(`decoded ${n} rows, want ${rows}`)
  }, () => files.slice(0, 300).map(decodeRawParquet))

  const big = concatenate(portfolios, rows)
  let bigFile: Uint8Array = new Uint8Array()
  const oneFileMs = timed(RUNS, () => {
    bigFile = encodeRawParquet(big, meta)
  })

  const strings: ReadonlyArray<ReadonlyArray<string | null>> = [big.tickers, big.assets, big.types, big.sectors]
  const dictionaryMs = timed(RUNS, () => strings.map((values, id) => dictionaryStringColumn(`c${id}`, id, values)))
  const naive = time(() => strings.map((values) => Arrow.vectorFromArray(values, new Arrow.Utf8())))
  if (naive.value[0]?.length !== rows) throw new Error("naive build lost rows")

  const refined = refinedColumns(SMOKE ? 600 : 12_000)
  const smallFiles = [1, 3].map((per) => ({
    per,
    ours: perFileUs(refined, per, encodeRefinedFile),
    hyparquet: perFileUs(refined, per, hyparquetRefinedFile)
  }))

  const perSecond = (ms: number) => Math.round(rows / (ms / 1000))
  return [
    ...smallFiles.map(({ hyparquet, ours, per }): BenchRow => ({
      name: `refined partition file (${per} row${per > 1 ? "s" : ""}) encode`,
      value: Number(ours.toFixed(1)),
      unit: "us/file",
      note: `RefinedWriter (SmallParquet); hyparquet-writer ${hyparquet.toFixed(1)} us/file, ${
        (hyparquet / ours).toFixed(1)
      }x slower`
    })),
    {
      name: "raw parquet encode, file per portfolio",
      value: perSecond(perFileMs),
      unit: "rows/s",
      note: `${note}, ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(perFileMs)} ms, one pass; hyparquet-writer ` +
        `(SNAPPY, its writer before SmallParquet) ${perSecond(hyparquetMs)} rows/s, ${
          (hyparquetBytes / 1e6).toFixed(1)
        } MB: ${(hyparquetMs / perFileMs).toFixed(1)}x the time`
    },
    {
      name: "raw parquet encode, files per second",
      value: Math.round(portfolios.length / (perFileMs / 1000)),
      unit: "files/s"
    },
    {
      name: "raw parquet encode, one 1M-row file",
      value: perSecond(oneFileMs),
      unit: "rows/s",
      note: `${(bigFile.byteLength / 1e6).toFixed(1)} MB, ${Math.round(oneFileMs)} ms`
    },
    {
      name: "raw parquet decode, file per portfolio",
      value: perSecond(decodeMs),
      unit: "rows/s",
      note: `${Math.round(decodeMs)} ms`
    },
    {
      name: "4 string columns, naive Arrow Utf8",
      value: Math.round(naive.ms),
      unit: "ms",
      note: `${rows} rows x 4, vectorFromArray(Utf8), one run`
    },
    {
      name: "4 string columns, Map dictionary",
      value: Math.round(dictionaryMs),
      unit: "ms",
      note: `median of ${RUNS}`
    },
    { name: "string columns, naive / dictionary", value: Number((naive.ms / dictionaryMs).toFixed(1)), unit: "x" }
  ]
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (rows) => {
      for (const r of rows) {
        console.log(`${r.name.padEnd(40)} ${String(r.value).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ""}`)
      }
    },
    (e) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}
