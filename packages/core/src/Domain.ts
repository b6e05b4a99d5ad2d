/**
 * The domain of b3-pipeline: branded identifiers with strict grammars, exact numbers, and the
 * canonical `Portfolio` every wire format decodes into.
 *
 * Exactness: quantities are `bigint`, weights are integer thousandths of a percent ("3,570" ->
 * 3570), the reductor is a `bigint` in units of 1e-8. No float sits between a payload and storage.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------

/**
 * A B3 index code: `IBOV`, `IBXX`, `SMLL`, `ICO2`. Upper-case letters and digits, starting with a
 * letter, 3 to 6 characters: it can never carry `/`, `..`, quotes or spaces into a key or SQL.
 *
 * @category identifiers
 */
export const IndexCode = Schema.String.pipe(
  Schema.pattern(/^[A-Z][A-Z0-9]{2,5}$/, { message: (i) => `invalid index code ${JSON.stringify(i.actual)}` }),
  Schema.brand("IndexCode")
)
/** @category identifiers */
export type IndexCode = typeof IndexCode.Type

/**
 * A B3 ticker: a four-character root (letters, digits after the first: `B3SA`) then a one- or
 * two-digit class (`PETR4`, `BPAC11`, `AAPL34`, `VINO11`), optionally one trailing letter.
 *
 * @category identifiers
 */
export const Ticker = Schema.String.pipe(
  Schema.pattern(/^[A-Z][A-Z0-9]{3}[0-9]{1,2}[A-Z]?$/, {
    message: (i) => `invalid ticker ${JSON.stringify(i.actual)}`
  }),
  Schema.brand("Ticker")
)
/** @category identifiers */
export type Ticker = typeof Ticker.Type

const isRealDate = (s: string): boolean => {
  const y = Number(s.slice(0, 4))
  const m = Number(s.slice(5, 7))
  const d = Number(s.slice(8, 10))
  return y >= 1900 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

/** @category dates */
export const daysInMonth = (year: number, month: number): number =>
  month === 2 ?
    ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) :
    month === 4 || month === 6 || month === 9 || month === 11
    ? 30
    : 31

/**
 * A trading day, `YYYY-MM-DD`, that exists on the calendar (no 31 February). This is B3's own
 * date (the header date of the payload), never the clock's.
 *
 * @category identifiers
 */
export const RefDate = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}$/, {
    message: (i) => `invalid date ${JSON.stringify(i.actual)}, want YYYY-MM-DD`
  }),
  Schema.filter(isRealDate, { message: (i) => `date ${JSON.stringify(i.actual)} does not exist` }),
  Schema.brand("RefDate")
)
/** @category identifiers */
export type RefDate = typeof RefDate.Type

/** Builds a RefDate from parts, or `undefined` when the day does not exist. @category dates */
export const refDateFromParts = (year: number, month: number, day: number): RefDate | undefined => {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return undefined
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined
  }
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}` as RefDate
}

/** Days since 1970-01-01 (the Parquet DATE / Spark `unix_date` value). @category dates */
export const epochDay = (d: RefDate): number =>
  Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 86_400_000

/** The inverse of `epochDay`. @category dates */
export const fromEpochDay = (n: number): RefDate => new Date(n * 86_400_000).toISOString().slice(0, 10) as RefDate

/** The payload language, which fixes the number and date formats. @category wire */
export const Language = Schema.Literal("pt-br", "en-us")
/** @category wire */
export type Language = typeof Language.Type

/** Where a portfolio came from. @category wire */
export const SourceFormat = Schema.Literal("GetPortfolioDay", "GetTheoricalPortfolio", "CSV")
/** @category wire */
export type SourceFormat = typeof SourceFormat.Type

/** `"1"`: rows by ticker; `"2"`: rows grouped by sector (the same rows plus the sector). @category wire */
export const Segment = Schema.Literal("1", "2")
/** @category wire */
export type Segment = typeof Segment.Type

/**
 * Every index code the B3 endpoints answer for (see fixtures/b3/README.md).
 *
 * @category identifiers
 */
export const ALL_INDEX_CODES: ReadonlyArray<IndexCode> = (
  "AGFS BDRX GPTW IBBC IBBE IBBR IBEE IBEP IBEW IBHB IBLV IBOV IBRA IBSD IBXL IBXX ICO2 ICON IDIV IDVR IEEX " +
  "IFIL IFIX IFNC IGCT IGCX IGNM IMAT IMOB INDX ISEE ITAG IVBX MLCX SMLL UTIL"
).split(" ") as Array<IndexCode>

// ---------------------------------------------------------------------------------------------
// Exact decimals
// ---------------------------------------------------------------------------------------------

/** Scale of a weight: thousandths of a percent. @category decimals */
export const WEIGHT_SCALE = 3
/** Scale of the reductor: 1e-8. @category decimals */
export const REDUCTOR_SCALE = 8

/**
 * Formats an unscaled integer with `scale` decimals, en-US style without grouping:
 * `formatDecimal(3570, 3) === "3.570"`, `formatDecimal(-5n, 2) === "-0.05"`.
 *
 * @category decimals
 */
export const formatDecimal = (unscaled: bigint | number, scale: number): string => {
  const v = BigInt(unscaled)
  const neg = v < 0n
  const digits = (neg ? -v : v).toString().padStart(scale + 1, "0")
  const int = digits.slice(0, digits.length - scale)
  const frac = digits.slice(digits.length - scale)
  return (neg ? "-" : "") + (scale === 0 ? int : `${int}.${frac}`)
}

/**
 * Parses a plain decimal (`"3.570"`, `"-0.05"`, `"12"`) into an unscaled bigint at `scale`;
 * `undefined` if the text is not such a number or has more decimals than `scale`.
 *
 * @category decimals
 */
export const parseDecimal = (text: string, scale: number): bigint | undefined => {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (m === null) return undefined
  const frac = m[3] ?? ""
  if (frac.length > scale) return undefined
  const v = BigInt(m[2] + frac.padEnd(scale, "0"))
  return m[1] === "-" ? -v : v
}

// ---------------------------------------------------------------------------------------------
// The canonical portfolio
// ---------------------------------------------------------------------------------------------

/**
 * One index's portfolio for one day, stored by column: this is what every codec decodes into, and
 * what the raw layer turns into Parquet without a copy per row.
 *
 * Column `i` of every array describes member `i`. `sectors[i]` is `null` in by-ticker data
 * (segment 1, the theoretical portfolio, the by-ticker CSV).
 *
 * @category models
 */
export interface Portfolio {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  readonly language: Language
  readonly format: SourceFormat
  /** `"2"` when rows carry sectors. */
  readonly segment: Segment
  readonly size: number
  readonly tickers: ReadonlyArray<Ticker>
  /** B3's short trading name (`ITAUUNIBANCO`), trimmed. */
  readonly assets: ReadonlyArray<string>
  /** B3's fixed-width type (`"ON  ED  NM"`), exactly as sent. */
  readonly types: ReadonlyArray<string>
  readonly sectors: ReadonlyArray<string | null>
  /** Weight in thousandths of a percent: 2.663% is 2663. */
  readonly weights: Int32Array
  /** Theoretical quantity, exact. */
  readonly quantities: BigInt64Array
  /** The header/footer total, equal to the sum of `quantities`. */
  readonly totalQuantity: bigint
  /** The index reductor in units of 1e-8, when the payload carries one. */
  readonly reductor: bigint | null
}

/**
 * The share class of a B3 `type`: its first word (`"PNA ATZ N1"` -> `"PNA"`, `"CI  ER"` -> `"CI"`).
 *
 * @category models
 */
export const shareClassOf = (type: string): string => {
  const t = type.trimStart()
  const sp = t.indexOf(" ")
  return sp === -1 ? t : t.slice(0, sp)
}
