/**
 * Where the query engine's tables live in a warehouse folder, and nothing else (no Effect, no
 * node:crypto), so that `DuckDbQueryEngine` (and `b3 query`, which loads only the engine) loads neither
 * the refine job nor the writers of these folders:
 *
 * - the compacted serving copy of `b3_portfolio_refined`: one Parquet file per month,
 *   `serving/b3_portfolio_refined/month=YYYY-MM/part-00000.parquet`, written by `DuckDbRefineJob`;
 * - the compact serving copy of `b3_portfolio_raw` (`RawServing`), one file per month too;
 * - the names of the raw-change journal's markers (`RawJournal`): a date with a marker is read from its
 *   raw files, not from the raw copy.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { rawColumns, rawPartitionKeys } from "@b3-pipeline/core/Tables"

/** @category layout */
export const REFINED_SERVING_PREFIX = "serving/b3_portfolio_refined/"

/** Prefix of the raw table's serving copy. @category layout */
export const RAW_SERVING_PREFIX = "serving/b3_portfolio_raw/"

/** The serving file of a month (`YYYY-MM`). @category layout */
export const rawServingKey = (month: string): string => `${RAW_SERVING_PREFIX}month=${month}/part-00000.parquet`

const quote = (name: string): string => `"${name.replace(/"/g, "\"\"")}"`
/** The raw table's columns, file columns then partition keys (the view's order). @category layout */
export const rawColumnList: string = [...rawColumns, ...rawPartitionKeys].map((c) => quote(c.name)).join(", ")
/** Hive options of a read of raw files. @category layout */
export const rawHive = "hive_partitioning = true, hive_types = {'ref_date': DATE, 'index_code': VARCHAR}"

/** Prefix of the raw-change journal's markers. @category layout */
export const JOURNAL_PREFIX = "_manifests/_journal/b3_portfolio_raw/"

/** The date of a marker key, or `undefined`. @category layout */
export const parseMarkerKey = (key: string): RefDate | undefined => {
  const m = /^_manifests\/_journal\/b3_portfolio_raw\/ref_date=(\d{4}-\d{2}-\d{2})_index_code=[A-Z0-9]+\.json$/
    .exec(key)
  return m === null ? undefined : (m[1] as RefDate)
}
