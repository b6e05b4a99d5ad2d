/**
 * Local adapter benchmark (files + Parquet + DuckDB), end to end.
 *
 * Replays generated history: all 36 index codes x BENCH_DAYS trading days (default 20), encoded
 * as B3 GetPortfolioDay pages (pt-br, by sector for even positions, by ticker otherwise) and saved
 * as payload files. Then, timed:
 * - `local.pipeline`: the CLI's code path: each file -> `Pipeline.ingestPayload` (decode, raw
 *   payload archive + raw Parquet through the filesystem store) on `LocalLive`, then one
 *   `LocalTrigger.flush` per day (one DuckDB refine per date: Hive layout + serving copy + catalog);
 * - `local.duckdb_baseline`: DuckDB alone doing the same work from the same files: `read_json`,
 *   pt-br number parsing, raw Parquet per index, refine.sql, refined Hive layout per ticker, serving
 *   month file;
 * - `local.duckdb_baseline_archive`: the same, also archiving each payload's bytes and writing a
 *   catalog file per date (as the pipeline does);
 * - `local.floor`: the time to create the pipeline's files (same folders, same sizes) and nothing
 *   else, measured in the same run: what the disk allows;
 * - `local.query.*`: p50 of 20 runs of each glue/sql/validation query and of `count(*)` on both
 *   tables on `DuckDbQueryEngine` (warm), and `b3 query --file` end to end (a fresh process);
 * - `local.cli.run_all_new_date`: `b3 run --all --source simulated` for one new date on the
 *   warehouse the pipeline built vs on an empty one;
 * - `local.replay`: `b3 replay` of the pipeline's payload archive into a fresh warehouse: wall time
 *   and the peak RSS of that process (sampled every 100 ms: flat or growing across the run).
 * Before each of the replay, DuckDB alone and the floor, the disk settles (`settle`: sync, then I/O
 * pressure under 2%), so that none pays for the files the one before it wrote or deleted, and each
 * is timed until its files are on disk (a final `sync`).
 * Each figure with a target says what it is compared with, the ratio, and met / not met. The targets
 * are the issue's, all defined on a year (BENCH_DAYS=250); a shorter run prints their verdicts for
 * reference and does not count them.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/local.ts` (BENCH_DAYS=250 for a year).
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import type { Payload } from "@b3-pipeline/core/PortfolioSource"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import * as WriterLock from "@b3-pipeline/local-adapter/WriterLock"
import { DuckDBInstance } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { atMost, below, forSize, ratioAtMost, SMOKE } from "./check.js"
import { benchNode, buildCli, cliEnv, cliNote, timeCli, timeCliOnce } from "./cli.js"
import { mean, median, round } from "./stats.js"
import type { BenchRow } from "./types.js"

/**
 * Runs `sync` and returns its ms: added to each backfill's time, so that all three (ours, DuckDB,
 * the floor) are timed until their files are on disk. A short run otherwise leaves most of its
 * write-back to whatever runs next, and a long one pays for its own as it goes.
 */
const syncMs = (): number => {
  const t0 = performance.now()
  spawnSync("sync")
  return performance.now() - t0
}

/**
 * Lets the disk settle before a timed phase: `sync`, then wait (at most 90 s) until the kernel's
 * I/O pressure over the last 10 s (`/proc/pressure/io`, "some avg10") falls under 2%. Deleting a
 * tree of 200k files, or the write-back of one just written, goes on in the kernel after `rm` or
 * `write` return (with online discard, for tens of seconds): without this, the phase timed next pays
 * for the previous one, which favours whichever of the replay, DuckDB and the floor comes first.
 * Returns the seconds waited (printed with the phase). Where the file does not exist, `sync` only.
 */
const settle = async (): Promise<number> => {
  const began = performance.now()
  syncMs()
  const pressure = (): number | undefined => {
    try {
      const line = fs.readFileSync("/proc/pressure/io", "utf8").split("\n")[0] ?? ""
      const m = /avg10=([0-9.]+)/.exec(line)
      return m === null ? undefined : Number(m[1])
    } catch {
      return undefined
    }
  }
  for (let p = pressure(); p !== undefined && p >= 2 && performance.now() - began < 90_000; p = pressure()) {
    await new Promise((ok) => setTimeout(ok, 1000))
  }
  return round((performance.now() - began) / 1000, 1)
}

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
      const [page] = B3Encode.encodePortfolioDay(p, { language: "pt-br" })
      const file = path.join(dir, day, `${code}.json`)
      if (page === undefined) throw new Error(`bench: local: no page encoded for ${code} on ${day}`)
      fs.writeFileSync(file, page)
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
      const n = refineMs.length
      if (n === 1 || n % 10 === 0) {
        // progress of a long run (BENCH_DAYS=250): the refine of this date so far, in case the run is cut short
        const last = refineMs.slice(-10)
        process.stderr.write(
          `bench: local: day ${n}: refine (flush) median of the last ${last.length} days ${
            round(median(last))
          } ms, ingest + refine ${round(median(perDay.slice(-10)))} ms\n`
        )
      }
    }
    return { perDay, refineMs }
  }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.runPromise)

/** The payload archive of a warehouse: one folder per payload (`page-001.json` + `request.json`), by date. */
const archiveOf = (archive: string) => {
  const byDay = new Map<string, Array<{ readonly code: string; readonly dir: string; readonly rel: string }>>()
  for (const d of fs.readdirSync(archive).sort()) {
    const day = d.replace(/^ref_date=/, "")
    for (const c of fs.readdirSync(path.join(archive, d)).sort()) {
      for (const sha of fs.readdirSync(path.join(archive, d, c)).sort()) {
        const list = byDay.get(day) ?? []
        list.push({
          code: c.replace(/^index_code=/, ""),
          dir: path.join(archive, d, c, sha),
          rel: path.join(d, c, sha)
        })
        byDay.set(day, list)
      }
    }
  }
  return byDay
}

/** A file written as the store writes a durable key: temp file, fsync, rename. */
const writeDurable = (file: string, bytes: Uint8Array) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = path.join(path.dirname(file), `.tmp-${Math.random().toString(36).slice(2)}`)
  const fd = fs.openSync(temp, "wx")
  fs.writeSync(fd, bytes)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  fs.renameSync(temp, file)
}

/**
 * DuckDB alone doing the work of a backfill replay, date by date (how a DuckDB job refines a date),
 * writing the same files as `b3 replay`: from the same payload archive, each payload's archive
 * folder (the same bytes, fsynced like ours), raw Parquet per index, the refined Hive layout per
 * ticker, the month's serving file, the catalog's partition files of both tables, and each date's
 * manifest. The (index, date) pairs for the previous snapshots are kept in a DuckDB table (no glob
 * of history). Returns the ms of each date.
 */
const runDuckDb = async (archive: string, warehouse: string) => {
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
  const rawRoot = path.join(warehouse, "raw", "b3_portfolio_raw")
  const refinedRoot = path.join(warehouse, "refined", "b3_portfolio_refined")
  fs.mkdirSync(rawRoot, { recursive: true })
  fs.mkdirSync(refinedRoot, { recursive: true })
  await c.run(`CREATE TEMP TABLE raw_dates (index_code VARCHAR, ref_date DATE)`)
  const catalog = (table: string, day: string, values: ReadonlyArray<ReadonlyArray<string>>, location: string) => {
    const file = path.join(warehouse, "_catalog", table, "partitions", `v=${day}.json`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify(values.map((v) => ({ values: v, location: `${location}${v.join("/")}` }))))
  }
  for (const table of ["b3_portfolio_raw", "b3_portfolio_refined"]) {
    fs.mkdirSync(path.join(warehouse, "_catalog", table), { recursive: true })
    fs.writeFileSync(path.join(warehouse, "_catalog", table, "table.json"), JSON.stringify({ name: table }))
  }
  for (const [day, payloads] of archiveOf(archive)) {
    const t0 = performance.now()
    // the payload archive: the same bytes under the same folders, durable
    for (const p of payloads) {
      for (const name of ["page-001.json", "request.json"]) {
        writeDurable(
          path.join(warehouse, "raw", "b3_portfolio_payloads", p.rel, name),
          fs.readFileSync(path.join(p.dir, name))
        )
      }
    }
    const files = payloads.map((p) => q(path.join(p.dir, "page-001.json"))).join(", ")
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
        regexp_extract(filename, 'index_code=([A-Z0-9]+)', 1) AS index_code
      FROM j`)
    await c.run(`COPY (SELECT * EXCLUDE (ref_date) FROM raw_day ORDER BY index_code, row_number)
      TO ${
      q(path.join(rawRoot, `ref_date=${day}`))
    } (FORMAT parquet, PARTITION_BY (index_code), FILENAME_PATTERN 'part-0000{i}', OVERWRITE_OR_IGNORE)`)
    await c.run(`CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM raw_day`)
    await c.run(`INSERT INTO raw_dates SELECT DISTINCT index_code, ref_date FROM raw_day`)
    await c.run(`CREATE OR REPLACE TEMP TABLE refined AS ${refineSql}`)
    await c.run(`COPY (SELECT * EXCLUDE (ref_date) FROM refined ORDER BY ticker, index_code)
      TO ${q(path.join(refinedRoot, `ref_date=${day}`))} (FORMAT parquet, PARTITION_BY (ticker),
      FILENAME_PATTERN 'part-0000{i}', OVERWRITE_OR_IGNORE, COMPRESSION uncompressed)`)
    const serving = path.join(
      warehouse,
      "serving",
      "b3_portfolio_refined",
      `month=${day.slice(0, 7)}`,
      "part-00000.parquet"
    )
    const prior = fs.existsSync(serving) ?
      `SELECT * FROM read_parquet(${q(serving)}, hive_partitioning = false) WHERE ref_date <> DATE ${
        q(day)
      } UNION ALL ` :
      ""
    fs.mkdirSync(path.dirname(serving), { recursive: true })
    await c.run(`COPY (SELECT * FROM (${prior}SELECT * FROM refined) ORDER BY ref_date, index_code, ticker)
      TO ${q(serving + ".tmp")} (FORMAT parquet, COMPRESSION zstd)`)
    fs.renameSync(serving + ".tmp", serving)
    const tickers = (await c.runAndReadAll(`SELECT DISTINCT ticker FROM refined ORDER BY 1`)).getRowsJS().map((r) =>
      String(r[0])
    )
    catalog("b3_portfolio_refined", day, tickers.map((t) => [day, t]), "refined/b3_portfolio_refined/")
    catalog("b3_portfolio_raw", day, payloads.map((p) => [day, p.code]), "raw/b3_portfolio_raw/")
    const manifest = path.join(warehouse, "_manifests", "b3_portfolio_refined", `ref_date=${day}.json`)
    fs.mkdirSync(path.dirname(manifest), { recursive: true })
    fs.writeFileSync(manifest, JSON.stringify({ refDate: day, inputs: payloads.map((p) => p.code), tickers }, null, 2))
    perDay.push(performance.now() - t0)
  }
  c.closeSync()
  db.closeSync()
  return perDay
}

/** Every file under `dir`: its path relative to `dir` and its size. */
const filesOf = (dir: string): Array<{ readonly rel: string; readonly size: number }> => {
  const out: Array<{ rel: string; size: number }> = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push({ rel: path.relative(dir, p), size: fs.statSync(p).size })
    }
  }
  walk(dir)
  return out
}

/**
 * The floor: create the same folders and files with the same sizes (bytes of a fixed pattern), the
 * payload archive's files durable (temp, fsync, rename) as the store writes them, eight at a time
 * (each fsync waits on the disk); the others one by one with synchronous calls (cheapest for small
 * files). Nothing else: what the disk allows.
 */
const runFloor = async (
  files: ReadonlyArray<{ readonly rel: string; readonly size: number }>,
  target: string
): Promise<number> => {
  const t0 = performance.now()
  const made = new Set<string>()
  const block = Buffer.alloc(files.reduce((m, f) => Math.max(m, f.size), 1), 0x5a) // no spread: 226k files at a year
  const mkdir = (dir: string) => {
    if (made.has(dir)) return
    fs.mkdirSync(dir, { recursive: true })
    made.add(dir)
  }
  const durable = files.filter((f) => f.rel.startsWith(path.join("raw", "b3_portfolio_payloads")))
  const plain = files.filter((f) => !f.rel.startsWith(path.join("raw", "b3_portfolio_payloads")))
  for (const f of plain) {
    const file = path.join(target, f.rel)
    mkdir(path.dirname(file))
    fs.writeFileSync(file, block.subarray(0, f.size))
  }
  let next = 0
  const worker = async () => {
    while (next < durable.length) {
      const f = durable[next++]
      if (f === undefined) return
      const file = path.join(target, f.rel)
      mkdir(path.dirname(file))
      const temp = `${file}.tmp`
      const handle = await fs.promises.open(temp, "wx")
      await handle.write(block.subarray(0, f.size))
      await handle.sync()
      await handle.close()
      await fs.promises.rename(temp, file)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return performance.now() - t0
}

/** `b3 ...args` in a child process with the RSS sampler preloaded: wall ms and its RSS samples. */
const runCliMeasured = (args: ReadonlyArray<string>) =>
  new Promise<{ wallMs: number; peakMb: number; samplesMb: Array<number> }>((ok, fail) => {
    const bin = fileURLToPath(new URL("../packages/cli/bin/b3.js", import.meta.url))
    const preload = fileURLToPath(new URL("./rss-preload.cjs", import.meta.url))
    const env = cliEnv()
    const t0 = performance.now()
    const child = spawn(benchNode, ["-r", preload, bin, ...args], { env, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("exit", (code) => {
      const wallMs = performance.now() - t0
      const line = err.split("\n").find((l) => l.startsWith("B3_BENCH_RSS "))
      if (code !== 0 || line === undefined) {
        return fail(new Error(`b3 ${args.join(" ")} exited ${code}: ${err.slice(-1500)}`))
      }
      ok({ wallMs, ...JSON.parse(line.slice(13)) })
    })
  })

const warmQueries = (warehouse: string) =>
  Effect.gen(function*() {
    const out: Array<BenchRow> = []
    const dir = path.join(SQL_DIR, "validation")
    const queries: Array<[string, string]> = [
      ...fs.readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((
        f
      ): [string, string] => [f.replace(/\.sql$/, ""), fs.readFileSync(path.join(dir, f), "utf8")]),
      ["count_raw", "SELECT count(*) AS n FROM b3_portfolio_raw"],
      ["count_refined", "SELECT count(*) AS n FROM b3_portfolio_refined"]
    ]
    for (const [name, sql] of queries) {
      yield* QueryEngine.collect(sql) // warm-up
      const times: Array<number> = []
      let rows = 0
      for (let i = 0; i < (SMOKE ? 3 : 20); i++) {
        const t0 = performance.now()
        rows = (yield* QueryEngine.collect(sql)).length
        times.push(performance.now() - t0)
      }
      const p50 = round(median(times), 2)
      out.push({
        name: `local.query.${name}.p50`,
        value: p50,
        unit: "ms",
        note: `${rows} rows, warm connection`,
        check: below(p50, 50, "ms")
      })
    }
    return out
  }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.runPromise)

/**
 * What convergence costs (manifests, staleness, writer lock) on the backfilled warehouse: a no-op
 * full reconcile in a fresh layer (`b3 refine`, `b3 status`: the raw listing + the manifests through
 * the checkpoint) and warm, a no-op flush (the daily path: the journal's listing + the manifest
 * checkpoint), one manifest commit, one lock taken and released.
 */
const convergenceCost = (warehouse: string, msPerDay: number) =>
  Effect.gen(function*() {
    const trigger = yield* LocalTrigger
    const timed = <A, E, R>(e: Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const t0 = performance.now()
        const a = yield* e
        return [performance.now() - t0, a] as const
      })
    const [coldMs, cold] = yield* timed(trigger.reconcile())
    if (cold.runs.length !== 0) throw new Error(`a converged warehouse refined ${cold.runs.length} date(s)`)
    const warm: Array<number> = []
    const flush: Array<number> = []
    const commit: Array<number> = []
    const lock: Array<number> = []
    const manifest = Option.getOrThrow(yield* Trigger.readManifest(lastDate(warehouse)))
    for (let i = 0; i < (SMOKE ? 2 : 10); i++) {
      warm.push((yield* timed(trigger.reconcile()))[0])
      flush.push((yield* timed(trigger.flush))[0])
      commit.push((yield* timed(Trigger.commitManifest({ ...manifest, committedAt: new Date().toISOString() })))[0])
      lock.push((yield* timed(Effect.scoped(WriterLock.acquire(warehouse, { command: "bench" }))))[0])
    }
    const perFlush = median(flush) + median(commit)
    return [
      {
        name: "local.convergence.reconcile_noop_cold",
        value: round(coldMs),
        unit: "ms",
        note: "full staleness check of every date in a fresh layer (b3 refine / b3 status)"
      },
      {
        name: "local.convergence.reconcile_noop_warm",
        value: round(median(warm), 2),
        unit: "ms",
        note: "median, full staleness check, warm"
      },
      {
        name: "local.convergence.flush_noop",
        value: round(median(flush), 2),
        unit: "ms",
        note: "median; the daily path with nothing journaled (journal listing + manifest checkpoint read)"
      },
      { name: "local.convergence.manifest_commit", value: round(median(commit), 2), unit: "ms", note: "median" },
      {
        name: "local.convergence.writer_lock",
        value: round(median(lock), 2),
        unit: "ms",
        note: "median; take + release, no contention"
      },
      {
        name: "local.convergence.share_of_day",
        value: round((100 * perFlush) / msPerDay, 1),
        unit: "%",
        note: `per flush: the daily path's staleness check + 1 manifest = ${round(perFlush, 1)} ms of a ${
          round(msPerDay)
        } ms day`
      }
    ] satisfies Array<BenchRow>
  }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.runPromise)

/** The last refined date of a warehouse (from its manifests). */
const lastDate = (warehouse: string): RefDate => {
  const last = fs.readdirSync(path.join(warehouse, Trigger.MANIFEST_PREFIX)).sort().at(-1)
  if (last === undefined) throw new Error(`bench: local: ${warehouse} has no refine manifest`)
  return last.slice(9, 19) as RefDate
}

/**
 * A year, in trading days: every local target of the issue is defined on a year's warehouse or
 * backfill, so a shorter run prints its verdicts for reference only (`forSize`).
 */
const YEAR = 250

/** New dates for `b3 run --all` (kept out of the backfill), each run on an empty and on the full warehouse. */
const NEW_DATES = SMOKE ? 1 : 3

export async function run(): Promise<Array<BenchRow>> {
  const days = Number(process.env["BENCH_DAYS"] ?? (SMOKE ? 1 : 20))
  const rows = await measure(days)
  const scope = `the target is for a year: BENCH_DAYS=${YEAR}; this run has ${days} days`
  return rows.map((r) => r.check === undefined ? r : { ...r, check: forSize(r.check, days >= YEAR, scope) })
}

async function measure(days: number): Promise<Array<BenchRow>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "b3-bench-local-"))
  const rows: Array<BenchRow> = []
  const progress = (what: string) => process.stderr.write(`bench: local: ${what}\n`)
  buildCli() // b3 runs the bundle, not the sources
  try {
    const corpus = writeCorpus(root, lastTradingDays(days + NEW_DATES))
    // kept out of the backfill: the new dates of `b3 run --all`, one run each
    const newDates = corpus.days.slice(days)
    if (newDates.length !== NEW_DATES) throw new Error(`the corpus has no ${NEW_DATES} days after its ${days} days`)
    const backfill: Corpus = {
      ...corpus,
      days: corpus.days.slice(0, days),
      files: corpus.files.filter((f) => !newDates.includes(f.day))
    }
    const backfillRows = corpus.rows * days / (days + NEW_DATES)
    const note = `${ALL_INDEX_CODES.length} indices x ${days} days, ~${Math.round(backfillRows)} rows`
    const warehouse = path.join(root, "warehouse")

    progress(`pipeline, ${days} days`)
    const rss0 = process.memoryUsage.rss()
    const t0 = performance.now()
    const { perDay: pipelineDays, refineMs } = await runPipeline(backfill, warehouse)
    const pipelineMs = performance.now() - t0
    const rssAfter = process.memoryUsage.rss()

    // A backfill, three ways, side by side: `b3 replay` of the pipeline's payload archive into a
    // fresh warehouse (ours), DuckDB alone doing the same work date by date, and the floor (creating
    // the files the replay created). All three start from the same archive and end with the same files.
    const archive = path.join(warehouse, "raw", "b3_portfolio_payloads")
    progress(`b3 replay of the payload archive (after ${await settle()} s for the disk to settle)`)
    const replayed = await runCliMeasured(["--warehouse", path.join(root, "replayed"), "replay", archive])
    const replaySync = syncMs()
    const files = filesOf(path.join(root, "replayed"))
    fs.rmSync(path.join(root, "replayed"), { recursive: true, force: true })
    const replayMs = replayed.wallMs + replaySync

    progress(`DuckDB alone, same work (after ${await settle()} s for the disk to settle)`)
    const t1 = performance.now()
    const duckDays = await runDuckDb(archive, path.join(root, "duckdb"))
    const duckSync = syncMs()
    const duckMs = performance.now() - t1
    const duckFiles = filesOf(path.join(root, "duckdb"))
    fs.rmSync(path.join(root, "duckdb"), { recursive: true, force: true })

    progress(`floor: ${files.length} files (after ${await settle()} s for the disk to settle)`)
    const floorRun = await runFloor(files, path.join(root, "floor"))
    const floorSync = syncMs()
    const floorMs = floorRun + floorSync
    fs.rmSync(path.join(root, "floor"), { recursive: true, force: true })

    // refine of one date early in the history vs at its end
    const early = refineMs.slice(Math.min(5, days - 1), Math.min(15, days))
    const late = refineMs.slice(Math.max(0, days - 10))
    const earlyMs = round(median(early))
    const lateMs = round(median(late))
    const s = (ms: number) => round(ms / 1000, 2)

    rows.push(
      {
        name: "local.pipeline.rows_per_s",
        value: Math.round(backfillRows / (pipelineMs / 1000)),
        unit: "rows/s",
        note
      },
      {
        name: "local.backfill vs DuckDB alone",
        value: s(replayMs),
        unit: "s",
        note: `b3 replay of ${backfill.files.length} archived payloads (${days} days, fresh warehouse, one process); ` +
          `DuckDB alone: the same archive to the same files, date by date (${duckFiles.length} files vs our ${files.length}); ` +
          `each until its files are on disk (a final sync: ours ${s(replaySync)} s, DuckDB's ${s(duckSync)} s)`,
        check: ratioAtMost(s(replayMs), s(duckMs), "DuckDB alone, same work (same run)", 0.5)
      },
      {
        name: "local.backfill vs floor",
        value: s(replayMs),
        unit: "s",
        note:
          `floor: creating the replay's ${files.length} files (same folders and sizes, archive fsynced) and nothing else, ` +
          `then a final sync like the other two (${s(floorSync)} s)`,
        check: ratioAtMost(s(replayMs), s(floorMs), "floor (same run)", 3)
      },
      {
        name: "local.pipeline.backfill_daily",
        value: s(pipelineMs),
        unit: "s",
        note: `${note}; in process, ingest + one flush per day (the daily path, day after day)`
      },
      {
        name: "local.pipeline.ms_per_day",
        value: round(median(pipelineDays)),
        unit: "ms",
        note: "median; ingest 37 payloads + one refine"
      },
      {
        name: `local.pipeline.refine of a date at day ${days} vs day 10`,
        value: lateMs,
        unit: "ms",
        note: `median refine (flush) of the last ${late.length} days vs days ${Math.min(6, days)}-${
          Math.min(15, days)
        }; means ${round(mean(late))} vs ${round(mean(early))} ms`,
        check: ratioAtMost(lateMs, earlyMs, "refine at day ~10 (same run)", 1.2)
      },
      {
        name: "local.pipeline.rss_growth",
        value: Math.round((rssAfter - rss0) / 1048576),
        unit: "MB",
        note: `in-process pipeline: bench RSS after the backfill (${Math.round(rssAfter / 1048576)} MB) minus before`
      },
      { name: "local.duckdb_baseline.s", value: s(duckMs), unit: "s", note: `${note}; same work as b3 replay` },
      { name: "local.floor.s", value: s(floorMs), unit: "s", note: `${files.length} files` },
      {
        name: "local.duckdb_baseline.ms_per_day",
        value: round(median(duckDays)),
        unit: "ms",
        note: "median; archive -> read_json -> raw -> refine -> refined + serving + catalog + manifest"
      }
    )

    progress("convergence cost (manifests, staleness, lock)")
    rows.push(...await convergenceCost(warehouse, median(pipelineDays)))

    progress("queries")
    rows.push(...await warmQueries(warehouse))
    const validation = fs.readdirSync(path.join(SQL_DIR, "validation")).filter((f) => f.endsWith(".sql")).sort()
    for (const f of validation) {
      const runs = SMOKE ? 1 : 3
      const t = await timeCli(["--warehouse", warehouse, "query", "--file", path.join(SQL_DIR, "validation", f)], runs)
      rows.push({
        name: `local.cli.query ${f.replace(/\.sql$/, "")}`,
        value: t.wallMs,
        unit: "ms",
        note: cliNote(t, "b3 query --file, a fresh process end to end", runs),
        check: below(t.wallMs, 400, "ms")
      })
    }

    const half = replayed.samplesMb.length >> 1
    const firstHalf = replayed.samplesMb.slice(0, half).reduce((m, x) => Math.max(m, x), 1)
    const secondHalf = replayed.samplesMb.slice(half).reduce((m, x) => Math.max(m, x), 1)
    const growth = round(secondHalf / firstHalf, 2)
    rows.push(
      {
        name: "local.replay.peak_rss",
        value: replayed.peakMb,
        unit: "MB",
        note: `b3 replay of ${backfill.files.length} archived payloads (${days} days) in ${
          round(replayed.wallMs / 1000, 1)
        } s`,
        check: below(replayed.peakMb, 400, "MB")
      },
      {
        name: "local.replay.rss 2nd half / 1st half",
        value: growth,
        unit: "x",
        note: `max RSS of the run's second half ${secondHalf} MB vs first half ${firstHalf} MB (flat: <= 1.2)`,
        check: atMost(growth, 1.2, "x")
      }
    )

    progress("b3 run --all for one new date")
    if (SMOKE) return rows // full runs of 36 indices: too long for a smoke test
    // Each new date once on a fresh empty warehouse and once on the full one, alternating, so that
    // drift falls on both alike; a date run on the full warehouse stays in it (the next run is one
    // more new date on a year's warehouse).
    const pairs: Array<{ readonly date: string; readonly empty: number; readonly full: number }> = []
    const cpu = { empty: 0, full: 0 }
    for (const [k, date] of newDates.entries()) {
      const runArgs = ["run", "--all", "--source", "simulated", "--date", date]
      const onEmpty = await timeCliOnce(["--warehouse", path.join(root, `empty-${k}`), ...runArgs])
      const onFull = await timeCliOnce(["--warehouse", warehouse, ...runArgs])
      pairs.push({ date, empty: round(onEmpty.wallMs), full: round(onFull.wallMs) })
      cpu.empty += onEmpty.cpuMs
      cpu.full += onFull.cpuMs
    }
    const emptyMs = median(pairs.map((p) => p.empty))
    const fullMs = median(pairs.map((p) => p.full))
    rows.push({
      name: `local.cli.run --all, one new date, on ${days} days`,
      value: round(fullMs),
      unit: "ms",
      note: `b3 run --all --source simulated --date D, median of ${pairs.length} dates (full / empty ms: ${
        pairs.map((p) => `${p.date} ${p.full} / ${p.empty}`).join(", ")
      }); CPU ${Math.round(cpu.full / pairs.length)} ms a run (empty: ${Math.round(cpu.empty / pairs.length)} ms)`,
      check: ratioAtMost(fullMs, emptyMs, "on an empty warehouse (same run)", 1.2)
    })
    return rows
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
