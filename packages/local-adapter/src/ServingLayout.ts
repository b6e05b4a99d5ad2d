/**
 * Where the compacted serving copy of `b3_portfolio_refined` lives in a warehouse folder: one
 * Parquet file per month, `serving/b3_portfolio_refined/month=YYYY-MM/part-00000.parquet`, written by
 * `DuckDbRefineJob` and read by `DuckDbQueryEngine`. Its own module so that the query engine (and
 * `b3 query`, which loads only the engine) does not load the refine job.
 *
 * @since 0.1.0
 */

/** @category layout */
export const REFINED_SERVING_PREFIX = "serving/b3_portfolio_refined/"
