/**
 * Local adapter benchmark (files + Parquet + DuckDB), end to end.
 *
 * Replays generated history: all 37 index codes x BENCH_DAYS trading days (default 20), encoded
 * as B3 GetPortfolioDay pages (pt-br, by sector for even positions, by ticker otherwise) and saved
 * as payload files. Then, timed:
 * - `local.pipeline`: the CLI's code path: each file -> `Pipeline.ingestPayload` (decode, raw
 *   payload archive + raw Parquet through the filesystem store) on `LocalLive`, then one
 *   `LocalTrigger.flush` per day (one DuckDB refine per date: Hive layout + serving copy + catalog);
 * - `local.duckdb_baseline`: DuckDB alone doing the same work from the same files: `read_json`,
 *   pt-br number parsing, raw Parquet per index, refine.sql, refined Hive layout per ticker, serving
 *   year file;
 * - `local.query.*`: p50 of 20 runs of each glue/sql/validation query on `DuckDbQueryEngine`.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/local.ts` (BENCH_DAYS=250 for a year).
 */
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import type { Payload } from "@b3-pipeline/core/PortfolioSource"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import { DuckDBInstance } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { BenchRow } from "./types.js"

const SQL_DIR = fileURLToPath(new URL("../glue/sql/", import.meta.url))

const lastTradingDays = (n: number): Array<RefDate> => {
  const all = tradingDays("2024-01-01" as RefDate, "2025-12-31" as RefDate)
  return all.slice(0, n)
}

interface Corpus {
  readonly dir: string
  readonly days: ReadonlyArray<RefDate>
  readonly files: ReadonlyArray<
    { readonly day: RefDate; readonly code: string; readonly file: string; readonly segment: "1" | "2" }
  >
  readonly rows: number
}

const writeCorpus = (root: string, days: ReadonlyArray<RefDate>): Corpus => {
  const dir = path.join(root, "payloads")
  const files: Array<Corpus["files"][number]> = []
  let rows = 0
  for (const day of days) {
    fs.mkdirSync(path.join(dir, day), { recursive: true })
    ALL_INDEX_CODES.forEach((code, i) => {
      const segment = i % 2 === 0 ? "2" : "1"
      const p = generatePortfolio({ indexCode: code, refDate: day, segment })
      rows += p.size
      const [page] = B3Wire.encodePortfolioDay(p, { language: "pt-br" })
      const file = path.join(dir, day, `${code}.json`)
      fs.writeFileSync(file, page!)
      files.push({ day, code, file, segment })
    })
  }
  return { dir, days, files, rows }
}

const payloadOf = (code: string, segment: "1" | "2", bytes: Uint8Array, file: string): Payload => ({
  request: { indexCode: code as never, method: "GetPortfolioDay", language: "pt-br", segment },
  pages: [{
    bytes,
    request: {
      method: "GET",
      url: pathToFileURL(file).href,
      params: {},
      status: 200,
      headers: {},
      startedAt: "2025-01-01T00:00:00.000Z",
      durationMs: 0,
      attempt: 1
    }
  }],
  fetchedAt: "2025-01-01T00:00:00.000Z",
  origin: `file:${file}`
})

const runPipeline = (corpus: Corpus, warehouse: string) =>
  Effect.gen(function*() {
    const trigger = yield* LocalTrigger
    const perDay: Array<number> = []
    const refineMs: Array<number> = []
    for (const day of corpus.days) {
      const t0 = performance.now()
      for (const f of corpus.files) {
        if (f.day !== day) continue
        yield* Pipeline.ingestPayload(payloadOf(f.code, f.segment, fs.readFileSync(f.file), f.file))
      }
      const t1 = performance.now()
      const runs = yield* trigger.flush
      if (runs.length !== 1) throw new Error(`expected one refine for ${day}, got ${runs.length}`)
      refineMs.push(performance.now() - t1)
      perDay.push(performance.now() - t0)
    }
    return { perDay, refineMs }
  }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.runPromise)

const runDuckDb = async (corpus: Corpus, warehouse: string) => {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" })
  const c = await db.connect()
  for (const s of fs.readFileSync(path.join(SQL_DIR, "duckdb-compat.sql"), "utf8").split(";")) {
    const sql = s.split("\n").filter((l) => !l.trim().startsWith("--")).join("\n").trim()
    if (sql.length > 0) await c.run(sql)
  }
  const refineSql = fs.readFileSync(path.join(SQL_DIR, "refine.sql"), "utf8").split("\n").map((l) =>
    l.replace(/--.*$/, "")
  ).join("\n")
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`
  const perDay: Array<number> = []
  fs.mkdirSync(path.join(warehouse, "raw"), { recursive: true })
  fs.mkdirSync(path.join(warehouse, "refined"), { recursive: true })
  for (const day of corpus.days) {
    const t0 = performance.now()
    const files = corpus.files.filter((f) => f.day === day).map((f) => q(f.file)).join(", ")
    await c.run(`CREATE OR REPLACE TEMP TABLE raw_day AS
      WITH j AS (SELECT filename, header, unnest(results) AS r FROM read_json([${files}], filename = true))
      SELECT
        CAST(row_number() OVER (PARTITION BY filename) AS INTEGER) AS row_number,
        r.segment AS segment, r.cod AS cod, r.asset AS asset, r.type AS type,
        CAST(replace(replace(r.part, '.', ''), ',', '.') AS DECIMAL(7,3)) AS part,
        CAST(replace(replace(r.partAcum, '.', ''), ',', '.') AS DECIMAL(7,3)) AS part_acum,
        CAST(replace(r.theoricalQty, '.', '') AS BIGINT) AS theorical_qty,
        CAST(replace(header.theoricalQty, '.', '') AS BIGINT) AS total_qty,
        CAST(replace(replace(header.reductor, '.', ''), ',', '.') AS DECIMAL(18,8)) AS reductor,
        'pt-br' AS language, 'GetPortfolioDay' AS source_format, '' AS payload_sha256, '' AS fetched_at,
        CAST(strptime(header.date, '%d/%m/%y') AS DATE) AS ref_date,
        regexp_extract(filename, '([A-Z0-9]+)\\.json$', 1) AS index_code
      FROM j`)
    await c.run(`COPY (SELECT * EXCLUDE (ref_date) FROM raw_day ORDER BY index_code, row_number)
      TO ${
      q(path.join(warehouse, "raw", `ref_date=${day}`))
    } (FORMAT parquet, PARTITION_BY (index_code), OVERWRITE_OR_IGNORE)`)
    await c.run(`CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM raw_day`)
    await c.run(`CREATE OR REPLACE TEMP TABLE raw_dates AS
      SELECT DISTINCT regexp_extract(file, 'index_code=([A-Z0-9]+)', 1) AS index_code,
        CAST(regexp_extract(file, 'ref_date=([0-9-]+)', 1) AS DATE) AS ref_date
      FROM glob(${q(path.join(warehouse, "raw", "*", "*", "*.parquet"))})`)
    await c.run(`CREATE OR REPLACE TEMP TABLE refined AS ${refineSql}`)
    await c.run(`COPY (SELECT * EXCLUDE (ref_date) FROM refined ORDER BY ticker, index_code)
      TO ${
      q(path.join(warehouse, "refined", `ref_date=${day}`))
    } (FORMAT parquet, PARTITION_BY (ticker), OVERWRITE_OR_IGNORE, COMPRESSION uncompressed)`)
    const serving = path.join(warehouse, "serving", `year=${day.slice(0, 4)}.parquet`)
    const prior = fs.existsSync(serving) ?
      `SELECT * FROM read_parquet(${q(serving)}) WHERE ref_date <> DATE ${q(day)} UNION ALL ` :
      ""
    fs.mkdirSync(path.dirname(serving), { recursive: true })
    await c.run(`COPY (SELECT * FROM (${prior}SELECT * FROM refined) ORDER BY ref_date, index_code, ticker)
      TO ${q(serving + ".tmp")} (FORMAT parquet, COMPRESSION zstd)`)
    fs.renameSync(serving + ".tmp", serving)
    perDay.push(performance.now() - t0)
  }
  c.closeSync()
  db.closeSync()
  return perDay
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const round = (x: number, digits = 1) => Number(x.toFixed(digits))

const queryLatencies = (warehouse: string) =>
  Effect.gen(function*() {
    const out: Array<BenchRow> = []
    const dir = path.join(SQL_DIR, "validation")
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
      const sql = fs.readFileSync(path.join(dir, name), "utf8")
      yield* QueryEngine.collect(sql) // warm-up
      const times: Array<number> = []
      let rows = 0
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now()
        rows = (yield* QueryEngine.collect(sql)).length
        times.push(performance.now() - t0)
      }
      out.push({
        name: `local.query.${name.replace(/\.sql$/, "")}.p50`,
        value: round(median(times), 2),
        unit: "ms",
        note: `${rows} rows, warm connection`
      })
    }
    return out
  }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.runPromise)

export async function run(): Promise<Array<BenchRow>> {
  const days = Number(process.env.BENCH_DAYS ?? 20)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "b3-bench-local-"))
  try {
    const corpus = writeCorpus(root, lastTradingDays(days))
    const note = `${ALL_INDEX_CODES.length} indices x ${days} days, ${corpus.rows} rows`
    const t0 = performance.now()
    const { perDay: pipelineDays, refineMs } = await runPipeline(corpus, path.join(root, "warehouse"))
    const pipelineMs = performance.now() - t0
    const t1 = performance.now()
    const duckDays = await runDuckDb(corpus, path.join(root, "duckdb-only"))
    const duckMs = performance.now() - t1
    const queries = await queryLatencies(path.join(root, "warehouse"))
    return [
      { name: "local.pipeline.rows_per_s", value: Math.round(corpus.rows / (pipelineMs / 1000)), unit: "rows/s", note },
      {
        name: "local.pipeline.ms_per_day",
        value: round(median(pipelineDays)),
        unit: "ms",
        note: "median; ingest 37 payloads + one refine"
      },
      {
        name: "local.pipeline.refine_ms_per_day",
        value: round(median(refineMs)),
        unit: "ms",
        note: "median; the flush (one DuckDB refine) alone"
      },
      {
        name: "local.duckdb_baseline.rows_per_s",
        value: Math.round(corpus.rows / (duckMs / 1000)),
        unit: "rows/s",
        note
      },
      {
        name: "local.duckdb_baseline.ms_per_day",
        value: round(median(duckDays)),
        unit: "ms",
        note: "median; read_json -> raw -> refine -> refined + serving"
      },
      ...queries
    ]
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (rows) => {
      for (const r of rows) {
        console.log(`${r.name.padEnd(44)} ${String(r.value).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ""}`)
      }
    },
    (e) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}
