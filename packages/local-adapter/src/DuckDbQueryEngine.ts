/**
 * The `QueryEngine` port on DuckDB, over a warehouse folder. Athena-style SQL runs by table name:
 *
 * - `b3_portfolio_raw`: view over the raw table's compact serving copy (`RawServing`) and, for the
 *   dates it does not hold as they are, `raw/b3_portfolio_raw/ref_date=*&#47;index_code=*&#47;*.parquet` (Hive);
 * - `b3_portfolio_refined`: view over the compacted serving copy `serving/b3_portfolio_refined/`
 *   (a base file per month plus date files that override it, `ServingLayout`; written by the refine
 *   job beside the `ref_date=/ticker=` layout, which is slow to scan);
 * - the same two in a `"default"` schema, so `"default".b3_portfolio_refined` works as on Athena;
 * - `approx_percentile` as a macro over `approx_quantile`.
 *
 * Read-only and confined: the connection may read only those two tables' folders, and each text's
 * statements must all be SELECTs (`internal/readOnly.ts`); anything else fails `NotAllowed`.
 *
 * A table with no files yet is an empty view with the table's columns. The serving copies' files are
 * listed at each query (a folder per month) and a view is rebuilt when its files changed, so data
 * written since is seen; a file removed between the listing and the read (a compaction) makes the
 * query list again and run once more. Values follow
 * `QueryEngine.SqlValue` through core's one mapping (`QueryEngine.decodeRows`): DECIMAL -> exact
 * text, DATE -> `YYYY-MM-DD`, integers -> number when safe else bigint. A missing column is `Syntax`.
 *
 * @since 0.1.0
 */
import type { ColumnType } from "@b3-pipeline/core/Catalog"
import { formatDecimal } from "@b3-pipeline/core/Domain"
import type { Row } from "@b3-pipeline/core/QueryEngine"
import { decodeRows, QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import {
  RAW_PREFIX,
  rawColumns,
  rawPartitionKeys,
  refinedColumns,
  refinedPartitionKeys
} from "@b3-pipeline/core/Tables"
import type { DuckDBMaterializedResult, DuckDBType, DuckDBValue } from "@duckdb/node-api"
import { DuckDBDateValue, DuckDBDecimalValue, DuckDBTypeId, JsonDuckDBValueConverter } from "@duckdb/node-api"
import * as Path from "@effect/platform/Path"
import * as Chunk from "effect/Chunk"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import type { Db, DuckDbFailure } from "./internal/duckdb.js"
import { literal, open } from "./internal/duckdb.js"
import { confinement, NOT_ALLOWED, runSelect } from "./internal/readOnly.js"
import {
  JOURNAL_PREFIX,
  listServing,
  parseMarkerKey,
  RAW_SERVING_PREFIX,
  rawColumnList,
  rawHive,
  REFINED_SERVING_PREFIX as SERVING_PREFIX
} from "./ServingLayout.js"
import type { ServingListing } from "./ServingLayout.js"

/** @category models */
export interface DuckDbQueryEngineConfig {
  readonly warehouse: string
  readonly threads?: number
}

const sqlType = (t: ColumnType): string =>
  t === "string" ? "VARCHAR" : t === "int" ? "INTEGER" : t === "double" ? "DOUBLE" : t.toUpperCase()

const emptyOf = (columns: ReadonlyArray<{ readonly name: string; readonly type: ColumnType }>): string =>
  `SELECT ${columns.map((c) => `CAST(NULL AS ${sqlType(c.type)}) AS "${c.name}"`).join(", ")} WHERE false`

/** Classifies DuckDB's message; the message itself travels in `detail`. */
const reasonOf = (message: string): QueryError["reason"] =>
  message.startsWith(NOT_ALLOWED) || /^Permission Error/.test(message) ?
    "NotAllowed" :
    /^(Parser Error|Binder Error: Referenced column)/.test(message) ?
    "Syntax" :
    /^Catalog Error: (Table|Table Function|Schema) with name .* does not exist/.test(message) ?
    "NoSuchTable" :
    "Failed"

const toError = (sql: string) => (e: DuckDbFailure): QueryError =>
  new QueryError({ reason: reasonOf(e.message), sql, detail: e.message, cause: e.cause })

// The bundled @duckdb/node-api is CommonJS: each read of one of its exports goes through the
// re-export getters of its index and of the ESM wrapper. Read once here, not once per value.
const TYPE_BIGINT = DuckDBTypeId.BIGINT
const TYPE_UBIGINT = DuckDBTypeId.UBIGINT
const TYPE_HUGEINT = DuckDBTypeId.HUGEINT
const TYPE_UHUGEINT = DuckDBTypeId.UHUGEINT
const TYPE_VARCHAR = DuckDBTypeId.VARCHAR
const TYPE_INTEGER = DuckDBTypeId.INTEGER
const TYPE_SMALLINT = DuckDBTypeId.SMALLINT
const TYPE_TINYINT = DuckDBTypeId.TINYINT
const TYPE_UINTEGER = DuckDBTypeId.UINTEGER
const TYPE_USMALLINT = DuckDBTypeId.USMALLINT
const TYPE_UTINYINT = DuckDBTypeId.UTINYINT
const TYPE_BOOLEAN = DuckDBTypeId.BOOLEAN
const TYPE_DECIMAL = DuckDBTypeId.DECIMAL
const TYPE_DATE = DuckDBTypeId.DATE
const DecimalValue = DuckDBDecimalValue
const DateValue = DuckDBDateValue
const toJson = JsonDuckDBValueConverter

/**
 * What `decodeRows` reads from DuckDB: its JSON values (DECIMAL as exact text, INTEGER/DOUBLE as
 * numbers, VARCHAR as text...), except that BIGINT/HUGEINT stay bigints (the mapping makes them
 * numbers when safe, without the text round trip), a DECIMAL's exact text comes from core's
 * `formatDecimal`, and a DATE's text is made once per distinct day of the result (a result's dates
 * repeat: one per row of a date). One function per column, chosen by its type once.
 */
const cellReader = (type: DuckDBType): (value: DuckDBValue) => unknown => {
  switch (type.typeId) {
    case TYPE_BIGINT:
    case TYPE_UBIGINT:
    case TYPE_HUGEINT:
    case TYPE_UHUGEINT:
    case TYPE_VARCHAR:
    case TYPE_INTEGER:
    case TYPE_SMALLINT:
    case TYPE_TINYINT:
    case TYPE_UINTEGER:
    case TYPE_USMALLINT:
    case TYPE_UTINYINT:
    case TYPE_BOOLEAN:
      // already what the JSON converter would give (text, number, boolean), or the bigint kept
      return identity
    case TYPE_DECIMAL:
      // the exact text, by string slicing rather than DuckDB's bigint division per value
      return (value) =>
        value instanceof DecimalValue ? formatDecimal(value.value, value.scale) : toJson(value, type, toJson)
    case TYPE_DATE: {
      const dates = new Map<number, string>()
      return (value) => {
        if (!(value instanceof DateValue)) return toJson(value, type, toJson)
        const known = dates.get(value.days)
        if (known !== undefined) return known
        const text = value.toString()
        dates.set(value.days, text)
        return text
      }
    }
    default:
      return (value) => toJson(value, type, toJson)
  }
}
const identity = (value: DuckDBValue): unknown => value

/**
 * A materialized DuckDB result's values, column by column: each column's vectors read with plain
 * loops (`getItem`, then the column's `cellReader`), without the driver's generic per-value
 * converter (a fresh process runs this code once, unoptimized: in a one-off script, 9,000 rows x 4
 * columns took ~40 ms through `convertColumns` and ~15 ms this way).
 */
const readColumns = (result: DuckDBMaterializedResult): Array<Array<unknown>> => {
  const chunks = Array.from({ length: result.chunkCount }, (_, i) => result.getChunk(i))
  return Array.from({ length: result.columnCount }, (_, c) => {
    const read = cellReader(result.columnType(c))
    const out: Array<unknown> = []
    for (const chunk of chunks) {
      const vector = chunk.getColumnVector(c)
      const n = chunk.rowCount
      for (let r = 0; r < n; r++) {
        const value = vector.getItem(r)
        out.push(value === null ? null : read(value))
      }
    }
    return out
  })
}

/**
 * A DuckDB result as the port's columns and `Row`s: its values read column by column
 * (`readColumns`), through the port's one mapping (`decodeRows`).
 *
 * @category mapping
 */
export const decodeResult = (result: DuckDBMaterializedResult, sql?: string): Effect.Effect<
  { readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>; readonly rows: Array<Row> },
  QueryError
> =>
  Effect.suspend(() => {
    const types = result.columnTypes().map(String)
    const columns = result.deduplicatedColumnNames().map((name, i) => ({ name, type: types[i] ?? "" }))
    const values = readColumns(result)
    return Effect.map(
      decodeRows(
        columns,
        Array.from({ length: values[0]?.length ?? 0 }, (_, r) => r),
        (r, i) => values[i]?.[r],
        { sql }
      ),
      (rows) => ({ columns, rows })
    )
  })

/**
 * Builds the engine (one DuckDB connection for the layer's lifetime).
 *
 * @category constructors
 */
export const make = (config: DuckDbQueryEngineConfig) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    // DuckDB opens when the layer is built: a failure to open fails the layer, not each query.
    const db = yield* open(config.threads !== undefined ? { threads: config.threads } : {}).pipe(
      Effect.mapError((e) =>
        new QueryError({ reason: "Unavailable", detail: `DuckDB did not open: ${e.message}`, cause: e.cause })
      )
    )
    const lock = yield* Effect.makeSemaphore(1)
    const abs = (key: string): string => path.join(config.warehouse, ...key.split("/").filter((s) => s.length > 0))
    const rawGlob = `${abs(RAW_PREFIX)}/ref_date=*/index_code=*/*.parquet`
    const rawAll = [...rawColumns, ...rawPartitionKeys]
    const refinedAll = [...refinedColumns, ...refinedPartitionKeys]

    const setup = [
      `CREATE SCHEMA IF NOT EXISTS "default"`,
      `CREATE OR REPLACE MACRO approx_percentile(x, p) AS approx_quantile(x, p)`
    ]
    let ready = false

    // The files each view reads, as listed when it was last built: rebuilt when a listing differs.
    const live = { rawSignature: "", refinedSignature: "" }

    // The raw table: the compact copy (RawServing) for every date it holds as the raw files are, the
    // raw files for the others (a date with a journal marker, or neither in a month with a base nor in
    // a date file). Which is which comes from small folder listings at each query (the journal, the
    // copy's months, the raw dates); the view is rebuilt when that changes. A warehouse without a
    // copy reads every raw file by one glob, as before.
    const listNames = (key: string): ReadonlyArray<string> => {
      try {
        return fs.readdirSync(abs(key))
      } catch {
        return []
      }
    }
    /**
     * Whether the Hive folder `key` holds a Parquet file under one folder of each of `levels` (the
     * folders a glob `level=*&#47;...&#47;*.parquet` would read), stopping at the first one found.
     */
    const anyParquet = (key: string, levels: ReadonlyArray<string>): boolean => {
      const [level, ...below] = levels
      return level === undefined ?
        listNames(key).some((f) => f.endsWith(".parquet")) :
        listNames(key).some((d) => d.startsWith(`${level}=`) && anyParquet(`${key}${d}/`, below))
    }
    /**
     * `SELECT`s of a serving copy's rows: its bases, each without the dates of its month's date files
     * (and of `skip`), then its date files. Only the bases of months with such dates are filtered:
     * DuckDB counts the rows of an unfiltered file from its footer, without reading a column.
     */
    const servingParts = (
      listing: ServingListing,
      columns: string,
      skip: ReadonlySet<string> = new Set()
    ): Array<string> => {
      const dated = listing.dated.filter((d) => !skip.has(d.date))
      const excludedByMonth = new Map<string, Array<string>>()
      for (const date of new Set([...skip, ...listing.dated.map((d) => d.date)])) {
        const list = excludedByMonth.get(date.slice(0, 7))
        if (list === undefined) excludedByMonth.set(date.slice(0, 7), [date])
        else list.push(date)
      }
      const clean: Array<string> = []
      const filtered: Array<string> = []
      const excluded: Array<string> = []
      for (const base of listing.bases) {
        const dates = excludedByMonth.get(base.month)
        if (dates === undefined) clean.push(base.file)
        else {
          filtered.push(base.file)
          excluded.push(...dates)
        }
      }
      const read = (files: ReadonlyArray<string>) =>
        `SELECT ${columns} FROM read_parquet([${files.map(literal).join(", ")}], hive_partitioning = false)`
      const parts: Array<string> = []
      if (clean.length > 0) parts.push(read(clean))
      if (filtered.length > 0) {
        parts.push(
          `${read(filtered)} WHERE ref_date NOT IN (${excluded.sort().map((d) => `DATE ${literal(d)}`).join(", ")})`
        )
      }
      if (dated.length > 0) parts.push(read(dated.map((d) => d.file)))
      return parts
    }
    const rawView = (): { readonly signature: string; readonly whole: boolean; readonly body: string } => {
      const listing = listServing(abs(RAW_SERVING_PREFIX))
      if (listing.bases.length === 0 && listing.dated.length === 0) return { signature: "whole", whole: true, body: "" }
      const journaled = [
        ...new Set(
          listNames(JOURNAL_PREFIX).map((n) => parseMarkerKey(`${JOURNAL_PREFIX}${n}`)).filter((d) => d !== undefined)
        )
      ].sort()
      const marked = new Set<string>(journaled)
      const covered = new Set(listing.bases.map((b) => b.month))
      const copied = new Set<string>(listing.dated.map((d) => d.date))
      // read from the raw files: a date with a marker, or neither in a month with a base nor in a date file
      const direct = listNames(RAW_PREFIX).filter((n) => /^ref_date=\d{4}-\d{2}-\d{2}$/.test(n)).map((n) => n.slice(9))
        .filter((d) =>
          (marked.has(d) || (!covered.has(d.slice(0, 7)) && !copied.has(d))) &&
          anyParquet(`${RAW_PREFIX}ref_date=${d}/`, ["index_code"])
        ).sort()
      const parts = servingParts(listing, rawColumnList, marked)
      if (direct.length > 0) {
        const globs = direct.map((d) => literal(`${abs(RAW_PREFIX)}/ref_date=${d}/index_code=*/*.parquet`))
        parts.push(`SELECT ${rawColumnList} FROM read_parquet([${globs.join(", ")}], ${rawHive})`)
      }
      return {
        signature: JSON.stringify([listing, journaled, direct]),
        whole: parts.length === 0,
        body: parts.join(" UNION ALL ")
      }
    }
    const refinedView = (): { readonly signature: string; readonly body: string | undefined } => {
      const listing = listServing(abs(SERVING_PREFIX))
      const parts = servingParts(listing, refinedAll.map((c) => `"${c.name}"`).join(", "))
      return { signature: JSON.stringify(listing), body: parts.length === 0 ? undefined : parts.join(" UNION ALL ") }
    }
    const refreshViews = (db: Db) =>
      Effect.gen(function*() {
        if (!ready) {
          // the macro and schema, then read-only and only the two tables' folders (internal/readOnly.ts),
          // in one round trip
          yield* db.run(
            [...setup, confinement([abs(RAW_PREFIX), abs(SERVING_PREFIX), abs(RAW_SERVING_PREFIX)])].join(";\n")
          )
          ready = true
        }
        const views: Array<[name: string, body: string]> = []
        const raw = rawView()
        if (raw.signature !== live.rawSignature) {
          live.rawSignature = raw.signature
          const body = raw.whole ?
            (anyParquet(RAW_PREFIX, ["ref_date", "index_code"]) ?
              `SELECT ${rawColumnList} FROM read_parquet(${literal(rawGlob)}, ${rawHive})` :
              emptyOf(rawAll)) :
            raw.body
          views.push(["b3_portfolio_raw", body])
        }
        const refined = refinedView()
        if (refined.signature !== live.refinedSignature) {
          live.refinedSignature = refined.signature
          views.push(["b3_portfolio_refined", refined.body ?? emptyOf(refinedAll)])
        }
        // one round trip for every view of both schemas
        const ddl = ["main", "\"default\""].flatMap((schema) =>
          views.map(([name, body]) => `CREATE OR REPLACE VIEW ${schema}.${name} AS ${body}`)
        )
        if (ddl.length > 0) yield* db.run(ddl.join(";\n"))
      })

    const query: Context.Tag.Service<typeof QueryEngine>["query"] = (sql) =>
      lock.withPermits(1)(Effect.gen(function*() {
        yield* refreshViews(db).pipe(Effect.mapError(toError("(view setup)")))
        const result = yield* runSelect(db, sql).pipe(
          // every file of a table was removed since its view went live: back to an empty view, once
          Effect.catchIf(
            (e) => /No files found that match the pattern|No such file or directory/.test(e.message),
            () => {
              live.rawSignature = ""
              live.refinedSignature = ""
              return Effect.zipRight(refreshViews(db), runSelect(db, sql))
            }
          ),
          Effect.mapError(toError(sql))
        )
        const { columns, rows } = yield* decodeResult(result, sql)
        // one chunk: collecting the stream copies nothing and walks no iterator
        return { columns, rows: Stream.fromChunk(Chunk.unsafeFromArray(rows)) }
      })).pipe(Effect.withSpan("DuckDbQueryEngine.query"))

    return QueryEngine.of({ query })
  })

/**
 * The query engine on a warehouse folder. DuckDB opens when the layer is built; if it cannot, the
 * layer fails with `QueryError` `Unavailable`.
 *
 * @category layers
 */
export const layer = (config: DuckDbQueryEngineConfig): Layer.Layer<QueryEngine, QueryError, Path.Path> =>
  Layer.scoped(QueryEngine, make(config))
