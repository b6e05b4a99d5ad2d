/**
 * The `RefineJob` port on DuckDB: `glue/sql/refine.sql` (the SQL the Glue job runs) over the raw
 * Parquet of one date, written in the Hive layout of `b3_portfolio_refined`
 * (`refined/b3_portfolio_refined/ref_date=D/ticker=T/part-00000.parquet`), plus a compacted serving
 * copy that the query engine reads (`serving/b3_portfolio_refined/`: per month a base file and date
 * files that override it, `ServingLayout`), so that refining a date writes one date file whatever
 * the history holds, and a year of queries reads 12 bases plus the open month's date files.
 *
 * Replacing a date, safely:
 * 1. one `COPY ... (FORMAT parquet, PARTITION_BY (ticker))` writes every ticker of the date into a
 *    staging folder `_staging/refine-D-<run>/` of the warehouse (same filesystem);
 * 2. each staged file is renamed over its partition's file: a rename replaces a file atomically,
 *    so a reader (or a crash) sees every partition entirely old or entirely new, never missing;
 * 3. partitions of tickers that left the date are removed, then the staging folder;
 * 4. the serving copy gets the date's rows as its date file (written to a temp file, renamed in: a
 *    reader sees the old file or the new one, never a mix); a backfill's month, or a month whose
 *    base is missing or unreadable, is compacted instead (rebuilt from the month's part of the
 *    refined tree where needed), and a month closed by a later one is compacted once
 *    (`ServingFiles`). Serving files of the earlier per-year layout (`year=YYYY/`) are removed:
 *    their dates are stale (no manifest) and are refined again, month by month;
 * 5. the catalog gets the date's partitions (raw and refined).
 * A run that dies half-way leaves some partitions old and some new; the next run of the date
 * rewrites all of them and removes the dead run's staging folder.
 *
 * Deterministic: rows are sorted, DuckDB writes the same bytes for the same rows, so a re-run
 * produces byte-identical files. Runs are serialised within a layer (one DuckDB connection).
 *
 * @since 0.1.0
 */
import { Catalog } from "@b3-pipeline/core/Catalog"
import type { CatalogError } from "@b3-pipeline/core/Catalog"
import type { Partition } from "@b3-pipeline/core/Catalog"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import { makeRunLog, RefineJob, RefineJobError } from "@b3-pipeline/core/RefineJob"
import type { RefineRequest, RefineRun } from "@b3-pipeline/core/RefineJob"
import {
  RAW_PREFIX,
  rawPartitionPrefix,
  rawTable,
  REFINED_PREFIX,
  refinedColumns,
  refinedPartitionPrefix,
  refinedTable
} from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { randomUUID } from "node:crypto"
import * as FileSystemObjectStore from "./FileSystemObjectStore.js"
import type { Db, DuckDbFailure } from "./internal/duckdb.js"
import { literal, open, statements, stripSql } from "./internal/duckdb.js"
import { classify, describe } from "./internal/fsError.js"
import * as RefinedWriter from "./RefinedWriter.js"
import * as RefineSql from "./RefineSql.js"
import * as ServingFiles from "./ServingFiles.js"
import { BASE_FILE, monthFolder, REFINED_SERVING_PREFIX } from "./ServingLayout.js"

/** Prefix of the compacted serving copy of the refined table (defined in `ServingLayout`). @category constants */
export const SERVING_PREFIX = REFINED_SERVING_PREFIX
/** Staging folder of refine runs (same filesystem as the table, so renames are atomic). @category constants */
export const STAGING_PREFIX = "_staging/"

/** The serving base file of a month (`YYYY-MM`); its date files override it (`ServingLayout`). @category constants */
export const servingKey = (month: string): string => `${SERVING_PREFIX}${monthFolder(month)}/${BASE_FILE}`

/** @category models */
export interface DuckDbRefineJobConfig {
  readonly warehouse: string
  /** Folder holding refine.sql and duckdb-compat.sql; the package's copy (or the repository's glue/sql) by default. */
  readonly sqlDir?: string
  /** DuckDB threads (default 1). */
  readonly threads?: number
  /** Skip the serving copy (for tests of the Hive layout alone). */
  readonly serving?: boolean
  /** DuckDB's `memory_limit` for the refine (default 256MB: a refine holds one date's rows at a time). */
  readonly memoryLimit?: string
}

const RAW_GLOB_HIVE = "{'ref_date': DATE, 'index_code': VARCHAR}"

const quoteIdent = (name: string): string => `"${name.replace(/"/g, "\"\"")}"`

/**
 * Builds the job (one DuckDB connection for the layer's lifetime).
 *
 * @category constructors
 */
export const make = (config: DuckDbRefineJobConfig) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const catalog = yield* Catalog
    // the warehouse as an object store: the raw listing (with hashes) and the manifests
    const store = yield* FileSystemObjectStore.make(config.warehouse)
    const sql = yield* RefineSql.load(config.sqlDir)
    const refineSql = stripSql(sql.refine)
    const compatSql = statements(sql.compat)
    const abs = (key: string): string => path.join(config.warehouse, ...key.split("/").filter((s) => s.length > 0))

    const lock = yield* Effect.makeSemaphore(1)
    const log = makeRunLog()

    const duckFail = (refDate: string, runId: string) => (e: DuckDbFailure) =>
      new RefineJobError({
        reason: /Permission denied|Read-only/i.test(e.message) ? "AccessDenied" : "Failed",
        method: "start",
        refDate,
        runId,
        detail: e.message.split("\n")[0] ?? e.message,
        cause: e.cause
      })
    const fsFail = (refDate: string, runId: string, where: string) => (cause: unknown) =>
      new RefineJobError({
        reason: classify(cause) === "AccessDenied" ? "AccessDenied" : "Failed",
        method: "start",
        refDate,
        runId,
        detail: describe(where, cause),
        cause
      })
    const catalogFail = (refDate: string, runId: string) => (e: CatalogError) =>
      new RefineJobError({ reason: "Failed", method: "start", refDate, runId, detail: e.message, cause: e })

    const listDir = (dir: string) =>
      fs.readDirectory(dir).pipe(
        Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeed([] as Array<string>) : Effect.fail(e))
      )
    const exists = (file: string) => fs.exists(file)

    /** A date of a pass: its plan (with raw inputs) and run id. */
    interface DateWork {
      readonly refDate: RefDate
      readonly plan: Trigger.RefinePlan
      readonly runId: string
      readonly request: RefineRequest
    }

    /** The plan of a request: the caller's (listed before the call), else from a listing of the raw table. */
    const planFor = (request: RefineRequest, runId: string) =>
      request.plan !== undefined ?
        Effect.succeed(request.plan) :
        Trigger.readRawState.pipe(
          Effect.provideService(ObjectStore, store),
          Effect.mapError(fsFail(request.refDate, runId, abs(RAW_PREFIX))),
          Effect.map((raw) => Trigger.planOf(raw, request.refDate))
        )

    const refineDate = (db: Db, request: RefineRequest, runId: string) =>
      Effect.gen(function*() {
        const plan = yield* planFor(request, runId)
        if (plan.inputs.length === 0) return yield* clearDate(db, request.refDate, runId)
        const rows = yield* refineGroup(db, [{ refDate: request.refDate, plan, runId, request }])
        return rows.get(request.refDate) ?? 0
      })

    /**
     * Refines the dates of `group` (one month, each with raw inputs) in one pass: one refine query,
     * one partitioned COPY, the partition swaps of each date, one rewrite of the month's serving
     * file, one catalog update, then each date's manifest (its commit point), in date order. Errors
     * name the group's first date and run. Returns the rows written per date.
     */
    const refineGroup = (
      db: Db,
      group: ReadonlyArray<DateWork>,
      onCommit: (work: DateWork, rows: number) => Effect.Effect<void> = () => Effect.void
    ) =>
      Effect.gen(function*() {
        const [first] = group
        if (first === undefined) return new Map<RefDate, number>()
        const { refDate, runId } = first
        const onDuck = duckFail(refDate, runId)
        const onFs = (where: string) => fsFail(refDate, runId, where)
        const dates = group.map((w) => w.refDate)

        // Remove what dead runs of these dates left behind.
        const stagingRoot = abs(STAGING_PREFIX)
        for (const name of yield* listDir(stagingRoot).pipe(Effect.mapError(onFs(stagingRoot)))) {
          if (dates.some((d) => name.startsWith(`refine-${d}-`))) {
            yield* fs.remove(path.join(stagingRoot, name), { recursive: true }).pipe(
              Effect.mapError(onFs(path.join(stagingRoot, name)))
            )
          }
        }

        // 1. Refine each date (refine.sql over the date's raw files) and stage its (date, ticker)
        //    files, encoded from the refine's rows (RefinedWriter); with more than one date, each
        //    date's rows are also staged as a Parquet file for the serving copy, read back as the
        //    view `refined`. Date by date, nothing kept in DuckDB: its memory is a date's, not a
        //    month's (about 3.5 MB a date otherwise).
        const staging = abs(`${STAGING_PREFIX}refine-${refDate}-${runId.replace(/[^A-Za-z0-9-]/g, "")}`)
        const rows = new Map<RefDate, number>()
        const tickersOf = new Map<RefDate, ReadonlyArray<string>>()
        const servingStage = path.join(staging, "serving")
        /** `refined` is the view over the pass's staged serving rows, not a table. */
        let refinedIsView = false
        if (group.length > 1) {
          yield* fs.makeDirectory(servingStage, { recursive: true }).pipe(Effect.mapError(onFs(servingStage)))
        }
        // A date's files are written while DuckDB refines the next date: the write (synchronous
        // calls, in a forked fiber) runs on the main thread while the refine's statements, already
        // handed to DuckDB, run on DuckDB's. One date writing at a time; every write has ended
        // before this step does, failed or not.
        let writing: Fiber.RuntimeFiber<void, RefineJobError> | undefined
        const writeDone = Effect.suspend(() => {
          const fiber = writing
          writing = undefined
          return fiber === undefined ? Effect.void : Fiber.join(fiber)
        })
        yield* Effect.gen(function*() {
          for (const w of group) {
            const onDate = duckFail(w.refDate, w.runId)
            const rawView = `CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM read_parquet([${
              w.plan.inputs.map((i) => literal(abs(i.key))).join(", ")
            }], hive_partitioning = true, hive_types = ${RAW_GLOB_HIVE})`
            // The previous snapshot of each index is all the refine needs of other dates: the plan's
            // (index, previous date) pairs, no glob over the whole history.
            const dateRows = w.plan.inputs.flatMap((i) => {
              const previous = w.plan.previous[i.indexCode]
              return [
                `(${literal(i.indexCode)}, DATE ${literal(w.refDate)})`,
                ...(previous !== undefined && previous !== null ?
                  [`(${literal(i.indexCode)}, DATE ${literal(previous)})`] :
                  [])
              ]
            })
            // one round trip: DuckDB refines the date while the previous date's files are written
            yield* db.run(
              [
                rawView,
                `CREATE OR REPLACE TEMP TABLE raw_dates AS
                 SELECT * FROM (VALUES ${dateRows.join(", ")}) AS t(index_code, ref_date)`,
                `CREATE OR REPLACE TEMP TABLE refined AS ${refineSql}`
              ].join(";\n")
            ).pipe(Effect.mapError(onDate))

            const staged = yield* RefinedWriter.readDate(db, w.refDate).pipe(Effect.mapError(onDate))
            const badTicker = staged.tickers.find((t) => !/^[A-Z0-9]{1,16}$/.test(t))
            if (badTicker !== undefined) {
              return yield* Effect.fail(
                new RefineJobError({
                  reason: "Failed",
                  method: "start",
                  refDate: w.refDate,
                  runId: w.runId,
                  detail: `ticker ${JSON.stringify(badTicker)} cannot name a partition`
                })
              )
            }
            rows.set(w.refDate, staged.rows)
            tickersOf.set(w.refDate, staged.tickers)
            if (group.length > 1) {
              const file = path.join(servingStage, `${w.refDate}.parquet`)
              yield* db.run(`COPY refined TO ${literal(file)} (FORMAT parquet, COMPRESSION uncompressed)`).pipe(
                Effect.mapError(onDate)
              )
            }
            yield* writeDone
            writing = yield* Effect.fork(
              staged.write(staging).pipe(
                Effect.mapError(fsFail(w.refDate, w.runId, staging)),
                Effect.withSpan("DuckDbRefineJob.writePartitions", { attributes: { refDate: w.refDate } })
              )
            )
          }
          yield* writeDone
        }).pipe(
          Effect.onExit(() => Effect.ignore(writeDone)),
          Effect.withSpan("DuckDbRefineJob.refineAndStage", { attributes: { dates: group.length } })
        )
        if (group.length > 1) {
          yield* db.run(`DROP TABLE refined`).pipe(Effect.mapError(onDuck))
          yield* db.run(
            `CREATE TEMP VIEW refined AS SELECT * FROM read_parquet([${
              group.map((w) => literal(path.join(servingStage, `${w.refDate}.parquet`))).join(", ")
            }])`
          ).pipe(Effect.mapError(onDuck))
          refinedIsView = true
        }

        // 2. and 3. Each date's partitions swapped in, tickers that left removed.
        const removed = new Map<RefDate, ReadonlyArray<string>>()
        for (const w of group) {
          removed.set(
            w.refDate,
            yield* swapDate(
              path.join(staging, `ref_date=${w.refDate}`),
              w.refDate,
              tickersOf.get(w.refDate) ?? [],
              onFs
            )
          )
        }

        // 4. The serving copy of the month (a group is one month).
        if (config.serving !== false) yield* rebuildServing(db, dates, refDate, runId)
        if (refinedIsView) {
          // the view reads the staging folder, removed next
          yield* db.run(`DROP VIEW refined`).pipe(Effect.mapError(onDuck))
          refinedIsView = false
        }
        yield* fs.remove(staging, { recursive: true }).pipe(Effect.mapError(onFs(staging)))
        // and the staging root once empty
        if ((yield* listDir(stagingRoot).pipe(Effect.orElseSucceed(() => ["?"]))).length === 0) {
          yield* fs.remove(stagingRoot, { recursive: true }).pipe(Effect.ignore)
        }

        // 5. Catalog.
        yield* updateCatalog(group, removed, tickersOf)

        // 6. The commit points: each date's manifest, last, one atomic write each, in date order.
        for (const w of group) {
          yield* Trigger.commitManifest(
            Trigger.manifestOf(w.plan, {
              rows: rows.get(w.refDate) ?? 0,
              tickers: tickersOf.get(w.refDate) ?? [],
              runId: w.runId
            }, new Date(yield* Clock.currentTimeMillis))
          ).pipe(
            Effect.provideService(ObjectStore, store),
            Effect.mapError(fsFail(w.refDate, w.runId, abs(Trigger.manifestKey(w.refDate))))
          )
          yield* onCommit(w, rows.get(w.refDate) ?? 0)
        }
        return rows
      })

    /** Step 5: the tables and the group's partitions in the catalog (raw and refined). */
    const updateCatalog = (
      group: ReadonlyArray<DateWork>,
      removed: ReadonlyMap<RefDate, ReadonlyArray<string>>,
      tickersOf: ReadonlyMap<RefDate, ReadonlyArray<string>>
    ) =>
      Effect.gen(function*() {
        const onCatalog = catalogFail(group[0]?.refDate ?? "", group[0]?.runId ?? "")
        for (const table of [refinedTable, rawTable]) {
          const current = yield* catalog.getTable(table.name).pipe(Effect.mapError(onCatalog))
          if (Option.isNone(current) || JSON.stringify(current.value) !== JSON.stringify(table)) {
            yield* catalog.upsertTable(table).pipe(Effect.mapError(onCatalog))
          }
        }
        const dropped = [...removed].flatMap(([d, tickers]) => tickers.map((t) => [d, t]))
        if (dropped.length > 0) {
          yield* catalog.dropPartitions(refinedTable.name, dropped).pipe(Effect.mapError(onCatalog))
        }
        yield* catalog.upsertPartitions(
          refinedTable.name,
          [...tickersOf].flatMap(([d, tickers]) =>
            tickers.map((t) => ({ values: [d, t], location: refinedPartitionPrefix(d, t) }))
          )
        ).pipe(Effect.mapError(onCatalog))
        yield* catalog.upsertPartitions(
          rawTable.name,
          group.flatMap((w) =>
            w.plan.inputs.map((i) => ({
              values: [w.refDate, i.indexCode],
              location: rawPartitionPrefix(w.refDate, i.indexCode)
            }))
          )
        ).pipe(Effect.mapError(onCatalog))
      }).pipe(Effect.withSpan("DuckDbRefineJob.catalog", { attributes: { dates: group.length } }))

    /**
     * Swaps a date's staged partitions in (a rename replaces a file atomically, so a reader sees
     * each partition entirely old or entirely new, never missing) and removes the partitions of
     * tickers that left the date. Returns the removed tickers.
     */
    const swapDate = (
      staged: string,
      refDate: RefDate,
      tickers: ReadonlyArray<string>,
      onFs: (where: string) => (cause: unknown) => RefineJobError
    ) =>
      Effect.gen(function*() {
        const dateDir = abs(`${REFINED_PREFIX}ref_date=${refDate}`)
        // A date not refined yet (a backfill) gets its whole staged folder: one rename.
        if (!(yield* exists(dateDir).pipe(Effect.mapError(onFs(dateDir))))) {
          if (tickers.length === 0) return []
          yield* fs.makeDirectory(path.dirname(dateDir), { recursive: true }).pipe(Effect.mapError(onFs(dateDir)))
          yield* fs.rename(staged, dateDir).pipe(Effect.mapError(onFs(staged)))
          return []
        }
        // A partition that does not exist yet gets its whole staged folder (one rename).
        const present = new Set(yield* listDir(dateDir).pipe(Effect.mapError(onFs(dateDir))))
        for (const ticker of tickers) {
          const name = `ticker=${ticker}`
          const from = present.has(name) ?
            path.join(staged, name, "part-00000.parquet") :
            path.join(staged, name)
          const to = present.has(name) ? path.join(dateDir, name, "part-00000.parquet") : path.join(dateDir, name)
          yield* fs.rename(from, to).pipe(Effect.mapError(onFs(from)))
        }
        const keep = new Set(tickers.map((t) => `ticker=${t}`))
        const removed: Array<string> = []
        for (const name of yield* listDir(dateDir).pipe(Effect.mapError(onFs(dateDir)))) {
          if (keep.has(name)) continue
          yield* fs.remove(path.join(dateDir, name), { recursive: true }).pipe(
            Effect.mapError(onFs(path.join(dateDir, name)))
          )
          if (name.startsWith("ticker=")) removed.push(name.slice("ticker=".length))
        }
        return removed
      }).pipe(Effect.withSpan("DuckDbRefineJob.swap", { attributes: { refDate } }))

    /**
     * A date without raw data any more: its refined folder, its rows in the serving copy, its
     * catalog partitions, then its manifest are removed. Nothing to remove: `NoRawData`.
     */
    const clearDate = (db: Db, refDate: RefDate, runId: string) =>
      Effect.gen(function*() {
        const onFs = (where: string) => fsFail(refDate, runId, where)
        const onCatalog = catalogFail(refDate, runId)
        const dateDir = abs(`${REFINED_PREFIX}ref_date=${refDate}`)
        const manifest = abs(Trigger.manifestKey(refDate))
        const partitions = yield* catalog.listPartitions(refinedTable.name).pipe(
          Effect.map((ps) => ps.filter((p) => p.values[0] === refDate)),
          Effect.orElseSucceed(() => [] as ReadonlyArray<Partition>)
        )
        const dirThere = yield* exists(dateDir).pipe(Effect.mapError(onFs(dateDir)))
        const manifestThere = yield* exists(manifest).pipe(Effect.mapError(onFs(manifest)))
        if (!dirThere && !manifestThere && partitions.length === 0) {
          return yield* Effect.fail(
            new RefineJobError({
              reason: "NoRawData",
              method: "start",
              refDate,
              runId,
              detail: `no Parquet under ${abs(`${RAW_PREFIX}ref_date=${refDate}`)}`
            })
          )
        }
        yield* fs.remove(dateDir, { recursive: true }).pipe(
          Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.void : Effect.fail(e)),
          Effect.mapError(onFs(dateDir))
        )
        if (config.serving !== false) yield* rebuildServing(db, [refDate], refDate, runId, { clear: true })
        if (partitions.length > 0) {
          yield* catalog.dropPartitions(refinedTable.name, partitions.map((p) => p.values)).pipe(
            Effect.mapError(onCatalog)
          )
        }
        yield* Trigger.removeManifest(refDate).pipe(
          Effect.provideService(ObjectStore, store),
          Effect.mapError(onFs(manifest))
        )
        return 0
      })

    const servingColumns = [...refinedColumns.map((c) => c.name), "ref_date", "ticker"].map(quoteIdent).join(", ")
    /** The refined table's serving copy (`ServingLayout`, `ServingFiles`). */
    const servingTable: ServingFiles.ServingTable = {
      root: abs(SERVING_PREFIX),
      columns: servingColumns,
      order: "ref_date, index_code, ticker",
      format: "FORMAT parquet, COMPRESSION zstd"
    }
    /** The dates of `month` in the refined tree (folder names), but `exclude`. */
    const treeDates = (month: string, exclude: ReadonlyArray<RefDate>) =>
      Effect.map(listDir(abs(REFINED_PREFIX)), (names) => ServingFiles.monthDates(names, month, exclude))
    /**
     * A month's rows for every date but `exclude`, from the refined tree (a lost or unreadable base,
     * or a month's first compaction): one glob per date, and only dates whose glob matches a file
     * (read_parquet fails on a list with an empty glob). The pass's own dates are excluded: they
     * come from `refined` (in a backfill's first pass of a month the tree holds nothing else, and a
     * glob over the whole month would open every file the pass just wrote only to drop its rows).
     */
    const fromTree = (db: Db) => (month: string, exclude: ReadonlyArray<RefDate>) =>
      Effect.gen(function*() {
        const refinedRoot = abs(REFINED_PREFIX)
        const globs = yield* ServingFiles.matchingGlobs(
          db,
          (yield* treeDates(month, exclude).pipe(Effect.orElseSucceed(() => []))).map((date) =>
            `${refinedRoot}/ref_date=${date}/ticker=*/*.parquet`
          )
        )
        return globs.length === 0 ?
          undefined :
          `SELECT ${servingColumns} FROM read_parquet([${
            globs.map(literal).join(", ")
          }], hive_partitioning = true, hive_types = {'ref_date': DATE, 'ticker': VARCHAR})`
      })

    /**
     * The serving copy after a pass over `dates` (all of one month) whose rows are the view or
     * table `refined` (`clear`: the dates have no rows any more). One date over a readable base,
     * or in a month whose other dates all have date files: its date file (O(day)). Otherwise the
     * month is compacted with the new rows. Then every closed month with date files is compacted.
     * Serving files of the earlier per-year layout (`year=YYYY/`) are removed. Errors name
     * `refDate` and `runId`.
     */
    const rebuildServing = (
      db: Db,
      dates: ReadonlyArray<RefDate>,
      refDate: RefDate,
      runId: string,
      options: { readonly clear?: boolean } = {}
    ) =>
      Effect.gen(function*() {
        const onDuck = duckFail(refDate, runId)
        const onFs = (where: string) => fsFail(refDate, runId, where)
        const month = refDate.slice(0, 7)
        // the earlier per-year layout: never read any more (the query engine reads month=*)
        const servingRoot = abs(SERVING_PREFIX)
        for (const name of yield* listDir(servingRoot).pipe(Effect.mapError(onFs(servingRoot)))) {
          if (name.startsWith("year=")) {
            yield* fs.remove(path.join(servingRoot, name), { recursive: true }).pipe(
              Effect.mapError(onFs(path.join(servingRoot, name)))
            )
          }
        }
        const files = ServingFiles.monthFiles(servingTable, month)
        const fresh = options.clear === true ? undefined : `SELECT ${servingColumns} FROM refined`
        const [date] = dates
        let dateFile = false
        if (fresh !== undefined && date !== undefined && dates.length === 1) {
          dateFile = yield* ServingFiles.takesDateFiles(
            db,
            files,
            dates,
            (exclude) => treeDates(month, exclude).pipe(Effect.mapError(onFs(abs(REFINED_PREFIX))))
          )
          if (dateFile) yield* ServingFiles.writeDate(db, servingTable, date, fresh).pipe(Effect.mapError(onDuck))
        }
        if (!dateFile && (fresh !== undefined || files.base !== undefined || files.dated.length > 0)) {
          yield* ServingFiles.writeMonth(db, servingTable, month, {
            fresh,
            freshDates: dates,
            fallback: (exclude) => fromTree(db)(month, exclude)
          })
            .pipe(Effect.mapError(onDuck))
        }
        yield* ServingFiles.compactClosed(db, servingTable, month, fromTree(db)).pipe(Effect.mapError(onDuck))
      }).pipe(Effect.withSpan("DuckDbRefineJob.serving", { attributes: { month: refDate.slice(0, 7) } }))

    const newRunId = (refDate: string) =>
      // time first (runs sort by start), then a random tail: two jobs, or a test clock, never share an id
      Effect.map(Clock.currentTimeMillis, (ms) => `local-${refDate}-${ms.toString(36)}-${randomUUID().slice(0, 8)}`)

    /** `refDate` names a date (YYYY-MM-DD), or the run's error. */
    const checkDate = (refDate: string, runId: string) =>
      /^\d{4}-\d{2}-\d{2}$/.test(refDate) ? Effect.void : Effect.fail(
        new RefineJobError({ reason: "Failed", method: "start", refDate, runId, detail: "the date is not YYYY-MM-DD" })
      )

    /**
     * Runs `use` on a DuckDB instance of its own (compat macros loaded, memory bounded), closed when
     * `use` ends: a unit of work (one date, or one month of a backfill) starts from a fresh instance
     * and hands everything it allocated back when it ends, so a backfill's memory is a month's, not
     * a year's. Opening one costs a few tens of milliseconds.
     */
    const withDb = <A, E>(refDate: string, runId: string, use: (db: Db) => Effect.Effect<A, E>) =>
      Effect.scoped(Effect.gen(function*() {
        yield* checkDate(refDate, runId)
        // One thread by default: a date is a few thousand rows, and the refine's writes are
        // deterministic single-threaded.
        const db = yield* open({ threads: config.threads ?? 1 }).pipe(
          Effect.mapError((e) =>
            new RefineJobError({
              reason: "Unknown",
              method: "start",
              refDate,
              runId,
              detail: `DuckDB did not open: ${e.message}`
            })
          )
        )
        const settings = [
          ...compatSql,
          // a refine holds a month of serving rows at most: a bound keeps a long backfill's memory flat
          `SET memory_limit = ${literal(config.memoryLimit ?? "256MB")}`,
          // past the limit DuckDB spills to files: in the warehouse's staging folder, never in
          // the user's current folder (DuckDB's default `.tmp` for an in-memory database)
          `SET temp_directory = ${literal(abs(`${STAGING_PREFIX}duckdb-spill`))}`,
          // DuckDB keeps the bytes of every file it read (about 2 MB per refined date) unless told not to
          `SET enable_external_file_cache = false`,
          // hand freed memory back to the system as it goes, not at exit
          `SET allocator_background_threads = true`,
          `SET allocator_flush_threshold = '16MB'`
        ]
        for (const statement of settings) {
          yield* db.run(statement).pipe(Effect.mapError(duckFail(refDate, runId)))
        }
        return yield* use(db)
      }))

    const start: Context_Service["start"] = (request) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const runId = yield* newRunId(request.refDate)
        return yield* withDb(request.refDate, runId, (db) => log.record(request, runId, refineDate(db, request, runId)))
      })).pipe(Effect.withSpan("DuckDbRefineJob.start", { attributes: { refDate: request.refDate } }))

    /**
     * Many dates in one pass (a backfill): consecutive dates of one month with raw inputs are
     * refined together (`refineGroup`: one query, one COPY, one serving rewrite, one catalog update,
     * then each date's manifest); a date without raw inputs is cleared alone. Requests run in the
     * order given; the first failure fails the call, and the dates not committed stay stale.
     */
    const startMany: NonNullable<Context_Service["startMany"]> = (requests, onDate) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const runs: Array<RefineRun> = []
        let group: Array<DateWork> = []
        const flushGroup = Effect.suspend(() => {
          const work = group
          group = []
          const [first] = work
          if (first === undefined) return Effect.void
          const committed = new Set<RefDate>()
          return withDb(first.refDate, first.runId, (db) =>
            refineGroup(db, work, (w, rows) =>
              log.record(w.request, w.runId, Effect.succeed(rows)).pipe(
                Effect.map((run) => {
                  committed.add(w.refDate)
                  runs.push(run)
                  onDate?.(run)
                })
              ))).pipe(
              // the dates of the group not committed: failed runs (they stay stale)
              Effect.tapError((e) =>
                Effect.forEach(
                  work.filter((w) =>
                    !committed.has(w.refDate)
                  ),
                  (w) =>
                    Effect.ignore(log.record(w.request, w.runId, Effect.fail(e)))
                )
              )
            )
        })
        for (const request of requests) {
          const runId = yield* newRunId(request.refDate)
          yield* checkDate(request.refDate, runId)
          const plan = yield* planFor(request, runId)
          const month = request.refDate.slice(0, 7)
          const last = group.at(-1)
          if (last !== undefined && last.refDate.slice(0, 7) !== month) yield* flushGroup
          if (plan.inputs.length > 0) {
            group.push({ refDate: request.refDate, plan, runId, request })
            continue
          }
          yield* flushGroup
          const run = yield* withDb(
            request.refDate,
            runId,
            (db) => log.record(request, runId, clearDate(db, request.refDate, runId))
          )
          runs.push(run)
          onDate?.(run)
        }
        yield* flushGroup
        return runs
      })).pipe(Effect.withSpan("DuckDbRefineJob.startMany", { attributes: { dates: requests.length } }))

    const status: Context_Service["status"] = log.status
    return RefineJob.of({ start, startMany, status })
  })

type Context_Service = Context.Tag.Service<typeof RefineJob>

/**
 * The refine job on a warehouse folder.
 *
 * @category layers
 */
export const layer = (
  config: DuckDbRefineJobConfig
): Layer.Layer<RefineJob, RefineSql.RefineSqlError, FileSystem.FileSystem | Path.Path | Catalog> =>
  Layer.scoped(RefineJob, make(config))
