/**
 * Stage 2 (parse): decoders and encoders for every B3 wire format (see fixtures/b3/README.md).
 *
 * Decoding validates each page's envelope (`page`, `header`) with a Schema once, then converts the
 * rows with a hand-written exact path (char-code number parsers, no Schema and no float per row)
 * straight into the columnar `Portfolio`. Every decode checks the invariants B3's data always
 * satisfies: quantities sum to the header/footer total exactly, weights sum to 100% within the
 * rounding of their rows, no ticker twice, and (by sector) each row's `partAcum` is its sector's sum.
 *
 * Language rule (`language` option absent): the payload's labels decide first (`header.text` /
 * `header.textReductor` of GetPortfolioDay, the footers and title of the CSV: "Quantidade Teórica
 * Total"/"Redutor"/"Carteira" say pt-br, "Total Theorethical Quantity" [sic]/"Reductor" say en-us).
 * Without labels, the numbers decide, each read knowing its kind: a separator inside a quantity is a
 * group separator (quantities are integers); the one separator of a weight is the decimal one
 * (weights are at most 100 and never grouped); a reductor is decided by its last separator when it
 * has two kinds, by grouping when one repeats, and says nothing when it is a lone `x.yyy`. The first
 * number that decides fixes the language (header first, then rows in order); a number of the other
 * locale later fails as `BadNumber`, so a mixed payload is an error and never a wrong number. When
 * nothing decides, `defaultLanguage` is used if given (decodePayload passes the request's language),
 * else the decode fails with `AmbiguousLanguage`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as B3Csv from "./B3Csv.js"
import * as B3Json from "./B3Json.js"
import { B3ParseError } from "./B3ParseError.js"
import { ALL_INDEX_CODES } from "./Domain.js"
import type { Language, Portfolio, RefDate, SourceFormat } from "./Domain.js"
import type { DecodeOptions } from "./internal/wireDecode.js"
import { textBytes } from "./internal/wireDecode.js"
import { Fail, fail, parseError } from "./internal/wireRows.js"
import { decodeUtf8, fromBase64Body, sniffText } from "./internal/wireText.js"
import type { Payload } from "./PortfolioSource.js"

export type { DecodeOptions }

// Dispatch -------------------------------------------------------------------------------------

const firstByte = (bytes: Uint8Array): number => {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b
  return -1
}

/**
 * Decodes the pages after telling their format. `parsed[p]`, when given, is page `p`'s JSON value
 * as the source already parsed it from exactly these bytes (see `PayloadPage.json`): it is used
 * instead of parsing the page again.
 */
const decodeUnsafe = (
  pages: ReadonlyArray<Uint8Array>,
  options: DecodeOptions,
  parsed?: ReadonlyArray<unknown>
): Portfolio => {
  const requested = options.format ?? "auto"
  const [page0] = pages
  if (page0 === undefined) return fail(requested, "Empty", "no pages")
  const json0 = parsed?.[0]
  if (json0 !== undefined && (requested === "GetPortfolioDay" || requested === "GetTheoricalPortfolio")) {
    return B3Json.decodeUnsafe(requested, pages, json0, options, parsed)
  }
  // what the first page is, before any format's rules: text (BOM, UTF-16), binary, HTML
  const b0 = textBytes(requested, page0, requested === "CSV" ? undefined : 1)
  const c = firstByte(b0)
  if (c === -1) return fail(requested, "Empty", "the payload is empty (no bytes, or only blanks)")
  if (requested === "CSV") return B3Csv.decodePayloadUnsafe(pages, b0, options)
  if (requested === "auto") {
    if (c !== 0x7b && c !== 0x5b) {
      // Not a JSON object: a quoted/plain base64 download body, or a CSV file.
      if (c !== 0x22 || fromBase64Body(decodeUtf8(b0)) !== undefined) {
        return B3Csv.decodePayloadUnsafe(pages, b0, options)
      }
      return fail("auto", "NotB3Json", "a JSON string that is not a base64 CSV download", {
        value: decodeUtf8(b0.subarray(0, 80))
      })
    }
    const json = B3Json.parsePage("auto", b0, 1, true)
    const format = B3Json.looksTheoretical(json) ? "GetTheoricalPortfolio" : "GetPortfolioDay"
    return B3Json.decodeUnsafe(format, pages, json, options)
  }
  return B3Json.decodeUnsafe(requested, pages, B3Json.parsePage(requested, b0, 1, true), options, parsed)
}

const catchFail = <A>(f: () => A): Either.Either<A, B3ParseError> => {
  try {
    return Either.right(f())
  } catch (e) {
    if (e instanceof Fail) return Either.left(e.error)
    throw e
  }
}

/**
 * The B3 method a saved file holds, from its first bytes (BOM and UTF-16 understood): a JSON
 * object with a header `date` is `GetPortfolioDay`, one without is `GetTheoricalPortfolio`;
 * anything else (CSV, base64 body, and what is not a payload at all) is read as the CSV download,
 * whose decoder then says what it saw.
 *
 * @category decoding
 */
export const detectMethod = (
  bytes: Uint8Array
): "GetPortfolioDay" | "GetTheoricalPortfolio" | "GetDownloadPortfolioDay" => {
  const s = sniffText(bytes.subarray(0, Math.min(bytes.length, 8192) & ~1))
  if (s._tag !== "Text") return "GetDownloadPortfolioDay"
  const head = decodeUtf8(s.bytes).trimStart()
  if (head.startsWith("{")) return /"date"\s*:/.test(head) ? "GetPortfolioDay" : "GetTheoricalPortfolio"
  if (head.startsWith("[")) return "GetTheoricalPortfolio" // JSON all the same: its decoder says what is wrong
  return "GetDownloadPortfolioDay"
}

/** Decodes the pages of one payload (one page for CSV). @category decoding */
export const decode = (
  pages: ReadonlyArray<Uint8Array>,
  options: DecodeOptions
): Either.Either<Portfolio, B3ParseError> => catchFail(() => decodeUnsafe(pages, options))

// ---------------------------------------------------------------------------------------------
// Plausibility (on ingest): a payload can be well-formed and still not be a B3 portfolio
// ---------------------------------------------------------------------------------------------

/**
 * The first day any B3 index portfolio applies to: the Ibovespa, B3's oldest index, was first
 * computed on the trading session of 2 January 1968 (base 100). Sources: B3's Ibovespa pages
 * ("criado em 1968"), InfoMoney "Onde tudo começou" ("o pregão de 2 de janeiro de 1968"), and
 * pt.wikipedia "Ibovespa" (a theoretical portfolio "constituída em 2 de janeiro de 1968").
 *
 * @category plausibility
 */
export const FIRST_PORTFOLIO_DATE = "1968-01-02" as RefDate

/**
 * Length limits of the text fields, far above any B3 value: trading names are at most 12
 * characters (`ITAUUNIBANCO`), `type` is fixed-width (10, `"ON      NM"`), the longest sector text
 * seen is 49 characters. Tickers are bounded by their grammar (at most 7).
 *
 * @category plausibility
 */
export const FIELD_LIMITS = { asset: 40, type: 16, sector: 120 } as const

/** Default payload size limit: 64 MiB, some 1000x the largest real payload (IBRA, ~40 KB). @category plausibility */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024

/** @category plausibility */
export interface PlausibilityOptions {
  /** Accept an index code outside `ALL_INDEX_CODES` (`--allow-unknown-index`). */
  readonly allowUnknownIndex?: boolean
  /** The clock's time, for tests (default: now). "Today" is its date in Sao Paulo. */
  readonly now?: Date
  /** Largest payload accepted, all pages together (default `DEFAULT_MAX_PAYLOAD_BYTES`). */
  readonly maxPayloadBytes?: number
}

const saoPaulo = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Sao_Paulo",
  year: "numeric",
  month: "2-digit",
  day: "2-digit"
})

/** The date in Sao Paulo at `now`, `YYYY-MM-DD`. @category plausibility */
export const saoPauloDate = (now: Date): RefDate => saoPaulo.format(now) as RefDate

const addDays = (d: RefDate, days: number): RefDate =>
  new Date(Date.parse(`${d}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10) as RefDate

const knownIndex = new Set<string>(ALL_INDEX_CODES)

/**
 * The checks a well-formed portfolio must still pass before it is stored: its date is not after
 * today in Sao Paulo plus one day (B3 publishes the next session's portfolio the evening before)
 * nor before `FIRST_PORTFOLIO_DATE`; its index is one B3 publishes (unless allowed); no text field
 * is longer than `FIELD_LIMITS`.
 *
 * @category plausibility
 */
export const checkPlausible = (
  p: Portfolio,
  options: PlausibilityOptions = {}
): Either.Either<Portfolio, B3ParseError> => {
  const format = p.format
  const latest = addDays(saoPauloDate(options.now ?? new Date()), 1)
  if (p.refDate > latest) {
    return Either.left(parseError(
      format,
      "ImplausibleDate",
      `the portfolio's date ${p.refDate} is in the future (today in Sao Paulo is ${addDays(latest, -1)})`,
      { field: format === "CSV" ? "title" : "header.date", value: p.refDate }
    ))
  }
  if (p.refDate < FIRST_PORTFOLIO_DATE) {
    return Either.left(parseError(
      format,
      "ImplausibleDate",
      `the portfolio's date ${p.refDate} is before B3's first published portfolio (${FIRST_PORTFOLIO_DATE})`,
      { field: format === "CSV" ? "title" : "header.date", value: p.refDate }
    ))
  }
  if (options.allowUnknownIndex !== true && !knownIndex.has(p.indexCode)) {
    return Either.left(parseError(
      format,
      "UnknownIndex",
      `${p.indexCode} is not an index B3 publishes (${ALL_INDEX_CODES.length} known, e.g. IBOV, SMLL): ` +
        "check --index, or pass --allow-unknown-index for a new index",
      { field: format === "CSV" ? "title" : "indexCode", value: p.indexCode }
    ))
  }
  for (let i = 0; i < p.size; i++) {
    const a = p.assets[i] ?? ""
    const t = p.types[i] ?? ""
    const sector = p.sectors[i]
    const [field, text, limit] = a.length > FIELD_LIMITS.asset ?
      ["asset", a, FIELD_LIMITS.asset] as const :
      t.length > FIELD_LIMITS.type ?
      ["type", t, FIELD_LIMITS.type] as const :
      sector !== null && sector !== undefined && sector.length > FIELD_LIMITS.sector ?
      ["segment", sector, FIELD_LIMITS.sector] as const :
      [undefined, "", 0] as const
    if (field !== undefined) {
      return Either.left(parseError(
        format,
        "FieldTooLong",
        `${field} is ${text.length} characters long, over the limit of ${limit}`,
        { row: i + 1, field, value: text }
      ))
    }
  }
  return Either.right(p)
}

/** The size limit, checked before decoding (`TooLarge`). @category plausibility */
export const checkSize = (
  format: string,
  bytes: number,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES
): Either.Either<number, B3ParseError> =>
  bytes > maxPayloadBytes ?
    Either.left(parseError(
      format,
      "TooLarge",
      `the payload is ${bytes} bytes, over the limit of ${maxPayloadBytes} (raise it with --max-payload-mb)`,
      { value: String(bytes) }
    )) :
    Either.right(bytes)

/** What the caller states about a payload (`--language`). @category decoding */
export interface PayloadOptions {
  /** The language the user states (`--language`): a payload saying otherwise fails with `LanguageMismatch`. */
  readonly language?: Language
}

/** The options of `decodeForIngest`: what the caller states, and the plausibility settings. @category decoding */
export interface IngestOptions extends PayloadOptions, PlausibilityOptions {}

const formatOf = (payload: Payload): SourceFormat =>
  payload.request.method === "GetDownloadPortfolioDay" ? "CSV" : payload.request.method

/**
 * Decodes a fetched payload, taking format, index, language and date from its request. Pure
 * decoding: the date may be any real date (see `decodeForIngest` for what ingest checks on top).
 *
 * @category decoding
 */
export const decodePayload = (
  payload: Payload,
  options: PayloadOptions = {}
): Effect.Effect<Portfolio, B3ParseError> =>
  Effect.suspend(() =>
    catchFail(() =>
      decodeUnsafe(
        payload.pages.map((p) => p.bytes),
        {
          format: formatOf(payload),
          indexCode: payload.request.indexCode,
          defaultLanguage: payload.request.language,
          ...(options.language !== undefined ? { language: options.language } : {}),
          ...(payload.refDate !== undefined ? { refDate: payload.refDate } : {})
        },
        payload.pages.map((p) => p.json)
      )
    )
  ).pipe(Effect.withSpan("B3Wire.decodePayload", {
    attributes: { index: payload.request.indexCode, method: payload.request.method, pages: payload.pages.length }
  }))

/**
 * What the pipeline stores: the payload's size checked first (`checkSize`), then `decodePayload`,
 * then `checkPlausible`. Every failure is a `B3ParseError` (the pipeline quarantines it).
 *
 * @category decoding
 */
export const decodeForIngest = (
  payload: Payload,
  options: IngestOptions = {}
): Effect.Effect<Portfolio, B3ParseError> =>
  Effect.suspend(() => {
    const size = checkSize(
      formatOf(payload),
      payload.pages.reduce((n, p) => n + p.bytes.byteLength, 0),
      options.maxPayloadBytes
    )
    return Either.isLeft(size) ? Effect.fail(size.left) : decodePayload(payload, options)
  }).pipe(Effect.flatMap((p) => checkPlausible(p, options)))

/** Re-exported so callers can match on it without a second import. @category errors */
export { B3ParseError }
