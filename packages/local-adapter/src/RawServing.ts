/**
 * The compact serving copy of the raw table, `serving/b3_portfolio_raw/`: per month a base file
 * `month=YYYY-MM/part-00000.parquet` plus date files `month=YYYY-MM/ref_date=D.parquet` that override
 * it (`ServingLayout`, `ServingFiles`), holding every raw row with its `ref_date` and `index_code`, so
 * that a query of the raw table reads a few dozen files a year instead of one per index and date
 * (36 x 250).
 *
 * `update(dates)` brings those dates' rows in line with their raw files now: a date file each for a
 * few dates of a month with a base or whose other dates all have date files (O(day)), else a
 * compaction of the month (built from all its raw files where it has no base); then the closed
 * months' date files are compacted. Each file is written
 * to a temp file and renamed (a reader sees a file old or new, never a half).
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
import * as path from "node:path"
import type { Db, DuckDbFailure } from "./internal/duckdb.js"
import { literal, open } from "./internal/duckdb.js"
import * as ServingFiles from "./ServingFiles.js"
import { namesIn, RAW_SERVING_PREFIX, rawColumnList, rawHive } from "./ServingLayout.js"

/** The copy's folder, files and columns live in `ServingLayout` (the query engine reads them). @category constants */
export { RAW_SERVING_PREFIX, rawColumnList, rawHive, rawServingKey } from "./ServingLayout.js"

/** A month's update writes date files for this many dates at most; more are compacted into its base. */
const DATE_FILES_AT_MOST = 3

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

    const table: ServingFiles.ServingTable = {
      root: abs(RAW_SERVING_PREFIX),
      columns: rawColumnList,
      order: "ref_date, index_code, row_number",
      format: "FORMAT parquet, COMPRESSION zstd"
    }
    /** The rows of `dates` as their raw files are now (only dates with files), or `undefined`: none has any. */
    const rawRows = (d: Db, dates: ReadonlyArray<string>) =>
      Effect.map(
        ServingFiles.matchingGlobs(
          d,
          dates.map((date) => `${abs(RAW_PREFIX)}/ref_date=${date}/index_code=*/*.parquet`)
        ),
        (globs) =>
          globs.length === 0 ?
            undefined :
            `SELECT ${rawColumnList} FROM read_parquet([${globs.map(literal).join(", ")}], ${rawHive})`
      )
    /** The month's dates in the raw folder, but `exclude`. */
    const rawDates = (month: string, exclude: ReadonlyArray<RefDate>): ReadonlyArray<string> =>
      ServingFiles.monthDates(namesIn(abs(RAW_PREFIX)), month, exclude)
    /** A month's rows from its raw files, every date but `exclude` (a missing or unreadable base, a first base). */
    const fallback = (d: Db) => (month: string, exclude: ReadonlyArray<RefDate>) => rawRows(d, rawDates(month, exclude))

    /**
     * A few dates of a month with a readable base, or of a month whose other dates all have date
     * files: a date file each (O(day)); a date without raw files: a tombstone over the base, or no
     * file where there is no base. Otherwise the month is compacted with those dates' rows (from all
     * its raw files where it has no base).
     */
    const updateMonth = (d: Db, month: string, dates: ReadonlyArray<RefDate>): Effect.Effect<void, DuckDbFailure> =>
      Effect.gen(function*() {
        const files = ServingFiles.monthFiles(table, month)
        const dateFiles = dates.length <= DATE_FILES_AT_MOST &&
          (yield* ServingFiles.takesDateFiles(d, files, dates, (exclude) => Effect.succeed(rawDates(month, exclude))))
        if (dateFiles) {
          for (const date of dates) {
            const rows = yield* rawRows(d, [date])
            if (rows !== undefined) yield* ServingFiles.writeDate(d, table, date, rows)
            else if (files.base !== undefined) {
              yield* ServingFiles.writeDate(
                d,
                table,
                date,
                `SELECT ${rawColumnList} FROM read_parquet(${literal(files.base)}) WHERE false`
              )
            } else yield* ServingFiles.removeDate(table, date)
          }
        } else {
          yield* ServingFiles.writeMonth(d, table, month, {
            fresh: yield* rawRows(d, dates),
            freshDates: dates,
            fallback: (exclude) => fallback(d)(month, exclude)
          })
        }
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
        const months = [...byMonth].sort(([a], [b]) => (a < b ? -1 : 1))
        for (const [month, list] of months) {
          yield* withDb((d) => updateMonth(d, month, list)).pipe(Effect.mapError(onDuck))
        }
        // closed months' date files folded into their bases (once a month, or after a correction)
        const latest = months[months.length - 1]?.[0] ?? ""
        if (ServingFiles.closedMonths(table, latest).length > 0) {
          yield* withDb((d) => ServingFiles.compactClosed(d, table, latest, fallback(d))).pipe(Effect.mapError(onDuck))
        }
      }).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(fail(`raw serving copy: ${String(defect)}`, defect))),
        Effect.withSpan("RawServing.update")
      )

    return RawServing.of({ update })
  })

/** @category layers */
export const layer = (config: RawServingConfig): Layer.Layer<RawServing> => Layer.effect(RawServing, make(config))
