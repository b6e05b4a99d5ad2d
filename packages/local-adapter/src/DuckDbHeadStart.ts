/**
 * Opening DuckDB ahead of the layer that will use it. Opening an in-memory instance takes ~50 ms on
 * libuv's thread pool; a process that knows it is about to query (the CLI's `b3 query`) calls `start`
 * first, before it loads Effect and the rest of its code, so that the open runs while the main thread
 * is still compiling. The next DuckDB open of this package with the same options (`DuckDbQueryEngine`,
 * `DuckDbRefineJob`) takes that instance instead of opening its own; later opens open their own.
 *
 * Imports nothing but `@duckdb/node-api`, so that starting costs no more than loading DuckDB.
 *
 * @since 0.1.0
 */
import { DuckDBInstance } from "@duckdb/node-api"

/** What an open asks of DuckDB. @category models */
export interface OpenOptions {
  /** DuckDB's `threads` setting; DuckDB's default (the machine's cores) when absent. */
  readonly threads?: number
}

const keyOf = (options: OpenOptions): string => options.threads === undefined ? "default" : String(options.threads)

const create = (options: OpenOptions): Promise<DuckDBInstance> =>
  DuckDBInstance.create(":memory:", options.threads !== undefined ? { threads: String(options.threads) } : {})

let opening: { readonly key: string; readonly instance: Promise<DuckDBInstance> } | undefined

/**
 * Starts opening an in-memory instance with `options`, for the next `take` with the same options.
 * A second call while one is waiting does nothing. A failure to open is not reported here: the open
 * that takes the instance fails with it.
 *
 * @category opening
 */
export const start = (options: OpenOptions = {}): void => {
  if (opening !== undefined) return
  const instance = create(options)
  instance.catch(() => undefined) // handled by whoever takes it; never an unhandled rejection
  opening = { key: keyOf(options), instance }
}

/**
 * Whether an instance `start` began opening is still waiting to be taken.
 *
 * @category opening
 */
export const waiting = (): boolean => opening !== undefined

/**
 * The instance `start` began opening with the same options (handed out once), else a new one.
 * The caller owns it (and closes it).
 *
 * @category opening
 */
export const take = (options: OpenOptions = {}): Promise<DuckDBInstance> => {
  const waiting = opening
  if (waiting !== undefined && waiting.key === keyOf(options)) {
    opening = undefined
    return waiting.instance
  }
  return create(options)
}
