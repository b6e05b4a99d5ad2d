/**
 * Where the query engine's tables live in a warehouse folder, and nothing else (no Effect, no
 * node:crypto), so that `DuckDbQueryEngine` (and `b3 query`, which loads only the engine) loads neither
 * the refine job nor the writers of these folders:
 *
 * - the compacted serving copy of `b3_portfolio_refined`, written by `DuckDbRefineJob`, and the
 *   compact serving copy of `b3_portfolio_raw` (`RawServing`). Each is a folder per month holding a
 *   base file, `month=YYYY-MM/part-00000.parquet`, and date files, `month=YYYY-MM/ref_date=D.parquet`.
 *   A date file holds a date's rows (none: the date was removed) and overrides the base's rows of
 *   that date, so that a day's change writes one date file (O(day)) whatever the month holds. A
 *   compaction folds a month's date files into its base (new base renamed over the old, then the
 *   date files removed): at every step a reader that applies the override sees each date once;
 *   see `ServingFiles` for when it runs;
 * - the names of the raw-change journal's markers (`RawJournal`): a date with a marker is read from its
 *   raw files, not from the raw copy.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { rawColumns, rawPartitionKeys } from "@b3-pipeline/core/Tables"
import * as fs from "node:fs"
import * as path from "node:path"

/** @category layout */
export const REFINED_SERVING_PREFIX = "serving/b3_portfolio_refined/"

/** Prefix of the raw table's serving copy. @category layout */
export const RAW_SERVING_PREFIX = "serving/b3_portfolio_raw/"

/** The folder of a month's files (`YYYY-MM`) in a serving copy: `month=YYYY-MM`. @category layout */
export const monthFolder = (month: string): string => `month=${month}`

/** The base file of a month's folder in a serving copy. @category layout */
export const BASE_FILE = "part-00000.parquet"

/** The serving file of a month (`YYYY-MM`). @category layout */
export const rawServingKey = (month: string): string => `${RAW_SERVING_PREFIX}${monthFolder(month)}/${BASE_FILE}`

const quote = (name: string): string => `"${name.replace(/"/g, "\"\"")}"`
/** The raw table's columns, file columns then partition keys (the view's order). @category layout */
export const rawColumnList: string = [...rawColumns, ...rawPartitionKeys].map((c) => quote(c.name)).join(", ")
/** Hive options of a read of raw files. @category layout */
export const rawHive = "hive_partitioning = true, hive_types = {'ref_date': DATE, 'index_code': VARCHAR}"

/** Prefix of the raw-change journal's markers. @category layout */
export const JOURNAL_PREFIX = "_manifests/_journal/b3_portfolio_raw/"

/** The date of a marker key (one per date, or an older version's one per date and index), or `undefined`. @category layout */
export const parseMarkerKey = (key: string): RefDate | undefined => {
  const m = /^_manifests\/_journal\/b3_portfolio_raw\/ref_date=(\d{4}-\d{2}-\d{2})(?:_index_code=[A-Z0-9]+)?\.json$/
    .exec(key)
  return m === null ? undefined : (m[1] as RefDate)
}

/** The name of a date file in its month's folder. @category layout */
export const dateFileName = (date: string): string => `ref_date=${date}.parquet`

/** The date a file name names (`ref_date=YYYY-MM-DD.parquet`), or `undefined`. @category layout */
export const parseDateFileName = (name: string): RefDate | undefined => {
  const m = /^ref_date=(\d{4}-\d{2}-\d{2})\.parquet$/.exec(name)
  return m === null ? undefined : (m[1] as RefDate)
}

/** A month's files in a serving copy, as listed now (absolute paths). @category layout */
export interface MonthFiles {
  readonly month: string
  readonly dir: string
  /** The base file, when there is one. */
  readonly base: string | undefined
  /** The date files of the month's dates, in date order: each overrides its date's rows in the base. */
  readonly dated: ReadonlyArray<{ readonly date: RefDate; readonly file: string }>
}

/** A serving copy's files, as listed now (absolute paths). @category layout */
export interface ServingListing {
  /** The base files, in month order. */
  readonly bases: ReadonlyArray<{ readonly month: string; readonly file: string }>
  /** The date files, in date order: each overrides its date's rows in its month's base. */
  readonly dated: ReadonlyArray<{ readonly date: RefDate; readonly file: string }>
}

/** A folder's names, none when it cannot be listed (absent). @category layout */
export const namesIn = (dir: string): ReadonlyArray<string> => {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}

/**
 * Lists one month's folder of a serving copy (`root`, absolute). A date file of another month's date
 * is not the month's (readers and writers alike leave it alone).
 *
 * @category layout
 */
export const readMonth = (root: string, month: string): MonthFiles => {
  const dir = path.join(root, monthFolder(month))
  const names = namesIn(dir)
  const dated: Array<{ readonly date: RefDate; readonly file: string }> = []
  for (const name of names) {
    const date = parseDateFileName(name)
    if (date !== undefined && date.startsWith(`${month}-`)) dated.push({ date, file: path.join(dir, name) })
  }
  dated.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
  return { month, dir, base: names.includes(BASE_FILE) ? path.join(dir, BASE_FILE) : undefined, dated }
}

/**
 * Lists a serving copy's folder (`root`, absolute): one listing of the root and one per month.
 *
 * @category layout
 */
export const listServing = (root: string): ServingListing => {
  const months = namesIn(root).filter((n) => /^month=\d{4}-\d{2}$/.test(n)).map((n) => n.slice("month=".length))
    .sort().map((month) => readMonth(root, month))
  return {
    bases: months.flatMap((m) => (m.base !== undefined ? [{ month: m.month, file: m.base }] : [])),
    dated: months.flatMap((m) => m.dated)
  }
}
