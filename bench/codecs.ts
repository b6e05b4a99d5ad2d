/**
 * Codec benchmark (stage 2, parse). On >= 1M generated rows (IBOV-, IBRA- and SMLL-sized
 * portfolios over many days, pt-br, by sector):
 * - GetPortfolioDay JSON, full decode (envelope Schema per page, exact row path, every invariant)
 *   against `JSON.parse` alone on the same bytes (UTF-8 decoding included in both);
 * - the same payloads split in pages of 20 rows (the web page's page size);
 * - the CSV download (latin1, CRLF), full decode.
 * Each figure is the median of several timed runs after a warm-up run.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/codecs.ts`.
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import * as Either from "effect/Either"
import { pathToFileURL } from "node:url"
import { below, SMOKE } from "./check.js"
import { median } from "./stats.js"
import type { BenchRow } from "./types.js"

const TARGET_ROWS = SMOKE ? 20_000 : 1_000_000
const RUNS = SMOKE ? 2 : 5

interface Corpus {
  readonly payloads: ReadonlyArray<{ readonly pages: ReadonlyArray<Uint8Array>; readonly code: IndexCode }>
  readonly rows: number
  readonly bytes: number
}

/** Distinct portfolios (index x day), each encoded once; cycled until TARGET_ROWS rows. */
const corpus = (encode: (p: ReturnType<typeof generatePortfolio>) => ReadonlyArray<Uint8Array>): Corpus => {
  const days = tradingDays("2024-01-01" as RefDate, "2024-12-31" as RefDate)
  const distinct: Array<{ pages: ReadonlyArray<Uint8Array>; code: IndexCode; size: number }> = []
  for (const refDate of days) {
    for (const code of ["IBOV", "IBRA", "SMLL"] as Array<IndexCode>) {
      const p = generatePortfolio({ indexCode: code, refDate, segment: "2" })
      distinct.push({ pages: encode(p), code, size: p.size })
    }
  }
  const payloads: Array<{ readonly pages: ReadonlyArray<Uint8Array>; readonly code: IndexCode }> = []
  let rows = 0
  let bytes = 0
  for (let k = 0; rows < TARGET_ROWS; k++) {
    const d = distinct[k % distinct.length]
    if (d === undefined) throw new Error("no portfolio to cycle")
    payloads.push(d)
    rows += d.size
    for (const b of d.pages) bytes += b.length
  }
  return { payloads, rows, bytes }
}

const cpuMs = (): number => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

interface Timing {
  /** Median wall-clock ms. */
  readonly ms: number
  /** Median CPU ms of the process (less sensitive to other processes on a shared machine). */
  readonly cpu: number
}

/**
 * Times each function RUNS times after one warm-up round; the functions take turns (and swap
 * order every round) so that they share the machine's state fairly.
 */
const timeTogether = (fs: ReadonlyArray<() => number>): Array<Timing> => {
  const timed = fs.map((f) => ({ f, wall: [] as Array<number>, cpu: [] as Array<number> }))
  let check = 0
  for (const f of fs) check += f()
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? timed : timed.slice().reverse()
    for (const t of order) {
      const w0 = performance.now()
      const c0 = cpuMs()
      check += t.f()
      t.cpu.push(cpuMs() - c0)
      t.wall.push(performance.now() - w0)
    }
  }
  if (check <= 0) throw new Error("nothing decoded")
  return timed.map((t) => ({ ms: median(t.wall), cpu: median(t.cpu) }))
}

const utf8 = new TextDecoder()

export async function run(): Promise<Array<BenchRow>> {
  const out: Array<BenchRow> = []
  const rowsPerSec = (rows: number, ms: number) => Math.round(rows / (ms / 1000))

  // GetPortfolioDay, one page per payload
  const json = corpus((p) => B3Encode.encodePortfolioDay(p, { language: "pt-br" }))
  const [parseOnly, full] = timeTogether([() => {
    let n = 0
    for (const { pages } of json.payloads) {
      for (const b of pages) n += (JSON.parse(utf8.decode(b)) as { results: Array<unknown> }).results.length
    }
    return n
  }, () => {
    let n = 0
    for (const { code, pages } of json.payloads) {
      const r = B3Wire.decode(pages, { indexCode: code, format: "GetPortfolioDay" })
      if (Either.isLeft(r)) throw new Error(r.left.message)
      n += r.right.size
    }
    return n
  }]) as [Timing, Timing]
  const note = `${json.rows} rows, ${json.payloads.length} payloads, ${
    (json.bytes / 1e6).toFixed(0)
  } MB, median of ${RUNS}`
  out.push({ name: "codecs.json.parse_only", value: rowsPerSec(json.rows, parseOnly.ms), unit: "rows/s", note })
  out.push({ name: "codecs.json.decode", value: rowsPerSec(json.rows, full.ms), unit: "rows/s", note })
  out.push({
    name: "codecs.json.decode_vs_parse",
    value: Number((full.cpu / parseOnly.cpu).toFixed(3)),
    unit: "x",
    note: `full decode / JSON.parse alone, same bytes, CPU time (wall: ${
      (full.ms / parseOnly.ms).toFixed(3)
    }x); a guard against regressions (1.4-1.6x on a real sample)`,
    check: below(Number((full.cpu / parseOnly.cpu).toFixed(3)), 1.6, "x")
  })
  out.push({ name: "codecs.json.decode_ns_per_row", value: Math.round((full.ms * 1e6) / json.rows), unit: "ns/row" })

  // GetPortfolioDay in pages of 20 (more envelopes to validate and cross-check)
  const paged = corpus((p) => B3Encode.encodePortfolioDay(p, { language: "pt-br", pageSize: 20 }))
  const [pagedFull] = timeTogether([() => {
    let n = 0
    for (const { code, pages } of paged.payloads) {
      const r = B3Wire.decode(pages, { indexCode: code, format: "GetPortfolioDay" })
      if (Either.isLeft(r)) throw new Error(r.left.message)
      n += r.right.size
    }
    return n
  }]) as [Timing]
  out.push({
    name: "codecs.json.decode_pages_of_20",
    value: rowsPerSec(paged.rows, pagedFull.ms),
    unit: "rows/s",
    note: `${paged.rows} rows in pages of 20`
  })

  // CSV download (latin1, CRLF)
  const csv = corpus((p) => [B3Encode.encodeCsv(p)])
  const [csvFull] = timeTogether([() => {
    let n = 0
    for (const { pages } of csv.payloads) {
      const r = B3Wire.decode(pages, { format: "CSV" })
      if (Either.isLeft(r)) throw new Error(r.left.message)
      n += r.right.size
    }
    return n
  }]) as [Timing]
  out.push({
    name: "codecs.csv.decode",
    value: rowsPerSec(csv.rows, csvFull.ms),
    unit: "rows/s",
    note: `${csv.rows} rows, latin1 CRLF, by sector`
  })
  return out
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (rows) => {
      for (const r of rows) {
        console.log(`${r.name.padEnd(34)} ${String(r.value).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ""}`)
      }
    },
    (e) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}
