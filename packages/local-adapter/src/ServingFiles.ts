/**
 * Writes the serving copies' files (layout in `ServingLayout`: a base file per month plus date files
 * that override it), for both copies: the refined table's (`DuckDbRefineJob`) and the raw table's
 * (`RawServing`). Every file is written to a temp file in its month's folder and renamed into place.
 *
 * - `writeDate`: one date's rows (none: a tombstone) as its date file; O(day). The daily path.
 * - `writeMonth`: a compaction: a new base of the month (the old base minus the dates that have a
 *   date file or fresh rows, plus the date files, plus the fresh rows), renamed over the old base,
 *   then the date files it folded in are removed. O(month). Runs for a backfill's month (many fresh
 *   dates), for a month whose base is missing or unreadable (rebuilt from the caller's `fallback`),
 *   and, through `compactClosed`, for every month before the latest one that still has date files:
 *   once a month, on the first date of the next, or after a correction of an old date.
 *
 * Crash safety: a crash before a rename leaves a `.tmp-*` file (removed by the next write of the
 * month) and the old files; a crash between a compaction's rename and the removal of its date files
 * leaves date files whose rows the new base also holds, which readers still take once (a date file
 * overrides the base) and the next compaction removes.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import * as Effect from "effect/Effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Db } from "./internal/duckdb.js"
import { DuckDbFailure, literal } from "./internal/duckdb.js"
import * as ServingLayout from "./ServingLayout.js"
import { BASE_FILE, dateFileName, listServing, namesIn } from "./ServingLayout.js"

/** A serving copy: its folder and how its files are written. @category models */
export interface ServingTable {
  /** The copy's folder (absolute), holding `month=YYYY-MM/` folders. */
  readonly root: string
  /** The quoted column list of a file, in file order. */
  readonly columns: string
  /** The `ORDER BY` of a file's rows (deterministic: same rows, same bytes). */
  readonly order: string
  /** The Parquet options of a file (`FORMAT parquet, ...`). */
  readonly format: string
}

/** A month's files now (defined in `ServingLayout`, which the readers load). @category models */
export type MonthFiles = ServingLayout.MonthFiles

/** @category files */
export const monthDir = (table: ServingTable, month: string): string =>
  path.join(table.root, ServingLayout.monthFolder(month))

/** A month's base and date files (one folder listing). @category files */
export const monthFiles = (table: ServingTable, month: string): MonthFiles => ServingLayout.readMonth(table.root, month)

/**
 * The dates of `month` among the `ref_date=D` folder names of a Hive table folder, ascending, but
 * `exclude`.
 *
 * @category files
 */
export const monthDates = (
  folderNames: ReadonlyArray<string>,
  month: string,
  exclude: ReadonlyArray<RefDate>
): ReadonlyArray<RefDate> => {
  const skip = new Set<string>(exclude)
  return folderNames.filter((n) => n.startsWith(`ref_date=${month}-`)).map((n) =>
    n.slice("ref_date=".length) as RefDate
  )
    .filter((d) => !skip.has(d)).sort()
}

const sync = <A>(what: string, f: () => A): Effect.Effect<A, DuckDbFailure> =>
  Effect.try({
    try: f,
    catch: (cause) =>
      new DuckDbFailure(what, `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause)
  })

const removeTemps = (dir: string) =>
  sync(`cleaning ${dir}`, () => {
    for (const name of namesIn(dir)) {
      if (name.startsWith(".tmp-")) fs.rmSync(path.join(dir, name), { force: true })
    }
  })

/** Writes `select`'s rows (ordered) to a temp file in `dir`, then renames it to `target`. */
const copyTo = (db: Db, table: ServingTable, dir: string, select: string, target: string) =>
  Effect.gen(function*() {
    yield* sync(`creating ${dir}`, () => fs.mkdirSync(dir, { recursive: true }))
    const temp = path.join(dir, `.tmp-${randomUUID()}`)
    yield* db.run(
      `COPY (SELECT * FROM (${select}) ORDER BY ${table.order}) TO ${literal(temp)} (${table.format})`
    ).pipe(Effect.tapError(() => Effect.sync(() => fs.rmSync(temp, { force: true }))))
    yield* sync(`renaming ${temp} to ${target}`, () => fs.renameSync(temp, target))
  })

/**
 * Can DuckDB read these files' Parquet footers (one call)? A month with a damaged file is compacted
 * (rebuilt from its source), not overridden.
 *
 * @category files
 */
export const readable = (db: Db, files: ReadonlyArray<string>): Effect.Effect<boolean> =>
  files.length === 0 ? Effect.succeed(true) : db.run(
    `SELECT count(*) FROM parquet_file_metadata([${files.map(literal).join(", ")}])`
  ).pipe(Effect.as(true), Effect.orElseSucceed(() => false))

/** A month's files, base and date files (for `readable`). @category files */
export const filesOf = (month: MonthFiles): ReadonlyArray<string> => [
  ...(month.base !== undefined ? [month.base] : []),
  ...month.dated.map((d) => d.file)
]

/**
 * The globs of `globs` that match a file (`read_parquet` fails on a list holding an empty glob).
 *
 * @category files
 */
export const matchingGlobs = (db: Db, globs: ReadonlyArray<string>): Effect.Effect<Array<string>, DuckDbFailure> =>
  Effect.filter(
    globs,
    (glob) =>
      Effect.map(db.all(`SELECT count(*) FROM glob(${literal(glob)})`), (r) => Number(r.getRowsJS()[0]?.[0] ?? 0) > 0)
  )

/**
 * May the rows of `dates` go in as date files (O(day)) rather than by a compaction? Only where every
 * other date of the month is in its base or a date file, so that no date is left out of the copy:
 * the month has a base, or its source holds no other date (`otherDates(exclude)`: the month's dates in
 * the table's own files but `exclude`, asked only when there is no base). And the month's files must
 * be readable: a damaged one is rebuilt by a compaction, not overridden.
 *
 * @category files
 */
export const takesDateFiles = <E>(
  db: Db,
  files: MonthFiles,
  dates: ReadonlyArray<RefDate>,
  otherDates: (exclude: ReadonlyArray<RefDate>) => Effect.Effect<ReadonlyArray<string>, E>
): Effect.Effect<boolean, E> =>
  Effect.gen(function*() {
    if (files.base === undefined && (yield* otherDates([...dates, ...files.dated.map((d) => d.date)])).length > 0) {
      return false
    }
    return yield* readable(db, filesOf(files))
  })

/**
 * Writes the date file of `date` with `select`'s rows (`table.columns`, the date's rows only; no
 * rows: a tombstone, the date has none).
 *
 * @category files
 */
export const writeDate = (
  db: Db,
  table: ServingTable,
  date: RefDate,
  select: string
): Effect.Effect<void, DuckDbFailure> =>
  Effect.gen(function*() {
    const dir = monthDir(table, date.slice(0, 7))
    yield* removeTemps(dir)
    yield* copyTo(db, table, dir, select, path.join(dir, dateFileName(date)))
  }).pipe(Effect.withSpan("ServingFiles.writeDate", { attributes: { root: table.root, date } }))

/**
 * Removes the date file of `date` (a month without a base: there is nothing for a tombstone to
 * override).
 *
 * @category files
 */
export const removeDate = (table: ServingTable, date: RefDate): Effect.Effect<void, DuckDbFailure> => {
  const file = path.join(monthDir(table, date.slice(0, 7)), dateFileName(date))
  return sync(`removing ${file}`, () => fs.rmSync(file, { force: true }))
}

const dateList = (dates: Iterable<string>): string => [...dates].map((d) => `DATE ${literal(d)}`).join(", ")

/**
 * Compacts a month: a new base from the old base (without the dates of `freshDates` and of the date
 * files), the date files (without `freshDates`) and `fresh` (the rows of `freshDates`, or nothing:
 * those dates are removed), then the month's date files are removed. Where the base is missing or
 * unreadable, `fallback(exclude)` stands for it: the SQL of the month's rows for every date but
 * `exclude`, or `undefined` when there are none; where a date file is unreadable, the whole month
 * but `freshDates` comes from `fallback`.
 *
 * @category files
 */
export const writeMonth = (
  db: Db,
  table: ServingTable,
  month: string,
  options: {
    readonly fresh?: string | undefined
    readonly freshDates: ReadonlyArray<RefDate>
    readonly fallback: (exclude: ReadonlyArray<RefDate>) => Effect.Effect<string | undefined, DuckDbFailure>
  }
): Effect.Effect<void, DuckDbFailure> =>
  Effect.gen(function*() {
    const files = monthFiles(table, month)
    yield* removeTemps(files.dir)
    const fresh = new Set<string>(options.freshDates)
    const kept = files.dated.filter((d) => !fresh.has(d.date))
    const exclude = [...new Set([...options.freshDates, ...kept.map((d) => d.date)])].sort() as Array<RefDate>
    const keptRows = kept.length > 0 ?
      `SELECT ${table.columns} FROM read_parquet([${kept.map((d) => literal(d.file)).join(", ")}])` :
      undefined
    const write = (parts: ReadonlyArray<string | undefined>) => {
      const present = parts.filter((p): p is string => p !== undefined)
      return present.length === 0 ?
        // nothing left in the month: no base
        sync(`removing ${files.dir}`, () => {
          if (files.base !== undefined) fs.rmSync(files.base, { force: true })
        }) :
        copyTo(db, table, files.dir, present.join(" UNION ALL "), path.join(files.dir, BASE_FILE))
    }
    // A damaged base or date file: the month is rebuilt from the caller's source (every date but the
    // fresh ones) and the fresh rows, once; a failure of that names what is wrong.
    const rebuild = Effect.flatMap(options.fallback(options.freshDates), (rows) => write([rows, options.fresh]))
    if (files.base !== undefined) {
      const where = exclude.length > 0 ? ` WHERE ref_date NOT IN (${dateList(exclude)})` : ""
      yield* write([
        `SELECT ${table.columns} FROM read_parquet(${literal(files.base)})${where}`,
        keptRows,
        options.fresh
      ])
        .pipe(Effect.catchAll(() => rebuild))
    } else {
      // no base: the dates without a date file (nor fresh rows) come from the caller's source
      yield* Effect.flatMap(options.fallback(exclude), (rows) => write([rows, keptRows, options.fresh])).pipe(
        Effect.catchAll(() => rebuild)
      )
    }
    // the base now holds every date file's rows: they go (a crash before this leaves them, harmless)
    yield* sync(`removing the date files of ${files.dir}`, () => {
      for (const d of files.dated) fs.rmSync(d.file, { force: true })
    })
  }).pipe(Effect.withSpan("ServingFiles.writeMonth", { attributes: { root: table.root, month } }))

/**
 * The months before the latest one (of the copy, or `latest` when later) that have date files: the
 * closed months `compactClosed` compacts (one listing per month, no DuckDB).
 *
 * @category files
 */
export const closedMonths = (table: ServingTable, latest: string): ReadonlyArray<string> => {
  const listing = listServing(table.root)
  const months = [...listing.bases.map((b) => b.month), ...listing.dated.map((d) => d.date.slice(0, 7)), latest].sort()
  const last = months[months.length - 1] ?? latest
  return [...new Set(listing.dated.map((d) => d.date.slice(0, 7)))].filter((m) => m < last).sort()
}

/**
 * Compacts every closed month (`closedMonths`): a closed month's date files are folded into its base
 * once.
 *
 * @category files
 */
export const compactClosed = (
  db: Db,
  table: ServingTable,
  latest: string,
  fallback: (month: string, exclude: ReadonlyArray<RefDate>) => Effect.Effect<string | undefined, DuckDbFailure>
): Effect.Effect<void, DuckDbFailure> =>
  Effect.forEach(
    closedMonths(table, latest),
    (month) => writeMonth(db, table, month, { freshDates: [], fallback: (exclude) => fallback(month, exclude) }),
    { discard: true }
  )
