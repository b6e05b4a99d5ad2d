/**
 * `b3 report`: the data behind the portfolio report, read through core's `QueryEngine` port with
 * SQL that runs on Athena (Trino) and DuckDB alike, and its rendering as one self-contained HTML
 * page (see `Render.ts`).
 *
 * Every identifier and literal in the SQL comes from a branded `IndexCode`, `Ticker` or `RefDate`
 * (whose grammars admit no quote, space or slash), never from raw user text.
 *
 * @since 0.1.0
 */
import {
  formatDecimal,
  IndexCode,
  parseDecimal,
  REDUCTOR_SCALE,
  RefDate,
  Ticker,
  WEIGHT_SCALE
} from "@b3-pipeline/core/Domain"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import type { QueryError } from "@b3-pipeline/core/QueryEngine"
import { RAW_TABLE, REFINED_TABLE } from "@b3-pipeline/core/Tables"
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { ReportLocale } from "./Format.js"
import { renderReport } from "./Render.js"

export { REPORT_LOCALES, ReportLocale } from "./Format.js"
export { renderReport } from "./Render.js"
export type { RenderOptions } from "./Render.js"

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/** One member of the portfolio on the report date. @category models */
export interface ReportMember {
  readonly ticker: Ticker
  readonly company: string
  readonly shareClass: string | null
  readonly sector: string | null
  /** Exact weight in percent with 3 decimals: `"3.570"`. */
  readonly weightPct: string
  /** Exact theoretical quantity, integer digits: `"4394835131"`. */
  readonly theoreticalQty: string
}

/** One sector's share of the index on the report date. @category models */
export interface ReportSector {
  /** `null` groups the members without a sector (mixed data). */
  readonly sector: string | null
  /** Exact sum of the members' weights, 3 decimals. */
  readonly weightPct: string
  readonly members: number
}

/** @category models */
export interface ReportPoint {
  readonly refDate: RefDate
  /** Exact weight, 3 decimals. */
  readonly weightPct: string
}

/** The weight of one ticker over time: a point per snapshot where it was in the index. @category models */
export interface ReportSeries {
  readonly ticker: Ticker
  readonly company: string
  readonly points: ReadonlyArray<ReportPoint>
}

/** A constituent present on one of the compared dates only. @category models */
export interface ReportChange {
  readonly ticker: Ticker
  readonly company: string
  /** Its weight on the date it was present. */
  readonly weightPct: string
}

/** Constituents entering and leaving between two snapshots (`from` < `to`). @category models */
export interface ReportComparison {
  readonly from: RefDate
  readonly to: RefDate
  /** In `to`, not in `from`. */
  readonly entered: ReadonlyArray<ReportChange>
  /** In `from`, not in `to`. */
  readonly left: ReadonlyArray<ReportChange>
}

/**
 * Everything the page shows. Numbers that are displayed are exact decimal text.
 *
 * @category models
 */
export interface ReportData {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  readonly constituents: number
  /** Exact total theoretical quantity (integer digits), from the raw header; `null` when unknown. */
  readonly totalQuantity: string | null
  /** Exact reductor, 8 decimals (`"15019274.20202473"`); `null` when the payload had none. */
  readonly reductor: string | null
  /** The members on `refDate`, heaviest first. */
  readonly members: ReadonlyArray<ReportMember>
  /** Weight by sector, heaviest first; empty when no row has a sector (segment-1 data). */
  readonly sectors: ReadonlyArray<ReportSector>
  /** The snapshot dates of the time axis (ascending, up to `refDate`). */
  readonly dates: ReadonlyArray<RefDate>
  /** One series per chosen ticker. */
  readonly series: ReadonlyArray<ReportSeries>
  /** `null` when the index has a single snapshot. */
  readonly comparison: ReportComparison | null
}

/** @category models */
export interface LoadReportOptions {
  /** Default `IBOV`. */
  readonly indexCode?: IndexCode
  /** Default: the latest date of the index in `b3_portfolio_refined`. */
  readonly refDate?: RefDate
  /** Default: the 5 heaviest members on `refDate`. */
  readonly tickers?: ReadonlyArray<Ticker>
  /** Default: the snapshot before `refDate`. */
  readonly compareDate?: RefDate
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Why a report cannot be made, with a message telling the user what to do.
 *
 * @category errors
 */
export class ReportError extends Schema.TaggedError<ReportError>()("ReportError", {
  reason: Schema.Literal("EmptyWarehouse", "UnknownIndex", "UnknownTicker", "UnknownDate"),
  indexCode: Schema.optional(Schema.String),
  ticker: Schema.optional(Schema.String),
  refDate: Schema.optional(Schema.String),
  /** What the warehouse does hold (indexes, dates or tickers), for the message. */
  available: Schema.optional(Schema.Array(Schema.String)),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const some = (xs: ReadonlyArray<string> | undefined, max = 12): string =>
      xs === undefined || xs.length === 0 ?
        "none" :
        xs.length <= max ?
        xs.join(", ") :
        `${xs.slice(0, max).join(", ")} ... (${xs.length} in all)`
    switch (this.reason) {
      case "EmptyWarehouse":
        return "the warehouse has no refined data: run `npx b3 run` or `npx b3 ingest --file ...` first"
      case "UnknownIndex":
        return `the warehouse has no refined data for index ${this.indexCode}: it holds ${
          some(this.available)
        }; pass one of them with --index, or run \`npx b3 run --index ${this.indexCode}\` first`
      case "UnknownTicker":
        return `ticker ${this.ticker} never appears in ${this.indexCode} (b3_portfolio_refined): pick one of ${
          some(this.available)
        }`
      case "UnknownDate":
        return `${this.indexCode} has no snapshot on ${this.refDate}: the warehouse holds ${
          holdings(this.available ?? [], this.refDate ?? "")
        }; pass one of them, or ingest that day with \`npx b3 ingest --file ...\``
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SQL (Trino dialect, also valid DuckDB)
// ---------------------------------------------------------------------------------------------

const SAFE_LITERAL = /^[A-Z0-9-]+$/

/** A string literal from a branded value; the grammar check is a second line of defence. */
const lit = (value: IndexCode | Ticker): string => {
  if (!SAFE_LITERAL.test(value)) throw new Error(`unsafe SQL literal ${JSON.stringify(value)}`)
  return `'${value}'`
}
const dateLit = (value: RefDate): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new Error(`unsafe SQL date ${JSON.stringify(value)}`)
  return `DATE '${value}'`
}
const inList = (values: ReadonlyArray<Ticker>): string => values.map(lit).join(", ")

/**
 * The SQL the report runs, exported so tests (and curious users) can read it.
 *
 * @category sql
 */
export const sql = {
  indexes: `SELECT index_code, count(*) AS row_count FROM ${REFINED_TABLE} GROUP BY index_code ORDER BY index_code`,
  dates: (index: IndexCode) =>
    `SELECT ref_date, count(*) AS constituents FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } GROUP BY ref_date ORDER BY ref_date`,
  members: (index: IndexCode, date: RefDate) =>
    `SELECT ticker, company, share_class, sector, weight_pct, theoretical_qty FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ref_date = ${dateLit(date)} ORDER BY weight_pct DESC, ticker`,
  sectors: (index: IndexCode, date: RefDate) =>
    `SELECT sector, sum(weight_pct) AS weight_pct, count(*) AS members FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ref_date = ${dateLit(date)} GROUP BY sector ORDER BY sum(weight_pct) DESC, sector`,
  header: (index: IndexCode, date: RefDate) =>
    `SELECT total_qty, reductor FROM ${RAW_TABLE} WHERE index_code = ${lit(index)} AND ref_date = ${
      dateLit(date)
    } LIMIT 1`,
  knownTickers: (index: IndexCode, tickers: ReadonlyArray<Ticker>) =>
    `SELECT ticker, count(*) AS snapshots FROM ${REFINED_TABLE} WHERE index_code = ${lit(index)} AND ticker IN (${
      inList(tickers)
    }) GROUP BY ticker ORDER BY ticker`,
  allTickers: (index: IndexCode) =>
    `SELECT ticker, max(weight_pct) AS weight_pct FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } GROUP BY ticker ORDER BY max(weight_pct) DESC, ticker`,
  series: (index: IndexCode, tickers: ReadonlyArray<Ticker>, upTo: RefDate) =>
    `SELECT ref_date, ticker, company, weight_pct FROM ${REFINED_TABLE} WHERE index_code = ${
      lit(index)
    } AND ticker IN (${inList(tickers)}) AND ref_date <= ${dateLit(upTo)} ORDER BY ref_date, ticker`
} as const

// ---------------------------------------------------------------------------------------------
// Row decoding (a bad value is a QueryError "BadRow" naming the column and the value)
// ---------------------------------------------------------------------------------------------

type Row = QueryEngine.Row

class BadValue {
  constructor(readonly column: string, readonly expected: string, readonly value: unknown) {}
}

const show = (v: unknown): string => typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v)

const text = (row: Row, column: string): string => {
  const v = row[column]
  if (typeof v === "string") return v
  throw new BadValue(column, "text", v)
}
const optText = (row: Row, column: string): string | null => {
  const v = row[column]
  return v === null || v === undefined ? null : text(row, column)
}
const date = (row: Row, column: string): RefDate => {
  const v = row[column]
  const s = typeof v === "string" ? v.slice(0, 10) : undefined
  if (s !== undefined && Schema.is(RefDate)(s)) return s
  throw new BadValue(column, "a date YYYY-MM-DD", v)
}
const ticker = (row: Row, column: string): Ticker => {
  const v = row[column]
  if (Schema.is(Ticker)(v)) return v
  throw new BadValue(column, "a ticker", v)
}
const indexCode = (row: Row, column: string): IndexCode => {
  const v = row[column]
  if (Schema.is(IndexCode)(v)) return v
  throw new BadValue(column, "an index code", v)
}
/** An exact decimal, normalised to `scale` decimals. */
const decimal = (row: Row, column: string, scale: number): string => {
  const v = row[column]
  let unscaled: bigint | undefined
  if (typeof v === "string") unscaled = parseDecimal(v.trim(), scale)
  else if (typeof v === "bigint") unscaled = v * 10n ** BigInt(scale)
  else if (typeof v === "number" && Number.isFinite(v)) {
    // an engine that hands a DECIMAL back as a double: keep its shortest text when it fits the scale
    unscaled = parseDecimal(String(v), scale) ?? parseDecimal(v.toFixed(scale), scale)
  }
  if (unscaled === undefined) throw new BadValue(column, `a decimal with at most ${scale} decimals`, v)
  return formatDecimal(unscaled, scale)
}
const optDecimal = (row: Row, column: string, scale: number): string | null =>
  row[column] === null || row[column] === undefined ? null : decimal(row, column, scale)
/** An exact integer as digits. */
const integer = (row: Row, column: string): string => {
  const v = row[column]
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v)
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return BigInt(v.trim()).toString()
  throw new BadValue(column, "an integer", v)
}
const optInteger = (row: Row, column: string): string | null =>
  row[column] === null || row[column] === undefined ? null : integer(row, column)
const count = (row: Row, column: string): number => Number(integer(row, column))

/** Runs a query and decodes its rows; a decoding failure becomes `QueryError` "BadRow". */
const rows = <A>(
  statement: string,
  decode: (row: Row) => A
): Effect.Effect<Array<A>, QueryError, QueryEngine.QueryEngine> =>
  QueryEngine.collect(statement).pipe(
    Effect.flatMap((result) =>
      Effect.try({
        try: () => result.map(decode),
        catch: (e) =>
          new QueryEngine.QueryError({
            reason: "BadRow",
            sql: statement,
            detail: e instanceof BadValue ?
              `column ${e.column}: expected ${e.expected}, got ${show(e.value)}` :
              String(e),
            cause: e
          })
      })
    )
  )

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

const DEFAULT_INDEX = "IBOV" as IndexCode
const DEFAULT_TICKER_COUNT = 5

/**
 * Reads everything the report shows. Fails with `ReportError` when the warehouse is empty, or has
 * no such index, date or ticker; with `QueryError` when the engine fails or a value is malformed.
 *
 * @category loading
 */
export const loadReportData: (
  options?: LoadReportOptions
) => Effect.Effect<ReportData, ReportError | QueryError, QueryEngine.QueryEngine> = Effect.fn("Report.loadReportData")(
  function*(options: LoadReportOptions = {}) {
    const index = options.indexCode ?? DEFAULT_INDEX

    // 1. Is there anything at all, and for this index?
    const indexes = yield* rows(
      sql.indexes,
      (r) => ({ index: indexCode(r, "index_code"), rows: count(r, "row_count") })
    )
      .pipe(
        Effect.catchIf(
          (e) => e.reason === "NoSuchTable",
          (cause) => new ReportError({ reason: "EmptyWarehouse", cause })
        )
      )
    const present = indexes.filter((i) => i.rows > 0)
    if (present.length === 0) return yield* new ReportError({ reason: "EmptyWarehouse" })
    if (!present.some((i) => i.index === index)) {
      return yield* new ReportError({
        reason: "UnknownIndex",
        indexCode: index,
        available: present.map((i) => i.index)
      })
    }

    // 2. The snapshots of the index, the report date and the comparison date.
    const snapshots = yield* rows(sql.dates(index), (r) => ({
      date: date(r, "ref_date"),
      constituents: count(r, "constituents")
    }))
    const allDates = snapshots.map((s) => s.date)
    const refDate = options.refDate ?? allDates[allDates.length - 1]!
    const at = allDates.indexOf(refDate)
    if (at === -1) {
      return yield* new ReportError({ reason: "UnknownDate", indexCode: index, refDate, available: allDates })
    }
    let compareDate: RefDate | undefined
    if (options.compareDate !== undefined) {
      if (!allDates.includes(options.compareDate)) {
        return yield* new ReportError({
          reason: "UnknownDate",
          indexCode: index,
          refDate: options.compareDate,
          available: allDates
        })
      }
      compareDate = options.compareDate === refDate ? undefined : options.compareDate
    } else if (at > 0) {
      compareDate = allDates[at - 1]
    }

    // 3. The members on the report date, and the chosen tickers.
    const members = yield* rows(sql.members(index, refDate), (r): ReportMember => ({
      ticker: ticker(r, "ticker"),
      company: optText(r, "company") ?? "",
      shareClass: optText(r, "share_class"),
      sector: optText(r, "sector"),
      weightPct: decimal(r, "weight_pct", WEIGHT_SCALE),
      theoreticalQty: integer(r, "theoretical_qty")
    }))
    let tickers: ReadonlyArray<Ticker>
    if (options.tickers !== undefined && options.tickers.length > 0) {
      tickers = dedupe(options.tickers)
      const known = yield* rows(sql.knownTickers(index, tickers), (r) => ticker(r, "ticker"))
      const unknown = tickers.find((t) => !known.includes(t))
      if (unknown !== undefined) {
        const all = yield* rows(sql.allTickers(index), (r) => ticker(r, "ticker"))
        return yield* new ReportError({ reason: "UnknownTicker", indexCode: index, ticker: unknown, available: all })
      }
    } else {
      tickers = members.slice(0, DEFAULT_TICKER_COUNT).map((m) => m.ticker)
    }

    // 4. The rest, independent of each other.
    const [sectors, header, seriesRows, compareMembers] = yield* Effect.all([
      rows(sql.sectors(index, refDate), (r): ReportSector => ({
        sector: optText(r, "sector"),
        weightPct: decimal(r, "weight_pct", WEIGHT_SCALE),
        members: count(r, "members")
      })),
      rows(sql.header(index, refDate), (r) => ({
        totalQuantity: optInteger(r, "total_qty"),
        reductor: optDecimal(r, "reductor", REDUCTOR_SCALE)
      })).pipe(
        // a warehouse refined elsewhere may lack the raw table: the total is then the sum of the members
        Effect.catchIf((e) => e.reason === "NoSuchTable", () => Effect.succeed([]))
      ),
      tickers.length === 0 ? Effect.succeed([]) : rows(sql.series(index, tickers, refDate), (r) => ({
        date: date(r, "ref_date"),
        ticker: ticker(r, "ticker"),
        company: optText(r, "company") ?? "",
        weightPct: decimal(r, "weight_pct", WEIGHT_SCALE)
      })),
      compareDate === undefined ? Effect.succeed([]) : rows(sql.members(index, compareDate), (r): ReportChange => ({
        ticker: ticker(r, "ticker"),
        company: optText(r, "company") ?? "",
        weightPct: decimal(r, "weight_pct", WEIGHT_SCALE)
      }))
    ], { concurrency: 2 })

    const series: Array<ReportSeries> = tickers.map((t) => {
      const own = seriesRows.filter((r) => r.ticker === t)
      return {
        ticker: t,
        company: own.length > 0 ? own[own.length - 1]!.company : "",
        points: own.map((r) => ({ refDate: r.date, weightPct: r.weightPct }))
      }
    })

    let comparison: ReportComparison | null = null
    if (compareDate !== undefined) {
      const current: ReadonlyArray<ReportChange> = members.map((m) => ({
        ticker: m.ticker,
        company: m.company,
        weightPct: m.weightPct
      }))
      const [from, to, fromRows, toRows] = compareDate < refDate ?
        [compareDate, refDate, compareMembers, current] as const :
        [refDate, compareDate, current, compareMembers] as const
      const inFrom = new Set(fromRows.map((m) => m.ticker))
      const inTo = new Set(toRows.map((m) => m.ticker))
      comparison = {
        from,
        to,
        entered: toRows.filter((m) => !inFrom.has(m.ticker)),
        left: fromRows.filter((m) => !inTo.has(m.ticker))
      }
    }

    const summed = members.reduce((acc, m) => acc + BigInt(m.theoreticalQty), 0n).toString()
    return {
      indexCode: index,
      refDate,
      constituents: members.length,
      totalQuantity: header[0]?.totalQuantity ?? (members.length > 0 ? summed : null),
      reductor: header[0]?.reductor ?? null,
      members,
      sectors: sectors.every((s) => s.sector === null) ? [] : sectors,
      dates: allDates.slice(0, at + 1),
      series,
      comparison
    } satisfies ReportData
  }
)

const dedupe = <A>(xs: ReadonlyArray<A>): ReadonlyArray<A> => [...new Set(xs)]

/** The dates a warehouse holds, for a message: all of them when few, else the range and the 6 nearest. */
const holdings = (dates: ReadonlyArray<string>, target: string): string => {
  if (dates.length <= 6) return dates.join(", ")
  let i = dates.findIndex((d) => d > target)
  if (i === -1) i = dates.length
  const start = Math.max(0, Math.min(i - 3, dates.length - 6))
  return `${dates.length} snapshots from ${dates[0]} to ${dates[dates.length - 1]}; the nearest are ${
    dates.slice(start, start + 6).join(", ")
  }`
}

// ---------------------------------------------------------------------------------------------
// For the CLI
// ---------------------------------------------------------------------------------------------

/** @category cli */
export interface WriteReportOptions extends LoadReportOptions {
  /** Default `"pt-BR"`. */
  readonly locale?: ReportLocale
  /** The HTML file to write. */
  readonly out: string
}

/** What `writeReport` wrote. @category cli */
export interface WrittenReport {
  readonly path: string
  readonly bytes: number
  readonly data: ReportData
}

/**
 * Loads, renders and writes the report (what `b3 report` does). The footer records the clock's time.
 *
 * @category cli
 */
export const writeReport: (
  options: WriteReportOptions
) => Effect.Effect<
  WrittenReport,
  ReportError | QueryError | PlatformError,
  QueryEngine.QueryEngine | FileSystem.FileSystem
> = Effect.fn("Report.writeReport")(function*(options: WriteReportOptions) {
  const { locale = "pt-BR", out, ...load } = options
  const data = yield* loadReportData(load)
  const now = yield* Clock.currentTimeMillis
  const html = renderReport(data, { locale, generatedAt: new Date(now).toISOString() })
  const bytes = new TextEncoder().encode(html)
  const fs = yield* FileSystem.FileSystem
  yield* fs.writeFile(out, bytes)
  return { path: out, bytes: bytes.byteLength, data }
})
