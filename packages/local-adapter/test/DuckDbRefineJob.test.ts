import * as Catalog from "@b3-pipeline/core/Catalog"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { refine } from "@b3-pipeline/core/Refine"
import type { RawDate, RawRow } from "@b3-pipeline/core/Refine"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { REFINED_PREFIX, refinedTable } from "@b3-pipeline/core/Tables"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FC from "effect/FastCheck"
import * as Layer from "effect/Layer"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as DuckDbQueryEngine from "../src/DuckDbQueryEngine.js"
import * as DuckDbRefineJob from "../src/DuckDbRefineJob.js"
import * as LocalCatalog from "../src/LocalCatalog.js"
import { cleanupWarehouses, generate, readRefinedDate, tempWarehouse, treeHashes, writeRaw } from "./fixtures.js"

afterAll(cleanupWarehouses)

const jobLayer = (warehouse: string) =>
  DuckDbRefineJob.layer({ warehouse }).pipe(Layer.provideMerge(Catalog.layerMemory), Layer.provide(NodeContext.layer))

const localJob = (warehouse: string) =>
  DuckDbRefineJob.layer({ warehouse }).pipe(
    Layer.provideMerge(LocalCatalog.layer(warehouse)),
    Layer.provide(NodeContext.layer)
  )

const refineDates = (warehouse: string, dates: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const job = yield* RefineJob
    for (const d of dates) yield* job.start({ refDate: d as RefDate })
  }).pipe(Effect.provide(jobLayer(warehouse)))

const CODES = ["IBOV", "SMLL", "IDIV", "IFIX", "BDRX", "UTIL"]
const DATES = ["2024-12-30", "2025-01-02", "2025-04-30", "2025-05-02", "2025-08-29", "2025-09-01"]

describe("DuckDbRefineJob", () => {
  it.effect("refines a date like core's reference refine (and registers the partitions)", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-04-30", "2025-05-02", "2025-05-05"]
      const portfolios = generate(["IBOV", "SMLL", "IDIV"], dates)
      const rows: Array<RawRow> = []
      for (const p of portfolios) rows.push(...writeRaw(warehouse, p))
      const rawDates: Array<RawDate> = portfolios.map((p) => ({ indexCode: p.indexCode, refDate: p.refDate }))
      const job = yield* RefineJob
      for (const d of dates) {
        const run = yield* job.start({ refDate: d as RefDate })
        const expected = refine(rows.filter((r) => r.ref_date === d), rawDates)
        assert.strictEqual(run.state, "SUCCEEDED")
        assert.strictEqual(run.rows, expected.length)
        assert.deepStrictEqual(readRefinedDate(warehouse, d), expected)
        assert.strictEqual((yield* job.status(run.runId)).state, "SUCCEEDED")
      }
      const catalog = yield* Catalog.Catalog
      const partitions = yield* catalog.listPartitions(refinedTable.name)
      const tickerDates = new Set(rows.map((r) => `${r.ref_date}|${r.cod}`))
      assert.strictEqual(partitions.length, tickerDates.size)
      const missing = yield* Effect.flip(job.start({ refDate: "2025-06-02" as RefDate }))
      assert.strictEqual(missing.reason, "NoRawData")
      const escape = yield* Effect.flip(job.start({ refDate: "../../etc" as RefDate }))
      assert.strictEqual(escape.reason, "Failed")
    }).pipe(Effect.provide(jobLayer(warehouse)))
  })

  it.effect.prop(
    "differential: DuckDB's refine.sql equals core's Refine.refine row for row on generated raw data",
    {
      seed: FC.integer({ min: 1, max: 1_000_000 }),
      codes: FC.uniqueArray(FC.constantFrom(...CODES), { minLength: 1, maxLength: 3 }),
      dates: FC.uniqueArray(FC.constantFrom(...DATES), { minLength: 1, maxLength: 3 }),
      size: FC.integer({ min: 3, max: 25 })
    },
    ({ codes, dates, seed, size }) => {
      const warehouse = tempWarehouse()
      return Effect.gen(function*() {
        // some index/date pairs are missing, so previous snapshots skip days
        const portfolios = generate(codes, dates, seed, size).filter((_, i) => i === 0 || (seed + i) % 4 !== 0)
        const rows: Array<RawRow> = []
        for (const p of portfolios) rows.push(...writeRaw(warehouse, p))
        const rawDates = portfolios.map((p) => ({ indexCode: p.indexCode, refDate: p.refDate }))
        const job = yield* RefineJob
        for (const d of new Set(portfolios.map((p) => p.refDate))) {
          yield* job.start({ refDate: d })
          assert.deepStrictEqual(readRefinedDate(warehouse, d), refine(rows.filter((r) => r.ref_date === d), rawDates))
        }
        fs.rmSync(warehouse, { recursive: true, force: true })
      }).pipe(Effect.provide(jobLayer(warehouse)))
    },
    { fastCheck: { numRuns: 6 } }
  )

  it.effect("idempotent: a re-run, and a run in a fresh warehouse, write byte-identical files", () => {
    const a = tempWarehouse()
    const b = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-01-02", "2025-01-03"]
      for (const p of generate(["IBOV", "SMLL", "ICO2"], dates, 5)) {
        writeRaw(a, p)
        writeRaw(b, p)
      }
      yield* refineDates(a, dates)
      const first = { ...treeHashes(path.join(a, "refined")), ...treeHashes(path.join(a, "serving")) }
      assert.isAbove(Object.keys(first).length, 10)
      yield* refineDates(a, dates)
      yield* refineDates(a, [...dates].reverse())
      assert.deepStrictEqual({ ...treeHashes(path.join(a, "refined")), ...treeHashes(path.join(a, "serving")) }, first)
      yield* refineDates(b, dates)
      assert.deepStrictEqual({ ...treeHashes(path.join(b, "refined")), ...treeHashes(path.join(b, "serving")) }, first)
      assert.isFalse(fs.existsSync(path.join(a, "_staging")) && fs.readdirSync(path.join(a, "_staging")).length > 0)
    })
  })

  it.effect("a backfill pass (startMany) writes what date-by-date starts write; a failed month leaves its dates stale", () => {
    const a = tempWarehouse()
    const b = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-04-28", "2025-04-29", "2025-04-30", "2025-05-02", "2025-05-05"]
      // IDIV skips a date: its previous snapshot is two dates back
      for (
        const p of generate(["IBOV", "SMLL", "IDIV"], dates, 7).filter((p) =>
          !(p.indexCode === "IDIV" && p.refDate === "2025-04-30")
        )
      ) {
        writeRaw(a, p)
        writeRaw(b, p)
      }
      yield* refineDates(a, dates)
      const many = yield* Effect.flatMap(RefineJob, (job) => {
        const startMany = job.startMany
        assert.isDefined(startMany)
        const seen: Array<string> = []
        return startMany === undefined ? Effect.die("no startMany") : startMany(
          dates.map((d) => ({ refDate: d as RefDate })),
          (run) => seen.push(run.refDate)
        ).pipe(Effect.map((runs) => ({ runs, seen })))
      }).pipe(Effect.provide(jobLayer(b)))
      assert.deepStrictEqual(many.runs.map((r) => [r.refDate, r.state]), dates.map((d) => [d, "SUCCEEDED"]))
      assert.deepStrictEqual(many.seen, dates)
      for (const d of dates) {
        assert.deepStrictEqual(readRefinedDate(b, d), readRefinedDate(a, d))
        assert.strictEqual(many.runs.find((r) => r.refDate === d)?.rows, readRefinedDate(a, d).length)
      }
      assert.deepStrictEqual(treeHashes(path.join(b, "refined")), treeHashes(path.join(a, "refined")))
      // the serving copies hold the same rows (the pass writes a base per month; date by date, the
      // open month has date files and the closed one was compacted)
      const served = (w: string) =>
        QueryEngine.collect(
          "SELECT * FROM b3_portfolio_refined ORDER BY ref_date, index_code, ticker"
        ).pipe(Effect.provide(DuckDbQueryEngine.layer({ warehouse: w }).pipe(Layer.provide(NodeContext.layer))))
      const servedA = yield* served(a)
      assert.strictEqual(servedA.length, dates.reduce((n, d) => n + readRefinedDate(a, d).length, 0))
      assert.deepStrictEqual(yield* served(b), servedA)
      assert.deepStrictEqual(
        Object.keys(treeHashes(path.join(a, "serving"))),
        [
          "b3_portfolio_refined/month=2025-04/part-00000.parquet",
          "b3_portfolio_refined/month=2025-05/ref_date=2025-05-02.parquet",
          "b3_portfolio_refined/month=2025-05/ref_date=2025-05-05.parquet"
        ]
      )
      const manifest = (w: string, d: string) => {
        const m = JSON.parse(
          fs.readFileSync(path.join(w, `_manifests/b3_portfolio_refined/ref_date=${d}.json`), "utf8")
        )
        return { ...m, inputs: m.inputs.map((i: { key: string }) => i.key), runId: undefined, committedAt: undefined }
      }
      for (const d of dates) assert.deepStrictEqual(manifest(b, d), manifest(a, d))

      // A pass whose second month fails: April commits, May's dates keep their old manifests.
      const bad = path.join(b, "raw/b3_portfolio_raw/ref_date=2025-05-05/index_code=SMLL/part-00000.parquet")
      fs.writeFileSync(bad, "PAR1 this is not parquet")
      const before = fs.readFileSync(path.join(b, "_manifests/b3_portfolio_refined/ref_date=2025-05-02.json"), "utf8")
      const error = yield* Effect.flip(
        Effect.flatMap(RefineJob, (job) =>
          job.startMany === undefined
            ? Effect.die("no startMany")
            : job.startMany(dates.map((d) => ({ refDate: d as RefDate })))).pipe(Effect.provide(jobLayer(b)))
      )
      assert.strictEqual(error.reason, "Failed")
      assert.include(error.message, bad)
      // April was committed again by the failed pass (a new run id); May was not
      const runIdOf = (d: string) =>
        JSON.parse(fs.readFileSync(path.join(b, `_manifests/b3_portfolio_refined/ref_date=${d}.json`), "utf8")).runId
      assert.isString(runIdOf("2025-04-28"))
      assert.notStrictEqual(runIdOf("2025-04-28"), many.runs[0]?.runId)
      assert.strictEqual(runIdOf("2025-05-05"), many.runs[4]?.runId)
      assert.strictEqual(
        fs.readFileSync(path.join(b, "_manifests/b3_portfolio_refined/ref_date=2025-05-02.json"), "utf8"),
        before
      )
    })
  })

  it.effect("the serving copy: a date writes its date file only, a closed month is compacted into its base; the per-year layout goes", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-04-29", "2025-04-30", "2025-05-02"]
      for (const p of generate(["IBOV", "SMLL"], dates)) writeRaw(warehouse, p)
      // a serving file of the earlier per-year layout
      const legacy = path.join(warehouse, DuckDbRefineJob.SERVING_PREFIX, "year=2025", "part-00000.parquet")
      fs.mkdirSync(path.dirname(legacy), { recursive: true })
      fs.writeFileSync(legacy, "old layout")
      const servingFiles = () => Object.keys(treeHashes(path.join(warehouse, DuckDbRefineJob.SERVING_PREFIX)))
      yield* refineDates(warehouse, dates.slice(0, 2))
      // April is the open month: a date file per date, no base
      assert.deepStrictEqual(servingFiles(), [
        "month=2025-04/ref_date=2025-04-29.parquet",
        "month=2025-04/ref_date=2025-04-30.parquet"
      ])
      assert.isFalse(fs.existsSync(path.dirname(legacy)))
      const root = path.join(warehouse, DuckDbRefineJob.SERVING_PREFIX)
      const saved = servingFiles().map((f) => [f, fs.readFileSync(path.join(root, f))] as const)
      // a May date closes April: its date files are folded into its base
      yield* refineDates(warehouse, dates.slice(2))
      assert.deepStrictEqual(servingFiles(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/ref_date=2025-05-02.parquet"
      ])
      const april = path.join(warehouse, DuckDbRefineJob.servingKey("2025-04"))
      const aprilBytes = fs.readFileSync(april)
      const aprilStat = fs.statSync(april)
      const engine = DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodeContext.layer))
      const perMonth = () =>
        QueryEngine.collect(
          "SELECT strftime(ref_date, '%Y-%m') AS m, count(DISTINCT ref_date) AS d, count(*) AS n FROM b3_portfolio_refined GROUP BY 1 ORDER BY 1"
        ).pipe(Effect.provide(engine))
      const before = yield* perMonth()
      assert.deepStrictEqual(before.map((r) => [r.m, r.d]), [["2025-04", 2], ["2025-05", 1]])
      // refining a May date again rewrites its date file only: April's base is untouched (same inode, same bytes)
      yield* refineDates(warehouse, ["2025-05-02"])
      assert.strictEqual(fs.statSync(april).ino, aprilStat.ino)
      assert.deepStrictEqual(fs.readFileSync(april), aprilBytes)
      // a crash after the compaction's rename, before its date files went: each row still counts once
      for (const [f, bytes] of saved) fs.writeFileSync(path.join(root, f), bytes)
      assert.deepStrictEqual(yield* perMonth(), before)
      // the next refine compacts April again: the same bytes, its date files gone
      yield* refineDates(warehouse, ["2025-05-02"])
      assert.deepStrictEqual(servingFiles(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/ref_date=2025-05-02.parquet"
      ])
      assert.deepStrictEqual(fs.readFileSync(april), aprilBytes)
      // a correction of an April date: its date file overrides the base, then the closed month is compacted again
      for (const p of generate(["IBOV"], ["2025-04-30"], 3, 77)) writeRaw(warehouse, p)
      fs.rmSync(path.join(warehouse, "raw/b3_portfolio_raw/ref_date=2025-04-30/index_code=SMLL"), { recursive: true })
      yield* refineDates(warehouse, ["2025-04-30"])
      assert.deepStrictEqual(servingFiles(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/ref_date=2025-05-02.parquet"
      ])
      const after = yield* perMonth()
      assert.deepStrictEqual(after.map((r) => [r.m, r.d]), [["2025-04", 2], ["2025-05", 1]])
      assert.strictEqual(
        after[0]?.n,
        readRefinedDate(warehouse, "2025-04-29").length + readRefinedDate(warehouse, "2025-04-30").length
      )
    })
  })

  it.effect("a date whose members change replaces its partitions; tickers that left disappear", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const d = "2025-03-10" as RefDate
      const big = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: d, size: 30, seed: 1 })
      writeRaw(warehouse, big)
      yield* refineDates(warehouse, [d])
      const small = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: d, size: 8, seed: 99 })
      const rows = writeRaw(warehouse, small)
      yield* refineDates(warehouse, [d])
      const expected = refine(rows, [{ indexCode: small.indexCode, refDate: d }])
      assert.deepStrictEqual(readRefinedDate(warehouse, d), expected)
      const served = yield* QueryEngine.collect(`SELECT count(*) AS n FROM b3_portfolio_refined`).pipe(
        Effect.provide(DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodeContext.layer)))
      )
      assert.deepStrictEqual(served, [{ n: 8 }])
    })
  })

  it.effect("a corrupt raw Parquet file fails the refine with the file's path; refined data is untouched", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const d = "2025-03-10" as RefDate
      const [ibov, smll] = generate(["IBOV", "SMLL"], [d], 3, 10)
      writeRaw(warehouse, ibov!)
      writeRaw(warehouse, smll!)
      yield* refineDates(warehouse, [d])
      const before = treeHashes(path.join(warehouse, "refined"))
      const bad = path.join(warehouse, "raw/b3_portfolio_raw/ref_date=2025-03-10/index_code=SMLL/part-00000.parquet")
      fs.writeFileSync(bad, "PAR1 this is not parquet")
      const error = yield* Effect.flip(refineDates(warehouse, [d]))
      assert.strictEqual(error._tag, "RefineJobError")
      if (error._tag !== "RefineJobError") return
      assert.strictEqual(error.reason, "Failed")
      assert.strictEqual(error.refDate, d)
      assert.include(error.message, bad)
      assert.notInclude(error.message, "    at ")
      assert.deepStrictEqual(treeHashes(path.join(warehouse, "refined")), before)
      // the query engine reports a corrupt serving file the same way
      const serving = path.join(warehouse, DuckDbRefineJob.servingKey(d.slice(0, 7)))
      fs.writeFileSync(serving, "garbage")
      const qe = yield* Effect.flip(
        QueryEngine.collect("SELECT * FROM b3_portfolio_refined").pipe(
          Effect.provide(DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodeContext.layer)))
        )
      )
      assert.strictEqual(qe.reason, "Failed")
      assert.include(qe.detail ?? "", serving)
      // the next refine of a date of that year rebuilds the serving file from the refined tree
      writeRaw(warehouse, ibov!)
      writeRaw(warehouse, smll!)
      yield* refineDates(warehouse, [d])
      const served = yield* QueryEngine.collect("SELECT count(*) AS n FROM b3_portfolio_refined").pipe(
        Effect.provide(DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodeContext.layer)))
      )
      assert.deepStrictEqual(served, [{ n: 20 }])
    })
  })

  it.effect("a lost serving file is rebuilt from the month's other dates in the refined tree, not only the date refined", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-03-10", "2025-03-11", "2025-03-12"] as Array<RefDate>
      for (const p of generate(["IBOV", "SMLL"], dates, 3, 10)) writeRaw(warehouse, p)
      yield* refineDates(warehouse, dates)
      // an April date closes March: its date files are compacted into its base
      for (const p of generate(["IBOV"], ["2025-04-01"], 3, 10)) writeRaw(warehouse, p)
      yield* refineDates(warehouse, ["2025-04-01"])
      const count = (sql: string) =>
        QueryEngine.collect(sql).pipe(
          Effect.provide(DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodeContext.layer)))
        )
      const perDate =
        "SELECT CAST(ref_date AS VARCHAR) AS d, count(*) AS n FROM b3_portfolio_refined GROUP BY 1 ORDER BY 1"
      const before = yield* count(perDate)
      assert.deepStrictEqual(before.map((r) => r.d), [...dates, "2025-04-01"])
      // the serving file is lost, and a date folder of the month is left empty (a crash between
      // the removal of its last partition and of the folder): read_parquet must not be given its glob
      fs.rmSync(path.join(warehouse, DuckDbRefineJob.servingKey("2025-03")))
      fs.mkdirSync(path.join(warehouse, REFINED_PREFIX, "ref_date=2025-03-13"))
      // refining one date rebuilds the month: the other two dates come from the tree
      yield* refineDates(warehouse, ["2025-03-11"])
      assert.deepStrictEqual(yield* count(perDate), before)
    })
  })

  it.effect(
    "a refine killed with SIGKILL leaves every partition entirely old or entirely new; the next run repairs",
    () => {
      const warehouse = tempWarehouse()
      const d = "2025-06-16" as RefDate
      const codes = ["IBOV", "IBRA", "SMLL", "IDIV", "IBXX", "MLCX", "IFIX", "BDRX"]
      return Effect.gen(function*() {
        for (const p of generate(codes, [d], 1)) writeRaw(warehouse, p)
        yield* Effect.scoped(
          Effect.flatMap(RefineJob, (job) => job.start({ refDate: d })).pipe(
            Effect.provide(localJob(warehouse))
          )
        )
        const dateDir = path.join(warehouse, REFINED_PREFIX, `ref_date=${d}`)
        const old = treeHashes(dateDir)
        // new raw data (other weights and members) for the same date
        for (const p of generate(codes, [d], 1000)) writeRaw(warehouse, p)
        // the expected new state, computed in a copy of the warehouse
        const copy = tempWarehouse()
        fs.cpSync(warehouse, copy, { recursive: true })
        yield* Effect.scoped(
          Effect.flatMap(RefineJob, (job) => job.start({ refDate: d })).pipe(
            Effect.provide(localJob(copy))
          )
        )
        const fresh = treeHashes(path.join(copy, REFINED_PREFIX, `ref_date=${d}`))
        assert.notDeepEqual(fresh, old)

        // kill a child refine in the middle: once it has staged files and started swapping
        const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "child", "refine-date.ts")
        const killedAt = yield* Effect.promise(() =>
          new Promise<string>((resolve, reject) => {
            const proc = spawn(process.execPath, [
              "--conditions=@b3-pipeline/source",
              "--import",
              "tsx",
              child,
              warehouse,
              d
            ], { stdio: "ignore" })
            const staging = path.join(warehouse, DuckDbRefineJob.STAGING_PREFIX)
            const started = Date.now()
            let state = "timeout"
            // Swapping has begun when the first staged ticker (sorted) has been moved out of staging.
            const swapping = () => {
              if (!fs.existsSync(staging)) return false
              // (the staging root is removed once empty: it may vanish between two calls)
              let runs: Array<string> = []
              try {
                runs = fs.readdirSync(staging)
              } catch {
                return false
              }
              for (const run of runs) {
                let entries: Array<string> = []
                try {
                  entries = fs.readdirSync(path.join(staging, run)).sort()
                } catch {
                  continue
                }
                const first = entries[0]
                if (
                  first !== undefined && !fs.existsSync(path.join(staging, run, first, "part-00000.parquet"))
                ) return true
              }
              return false
            }
            const timer = setInterval(() => {
              const now = swapping()
              if (now || Date.now() - started > 60_000) {
                clearInterval(timer)
                state = now ? "swapping" : "timeout"
                proc.kill("SIGKILL")
              }
            }, 1)
            proc.on("exit", () => {
              clearInterval(timer)
              resolve(state)
            })
            proc.on("error", reject)
          })
        )
        assert.notStrictEqual(killedAt, "timeout")

        // every partition is entirely old or entirely new (and is a complete file)
        const after = treeHashes(dateDir)
        let olds = 0
        let news = 0
        for (const [file, hash] of Object.entries(after)) {
          assert.match(file, /^ticker=[A-Z0-9]+\/part-00000\.parquet$/)
          if (hash === old[file]) olds++
          else if (hash === fresh[file]) news++
          else assert.fail(`${file} is neither the old nor the new partition`)
        }
        assert.isAbove(olds + news, 0)

        // the next run repairs: the date is exactly the new state, staging is gone
        yield* Effect.scoped(
          Effect.flatMap(RefineJob, (job) => job.start({ refDate: d })).pipe(
            Effect.provide(localJob(warehouse))
          )
        )
        assert.deepStrictEqual(treeHashes(dateDir), fresh)
        assert.isFalse(fs.existsSync(path.join(warehouse, DuckDbRefineJob.STAGING_PREFIX)))
      })
    },
    { timeout: 120_000 }
  )
})
