/**
 * The report's data: what the page shows (`ReportData` and its parts), why a report cannot be made
 * (`ReportError`), and the Schema of each query's rows, decoded through core's
 * `QueryEngine.stream` (a malformed value is a `QueryError` "BadRow" naming the column and the
 * value, never an exception).
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
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

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
// Rows of the report's queries (`Sql.ts`), as engines return them (see `QueryEngine.SqlValue`)
// ---------------------------------------------------------------------------------------------

const show = (v: unknown): string => typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v)

/** A column value that is not what the report expects: "expected X, got V". */
const unexpected = (ast: Schema.Schema.Any["ast"], value: unknown, expected: string) =>
  new ParseResult.Type(ast, value, `expected ${expected}, got ${show(value)}`)

/** A column that may be NULL (or absent): `null` then. */
const nullable = <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  Schema.optionalWith(Schema.NullOr(schema), { nullable: true, default: () => null })

/** Text; NULL (a member without a company name) is `""`. @category rows */
export const TextOrEmpty = Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })

/** A DATE (or a timestamp's text): its `YYYY-MM-DD`. @category rows */
export const DateColumn: Schema.Schema<RefDate, string> = Schema.transformOrFail(Schema.String, RefDate, {
  strict: true,
  decode: (s, _, ast) =>
    Schema.is(RefDate)(s.slice(0, 10)) ?
      ParseResult.succeed(s.slice(0, 10)) :
      ParseResult.fail(unexpected(ast, s, "a date YYYY-MM-DD")),
  encode: ParseResult.succeed
})

const Numeric = Schema.Union(Schema.String, Schema.BigIntFromSelf, Schema.Number)

/**
 * An exact decimal normalised to `scale` decimals (`"3.570"`), from DECIMAL text, an integer, or a
 * double that an engine handed back for a DECIMAL (its shortest text, when it fits the scale).
 *
 * @category rows
 */
export const DecimalColumn = (scale: number): Schema.Schema<string, string | bigint | number> =>
  Schema.transformOrFail(Numeric, Schema.String, {
    strict: true,
    decode: (v, _, ast) => {
      let unscaled: bigint | undefined
      if (typeof v === "string") unscaled = parseDecimal(v.trim(), scale)
      else if (typeof v === "bigint") unscaled = v * 10n ** BigInt(scale)
      else if (Number.isFinite(v)) unscaled = parseDecimal(String(v), scale) ?? parseDecimal(v.toFixed(scale), scale)
      return unscaled === undefined ?
        ParseResult.fail(unexpected(ast, v, `a decimal with at most ${scale} decimals`)) :
        ParseResult.succeed(formatDecimal(unscaled, scale))
    },
    encode: ParseResult.succeed
  })

/** An exact integer as its digits (`"4394835131"`). @category rows */
export const IntegerColumn: Schema.Schema<string, string | bigint | number> = Schema.transformOrFail(
  Numeric,
  Schema.String,
  {
    strict: true,
    decode: (v, _, ast) => {
      if (typeof v === "bigint") return ParseResult.succeed(v.toString())
      if (typeof v === "number" && Number.isSafeInteger(v)) return ParseResult.succeed(String(v))
      if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return ParseResult.succeed(BigInt(v.trim()).toString())
      return ParseResult.fail(unexpected(ast, v, "an integer"))
    },
    encode: ParseResult.succeed
  }
)

/** A count (`count(*)`) as a number. @category rows */
export const CountColumn: Schema.Schema<number, string | bigint | number> = Schema.transform(
  IntegerColumn,
  Schema.Number,
  { strict: true, decode: Number, encode: String }
)

/** `sql.indexes`: each index and its rows in the refined table. @category rows */
export const IndexRow = Schema.Struct({ index_code: IndexCode, row_count: CountColumn })

/** `sql.dates`: the snapshots of an index. @category rows */
export const DateRow = Schema.Struct({ ref_date: DateColumn, constituents: CountColumn })

/** `sql.members`: the members on a date, heaviest first. @category rows */
export const MemberRow = Schema.Struct({
  ticker: Ticker,
  company: TextOrEmpty,
  share_class: nullable(Schema.String),
  sector: nullable(Schema.String),
  weight_pct: DecimalColumn(WEIGHT_SCALE),
  theoretical_qty: IntegerColumn
})

/** `sql.sectors`: weight and members by sector. @category rows */
export const SectorRow = Schema.Struct({
  sector: nullable(Schema.String),
  weight_pct: DecimalColumn(WEIGHT_SCALE),
  members: CountColumn
})

/** `sql.header`: the raw header's totals. @category rows */
export const HeaderRow = Schema.Struct({
  total_qty: nullable(IntegerColumn),
  reductor: nullable(DecimalColumn(REDUCTOR_SCALE))
})

/** `sql.knownTickers`, `sql.allTickers`: a ticker. @category rows */
export const TickerRow = Schema.Struct({ ticker: Ticker })

/** `sql.series`: a chosen ticker's weight on a date. @category rows */
export const SeriesRow = Schema.Struct({
  ref_date: DateColumn,
  ticker: Ticker,
  company: TextOrEmpty,
  weight_pct: DecimalColumn(WEIGHT_SCALE)
})
