/**
 * The `QueryEngine` port (stage 5, query): SQL in, rows out as a stream. Athena on AWS, DuckDB
 * locally. Tables are named as in the catalog (`b3_portfolio_raw`, `b3_portfolio_refined`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Column, TableDef } from "./Catalog.js"
import { Catalog } from "./Catalog.js"
import { formatDecimal, fromEpochDay } from "./Domain.js"
import type * as Parquet from "./internal/parquet.js"
import { ObjectStore } from "./ObjectStore.js"

/**
 * A result value. Engines map SQL types so: integers that fit in 2^53 and doubles -> `number`,
 * larger integers -> `bigint`, DECIMAL -> its exact text (`"3.570"`), DATE -> `"YYYY-MM-DD"`,
 * TIMESTAMP -> ISO text, NULL -> `null`.
 *
 * @category models
 */
export type SqlValue = string | number | bigint | boolean | null

/** @category models */
export type Row = Readonly<Record<string, SqlValue>>

// ---------------------------------------------------------------------------------------------
// SqlValue mapping: the one place every engine turns its values into `SqlValue`s
// ---------------------------------------------------------------------------------------------

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const INTEGER_TEXT = /^[-+]?\d+$/
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/
const INTEGER_TYPES = new Set([
  "tinyint",
  "smallint",
  "int",
  "integer",
  "bigint",
  "hugeint",
  "utinyint",
  "usmallint",
  "uinteger",
  "ubigint",
  "uhugeint"
])
const FLOAT_TYPES = new Set(["double", "float", "real"])

/** An integer as a `number` when it is safe (|n| <= 2^53 - 1), else as a `bigint`. @category mapping */
export const safeInteger = (n: bigint): number | bigint => (n <= MAX_SAFE && n >= MIN_SAFE ? Number(n) : n)

/** A value that does not fit its column's type (thrown by a `sqlValueDecoder`, caught by `decodeRows`). */
class SqlValueMismatch {
  constructor(readonly detail: string) {}
}

const mismatch = (what: string, raw: unknown): never => {
  throw new SqlValueMismatch(`not ${what}: ${typeof raw === "bigint" ? `${raw}n` : JSON.stringify(raw)}`)
}

/**
 * The decoder of one column's values into `SqlValue`s, chosen once per column by its SQL type. The
 * type is an engine's or the catalog's name in any case (`BIGINT`, `integer`, `int`,
 * `decimal(7,3)`, `DATE`, `varchar`, `string`, `TIMESTAMP WITH TIME ZONE`); a value is what the
 * engine's driver hands over: text (Athena sends every value as text, DuckDB's JSON rows give
 * BIGINT, DECIMAL and DATE as text), a number, a bigint or a boolean; `null` and `undefined` are NULL.
 *
 * The mapping (the port's contract, `SqlValue`): integer types -> `number` when safe, else `bigint`;
 * float types -> `number` (`"NaN"`, `"Infinity"` included); DECIMAL -> its exact text; DATE ->
 * `YYYY-MM-DD`; TIMESTAMP -> ISO text with a `T` (an epoch-millisecond number becomes
 * `YYYY-MM-DDTHH:MM:SS.sss`); BOOLEAN -> boolean (`"true"`/`"false"` text too); anything else ->
 * text as given (numbers and booleans kept, bigints by the integer rule, nested values as JSON).
 * A value that does not fit its type throws; `decodeRows` turns that into `QueryError` `BadRow`.
 *
 * @category mapping
 */
export const sqlValueDecoder = (type: string): (raw: unknown) => SqlValue => {
  const base = type.trim().toLowerCase().replace(/\(.*$/, "").trim()
  if (INTEGER_TYPES.has(base)) {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "number") return Number.isInteger(raw) ? raw : mismatch(`an integer (${type})`, raw)
      if (typeof raw === "bigint") return safeInteger(raw)
      if (typeof raw === "string" && INTEGER_TEXT.test(raw)) {
        // up to 15 digits is always safe: skip the BigInt
        return raw.length <= 15 ? Number(raw) : safeInteger(BigInt(raw))
      }
      return mismatch(`an integer (${type})`, raw)
    }
  }
  if (FLOAT_TYPES.has(base)) {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "number") return raw
      if (typeof raw === "string" && raw.trim() !== "") {
        const n = Number(raw)
        if (!Number.isNaN(n) || raw === "NaN") return n
      }
      return mismatch(`a number (${type})`, raw)
    }
  }
  if (base === "decimal" || base === "numeric") {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "string" && DECIMAL_TEXT.test(raw)) return raw
      return mismatch(`a decimal (${type})`, raw)
    }
  }
  if (base === "date") {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "string" && DATE_TEXT.test(raw)) return raw
      return mismatch(`a date (${type})`, raw)
    }
  }
  if (base.startsWith("timestamp")) {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "string") return raw.replace(" ", "T")
      if (typeof raw === "number" || typeof raw === "bigint") {
        const ms = Number(raw)
        if (Number.isFinite(ms)) return new Date(ms).toISOString().slice(0, -1)
      }
      return mismatch(`a timestamp (${type})`, raw)
    }
  }
  if (base === "boolean" || base === "bool") {
    return (raw) => {
      if (raw === null || raw === undefined) return null
      if (typeof raw === "boolean") return raw
      if (raw === "true" || raw === "false") return raw === "true"
      return mismatch(`a boolean (${type})`, raw)
    }
  }
  return (raw) =>
    raw === null || raw === undefined ?
      null :
      typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean" ?
      raw :
      typeof raw === "bigint" ?
      safeInteger(raw) :
      JSON.stringify(raw)
}

/**
 * Decodes an engine's rows into `Row`s with one `sqlValueDecoder` per column; `cell(row, i)` reads
 * the raw value of column `i`. A value that does not fit its type fails with `QueryError` `BadRow`
 * naming the column, its type, the row and the value.
 *
 * @category mapping
 */
export const decodeRows = <R>(
  columns: ReadonlyArray<{ readonly name: string; readonly type: string }>,
  rows: Iterable<R>,
  cell: (row: R, index: number) => unknown,
  context: { readonly sql?: string | undefined; readonly queryId?: string | undefined } = {}
): Effect.Effect<Array<Row>, QueryError> =>
  Effect.suspend(() => {
    const decoders = columns.map((c) => sqlValueDecoder(c.type))
    const names = columns.map((c) => c.name)
    const width = columns.length
    const out: Array<Row> = []
    // one try for the whole result (not one per cell): the position is kept for the message
    let column = 0
    try {
      for (const row of rows) {
        const decoded: Record<string, SqlValue> = {}
        for (column = 0; column < width; column++) {
          decoded[names[column] as string] = (decoders[column] as (raw: unknown) => SqlValue)(cell(row, column))
        }
        out.push(decoded)
      }
    } catch (e) {
      if (!(e instanceof SqlValueMismatch)) throw e
      const at = columns[column]
      return Effect.fail(
        new QueryError({
          reason: "BadRow",
          ...(context.sql !== undefined ? { sql: context.sql } : {}),
          ...(context.queryId !== undefined ? { queryId: context.queryId } : {}),
          detail: `column ${at?.name} (${at?.type}) of row ${out.length + 1}: ${e.detail}`
        })
      )
    }
    return Effect.succeed(out)
  })

/** @category models */
export interface QueryResult {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>
  readonly rows: Stream.Stream<Row, QueryError>
}

/** @category errors */
export class QueryError extends Schema.TaggedError<QueryError>()("QueryError", {
  reason: Schema.Literal(
    "Syntax",
    "NoSuchTable",
    "Failed",
    "Cancelled",
    "Timeout",
    "Throttled",
    "Unavailable",
    "BadRow",
    "NotAllowed"
  ),
  sql: Schema.optional(Schema.String),
  queryId: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `query failed (${this.reason})${this.queryId !== undefined ? ` [${this.queryId}]` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  get retryable(): boolean {
    return this.reason === "Throttled" || this.reason === "Unavailable"
  }
}

/** @category tags */
export class QueryEngine extends Context.Tag("@b3-pipeline/core/QueryEngine")<QueryEngine, {
  readonly query: (sql: string) => Effect.Effect<QueryResult, QueryError>
}>() {}

/** Runs a query and collects its rows. @category combinators */
export const collect = (sql: string): Effect.Effect<ReadonlyArray<Row>, QueryError, QueryEngine> =>
  Effect.flatMap(QueryEngine, (engine) => engine.query(sql)).pipe(
    Effect.flatMap((result) => Stream.runCollect(result.rows)),
    Effect.map((chunk) => Array.from(chunk))
  )

/** Runs a query and decodes each row with a Schema (typed rows). @category combinators */
export const stream = <A, I>(
  sql: string,
  schema: Schema.Schema<A, I>
): Stream.Stream<A, QueryError, QueryEngine> =>
  Stream.unwrap(Effect.map(Effect.flatMap(QueryEngine, (engine) => engine.query(sql)), (r) => r.rows)).pipe(
    Stream.mapEffect((row) =>
      Schema.decodeUnknown(schema)(row).pipe(
        Effect.mapError((e) => new QueryError({ reason: "BadRow", sql, detail: e.message }))
      )
    )
  )

// ---------------------------------------------------------------------------------------------
// In memory: a deliberately tiny engine over the Parquet files in the store
// ---------------------------------------------------------------------------------------------

/** What the memory engine understands, for its error messages. @category models */
export const MEMORY_SUPPORTED = "SELECT * FROM <table> [WHERE <column> = '<literal>' [AND <column> = '<literal>' ...]]"

/** A parsed memory-engine query. @category models */
export interface SimpleSelect {
  readonly table: string
  readonly where: ReadonlyArray<{ readonly column: string; readonly value: string }>
}

const IDENT = "[A-Za-z_][A-Za-z0-9_]*"
const HEAD = new RegExp(`^\\s*SELECT\\s+\\*\\s+FROM\\s+(${IDENT}(?:\\.${IDENT})?)\\s*`, "iy")
const WHERE = /WHERE\s+/iy
const CONDITION = new RegExp(`(${IDENT})\\s*=\\s*'((?:[^']|'')*)'\\s*`, "y")
const AND = /AND\s+/iy
const END = /;?\s*$/y

/**
 * Parses the one query shape the memory engine runs, or returns `undefined`.
 *
 * @category parsing
 */
export const parseSimpleSelect = (sql: string): SimpleSelect | undefined => {
  HEAD.lastIndex = 0
  const table = HEAD.exec(sql)?.[1]
  if (table === undefined) return undefined
  let at = HEAD.lastIndex
  const where: Array<{ column: string; value: string }> = []
  WHERE.lastIndex = at
  if (WHERE.exec(sql) !== null) {
    at = WHERE.lastIndex
    for (;;) {
      CONDITION.lastIndex = at
      const [matched, column, value] = CONDITION.exec(sql) ?? []
      if (matched === undefined || column === undefined || value === undefined) return undefined
      where.push({ column: column.toLowerCase(), value: value.replace(/''/g, "'") })
      at = CONDITION.lastIndex
      AND.lastIndex = at
      if (AND.exec(sql) === null) break
      at = AND.lastIndex
    }
  }
  END.lastIndex = at
  if (END.exec(sql) === null || END.lastIndex !== sql.length) return undefined
  return { table, where }
}

/** Reads one column of a file as SqlValues, by its catalog type (through `sqlValueDecoder`). */
const readColumn = (P: typeof Parquet, table: ReturnType<typeof P.readTable>, column: Column): Array<SqlValue> => {
  const vector = P.child(table, column.name)
  const type = column.type
  const decode = sqlValueDecoder(type)
  if (type === "string") return P.readStrings(vector).map(decode)
  if (type === "int") return P.readInt32(vector).map(decode)
  if (type === "bigint") return P.readInt64(vector).map(decode)
  if (type === "date") return P.readDateDays(vector).map((d) => (d === null ? null : decode(fromEpochDay(d))))
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type)
  if (decimal !== null) {
    const scale = Number(decimal[2])
    const { scale: fileScale, values } = P.readDecimals(vector)
    return values.map((v) => (v === null ? null : decode(formatDecimal(P.rescale(v, fileScale, scale), scale))))
  }
  const out: Array<SqlValue> = []
  for (let i = 0; i < vector.length; i++) {
    const v: unknown = vector.get(i)
    // Arrow hands a timestamp as epoch milliseconds, which the decoder turns into ISO text
    out.push(decode(type === "timestamp" && v instanceof Date ? v.getTime() : v))
  }
  return out
}

const partitionValue = (column: Column, text: string): SqlValue => sqlValueDecoder(column.type)(text)

const textOf = (v: SqlValue): string | undefined => (v === null ? undefined : String(v))

/**
 * Runs a `SimpleSelect` over a table's files in the store. Columns: the file columns, then the
 * partition keys (as Athena and DuckDB's hive reader show them).
 */
const runSelect = (
  P: typeof Parquet,
  files: ReadonlyArray<{ readonly key: string; readonly bytes: Uint8Array }>,
  table: TableDef,
  select: SimpleSelect
): Array<Row> => {
  const rows: Array<Row> = []
  for (const file of files) {
    const relative = file.key.slice(table.location.length)
    const partition: Record<string, SqlValue> = {}
    for (const segment of relative.split("/").slice(0, -1)) {
      const eq = segment.indexOf("=")
      if (eq <= 0) continue
      const key = table.partitionKeys.find((k) => k.name === segment.slice(0, eq))
      if (key !== undefined) partition[key.name] = partitionValue(key, segment.slice(eq + 1))
    }
    const arrow = P.readTable(file.bytes)
    const columns = table.columns.map((c) => readColumn(P, arrow, c))
    for (let i = 0; i < arrow.numRows; i++) {
      const row: Record<string, SqlValue> = {}
      table.columns.forEach((c, j) => (row[c.name] = columns[j]?.[i] ?? null))
      for (const k of table.partitionKeys) row[k.name] = partition[k.name] ?? null
      if (select.where.every((w) => textOf(row[w.column] ?? null) === w.value)) rows.push(row)
    }
  }
  return rows
}

/**
 * An honest, small engine for tests and the `memory` adapter: `SELECT * FROM <table>` with
 * optional `WHERE col = 'literal' AND ...` (equality on the value's text: numbers as written by
 * `String`, decimals as `"3.570"`, dates as `YYYY-MM-DD`), over the Parquet files of tables in the
 * catalog. Anything else fails with `Syntax`, naming what is supported. The real SQL engines are
 * DuckDB (local) and Athena (AWS).
 *
 * @category constructors
 */
export const makeMemory: Effect.Effect<Context.Tag.Service<QueryEngine>, never, ObjectStore | Catalog> = Effect.gen(
  function*() {
    const store = yield* ObjectStore
    const catalog = yield* Catalog
    const query = Effect.fn("QueryEngine.query")(function*(sql: string) {
      const select = parseSimpleSelect(sql)
      if (select === undefined) {
        return yield* new QueryError({
          reason: "Syntax",
          sql,
          detail: `the memory engine supports only ${MEMORY_SUPPORTED}; use the local (DuckDB) or aws (Athena) adapter`
        })
      }
      const dot = select.table.indexOf(".")
      const name = dot === -1 ? select.table : select.table.slice(dot + 1)
      const found = yield* catalog.getTable(name).pipe(
        Effect.mapError((e) => new QueryError({ reason: "Unavailable", sql, detail: e.message, cause: e }))
      )
      if (Option.isNone(found) || (dot !== -1 && found.value.database !== select.table.slice(0, dot))) {
        return yield* new QueryError({
          reason: "NoSuchTable",
          sql,
          detail: `table ${select.table} is not in the catalog`
        })
      }
      const table = found.value
      const known = [...table.columns, ...table.partitionKeys].map((c) => c.name)
      const unknown = select.where.find((w) => !known.includes(w.column))
      if (unknown !== undefined) {
        return yield* new QueryError({
          reason: "Syntax",
          sql,
          detail: `column ${unknown.column} does not exist in ${table.name} (columns: ${known.join(", ")})`
        })
      }
      const storeError = (e: { readonly message: string }) =>
        new QueryError({ reason: "Unavailable", sql, detail: e.message, cause: e })
      const infos = yield* Stream.runCollect(store.list(table.location)).pipe(Effect.mapError(storeError))
      const files: Array<{ key: string; bytes: Uint8Array }> = []
      for (const info of infos) {
        if (!info.key.endsWith(".parquet")) continue
        const bytes = yield* store.get(info.key).pipe(Effect.mapError(storeError))
        if (Option.isSome(bytes)) files.push({ key: info.key, bytes: bytes.value })
      }
      // Arrow loads with the first query that reads files: the other engines never load it
      const P = yield* Effect.promise(() => import("./internal/parquet.js"))
      const rows = yield* Effect.try({
        try: () => runSelect(P, files, table, select),
        catch: (cause) =>
          cause instanceof SqlValueMismatch ?
            new QueryError({ reason: "BadRow", sql, detail: `reading ${table.name}: ${cause.detail}` }) :
            new QueryError({ reason: "Failed", sql, detail: `reading ${table.name}: ${String(cause)}`, cause })
      })
      return {
        columns: [...table.columns, ...table.partitionKeys].map((c) => ({ name: c.name, type: c.type })),
        rows: Stream.fromIterable(rows)
      } satisfies QueryResult
    })
    return QueryEngine.of({ query })
  }
)

/**
 * The memory query engine (needs an `ObjectStore` and a `Catalog`).
 *
 * @category layers
 */
export const layerMemory: Layer.Layer<QueryEngine, never, ObjectStore | Catalog> = Layer.effect(QueryEngine, makeMemory)
