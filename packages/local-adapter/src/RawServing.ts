/**
 * The compact serving copy of the raw table: one Parquet file per month,
 * `serving/b3_portfolio_raw/month=YYYY-MM/part-00000.parquet`, holding every raw row of the month
 * with its `ref_date` and `index_code`, so that a query of the raw table reads a dozen files a year
 * instead of one per index and date (36 x 250).
 *
 * `update(dates)` rewrites the months of `dates`: the month's file minus those dates, plus their raw
 * files as they are now (the month's first file is built from all its raw files), written to a temp
 * file and renamed over the old one (a reader sees the old month or the new one, never a half).
 * `LocalTrigger` calls it for every date the raw-change journal names (and every date it refined)
 * BEFORE it clears the journal, so a date without a journal marker has the same rows in the copy
 * as in its raw files. `DuckDbQueryEngine` reads the copy for those dates and the raw files for the
 * dates that have a marker or whose month has no file yet.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { RefineJobError } from "@b3-pipeline/core/RefineJob"
import { RAW_PREFIX } from "@b3-pipeline/core/Tables"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Db, DuckDbFailure } from "./internal/duckdb.js"
import { literal, open } from "./internal/duckdb.js"
import { rawColumnList, rawHive, rawServingKey } from "./ServingLayout.js"

/** The copy's folder, files and columns live in `ServingLayout` (the query engine reads them). @category constants */
export { RAW_SERVING_PREFIX, rawColumnList, rawHive, rawServingKey } from "./ServingLayout.js"

/** @category models */
export interface RawServingConfig {
  readonly warehouse: string
  /** DuckDB threads (default 1). */
  readonly threads?: number
  /** DuckDB's `memory_limit` for a month's rewrite (default 256MB). */
  readonly memoryLimit?: string
}

/** @category tags */
export class RawServing extends Context.Tag("@b3-pipeline/local-adapter/RawServing")<RawServing, {
  /** Rewrites the months of `dates` so that those dates' rows are their raw files' rows now. */
  readonly update: (dates: ReadonlyArray<RefDate>) => Effect.Effect<void, RefineJobError>
}>() {}

/**
 * The copy on a warehouse folder. Each month is rewritten by a DuckDB instance of its own (one
 * thread, 256 MB by default, no cache of the files it read), closed after the month: the memory of
 * an update is one month's whatever the number of months (a backfill's update names every month),
 * and a command that writes nothing never opens DuckDB.
 *
 * @category constructors
 */
export const make = (config: RawServingConfig) =>
  Effect.gen(function*() {
    /** A fresh instance for `use`, closed when it ends. */
    const withDb = <A>(use: (d: Db) => Effect.Effect<A, DuckDbFailure>) =>
      Effect.scoped(Effect.gen(function*() {
        const d = yield* open({ threads: config.threads ?? 1 })
        for (
          const setting of [
            `SET memory_limit = ${literal(config.memoryLimit ?? "256MB")}`,
            // past the limit DuckDB spills: inside the warehouse, never in the current folder
            `SET temp_directory = ${literal(abs("_staging/duckdb-spill-raw-serving"))}`,
            // DuckDB would otherwise keep the bytes of every raw file it read
            `SET enable_external_file_cache = false`
          ]
        ) yield* d.run(setting)
        return yield* use(d)
      }))
    const abs = (key: string) => path.join(config.warehouse, ...key.split("/").filter((s) => s.length > 0))
    const fail = (detail: string, cause?: unknown) =>
      new RefineJobError({ reason: "Unknown", method: "rawServing", detail, cause })
    const onDuck = (e: DuckDbFailure) => fail(`raw serving copy: ${e.message}`, e)

    /** Does the glob match a file? */
    const any = (d: Db, glob: string) =>
      Effect.map(d.all(`SELECT count(*) FROM glob(${literal(glob)})`), (r) => Number(r.getRowsJS()[0]?.[0] ?? 0) > 0)

    const updateMonth = (
      d: Db,
      month: string,
      dates: ReadonlyArray<RefDate>,
      rebuild = false
    ): Effect.Effect<void, DuckDbFailure> =>
      Effect.gen(function*() {
        const target = abs(rawServingKey(month))
        const dir = path.dirname(target)
        const temp = path.join(dir, `.tmp-${randomUUID()}`)
        const hasFile = !rebuild && fs.existsSync(target)
        // the dates to read from raw files: these dates, or the whole month for its first file
        const globs: Array<string> = []
        for (const date of hasFile ? dates : [`${month}-*`]) {
          const glob = `${abs(RAW_PREFIX)}/ref_date=${date}/index_code=*/*.parquet`
          if (yield* any(d, glob)) globs.push(glob)
        }
        const parts: Array<string> = []
        if (hasFile) {
          parts.push(
            `SELECT ${rawColumnList} FROM read_parquet(${literal(target)}) WHERE ref_date NOT IN (${
              dates.map((x) => `DATE ${literal(x)}`).join(", ")
            })`
          )
        }
        if (globs.length > 0) {
          parts.push(`SELECT ${rawColumnList} FROM read_parquet([${globs.map(literal).join(", ")}], ${rawHive})`)
        }
        if (parts.length === 0) return // no file and no raw data in the month: nothing to serve
        fs.mkdirSync(dir, { recursive: true })
        yield* d.run(
          `COPY (SELECT * FROM (${parts.join(" UNION ALL ")}) ORDER BY ref_date, index_code, row_number)
           TO ${literal(temp)} (FORMAT parquet, COMPRESSION zstd)`
        ).pipe(
          Effect.tapError(() => Effect.sync(() => fs.rmSync(temp, { force: true }))),
          // the month's file cannot be read (damaged): rebuilt from all the month's raw files, once
          Effect.catchAll((e) => hasFile ? updateMonth(d, month, dates, true) : Effect.fail(e))
        )
        if (fs.existsSync(temp)) fs.renameSync(temp, target)
      })

    const update = (dates: ReadonlyArray<RefDate>): Effect.Effect<void, RefineJobError> =>
      Effect.gen(function*() {
        if (dates.length === 0) return
        const byMonth = new Map<string, Array<RefDate>>()
        for (const date of dates) {
          const month = date.slice(0, 7)
          const list = byMonth.get(month)
          if (list === undefined) byMonth.set(month, [date])
          else list.push(date)
        }
        for (const [month, list] of [...byMonth].sort(([a], [b]) => (a < b ? -1 : 1))) {
          yield* withDb((d) => updateMonth(d, month, list)).pipe(Effect.mapError(onDuck))
        }
      }).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(fail(`raw serving copy: ${String(defect)}`, defect))),
        Effect.withSpan("RawServing.update")
      )

    return RawServing.of({ update })
  })

/** @category layers */
export const layer = (config: RawServingConfig): Layer.Layer<RawServing> => Layer.effect(RawServing, make(config))
