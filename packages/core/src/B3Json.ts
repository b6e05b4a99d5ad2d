/**
 * The JSON decoder of stage 2 (parse): `GetPortfolioDay` and `GetTheoricalPortfolio` pages, and
 * the ONE definition of their page envelope (`PageInfo`, `PageEnvelope`, the two headers), which
 * the HTTP source checks too. Entry point for callers: `B3Wire.decode` (format detection); this
 * module is its JSON half.
 *
 * Each page's envelope is validated with a Schema once, then the rows go through the exact path of
 * `internal/wireRows.ts` (no Schema and no float per row). A page the source already parsed (the
 * HTTP source's `PayloadPage.json`) is not parsed again.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Language, Portfolio, RefDate, SourceFormat } from "./Domain.js"
import type { DecodeOptions } from "./internal/wireDecode.js"
import {
  checkIndexCode,
  decideLanguage,
  isObject,
  parseReductorField,
  parseTotal,
  textBytes
} from "./internal/wireDecode.js"
import {
  BAD,
  parseShortDate,
  parseWeight,
  separatorsOf,
  voteQuantity,
  voteReductor,
  voteWeight
} from "./internal/wireNumbers.js"
import { fail, RowSink } from "./internal/wireRows.js"
import { decodeUtf8 } from "./internal/wireText.js"

// ---------------------------------------------------------------------------------------------
// The page envelope (one Schema decode per page)
// ---------------------------------------------------------------------------------------------

const Count = Schema.Int.pipe(Schema.nonNegative())

/** A page's place in the pagination, the same on every JSON method. @category envelope */
export const PageInfo = Schema.Struct({
  pageNumber: Schema.Int.pipe(Schema.positive()),
  pageSize: Count,
  totalRecords: Count,
  totalPages: Count
})
/** @category envelope */
export type PageInfo = typeof PageInfo.Type

const OptText = Schema.optional(Schema.NullOr(Schema.String))
const Rows = Schema.declare((u: unknown): u is ReadonlyArray<unknown> => Array.isArray(u), {
  identifier: "Array",
  description: "an array of rows"
})

/**
 * What every JSON page holds whatever its method: `page` and the `results` array (rows checked
 * one by one later). The HTTP source checks this on each page it fetches. @category envelope
 */
export const PageEnvelope = Schema.Struct({ page: PageInfo, results: Rows })
/** @category envelope */
export type PageEnvelope = typeof PageEnvelope.Type
/** @category envelope */
export const isPageEnvelope: (u: unknown) => u is PageEnvelope = Schema.is(PageEnvelope)

/** A `GetPortfolioDay` page. @category envelope */
export const DayEnvelope = Schema.Struct({
  page: PageInfo,
  header: Schema.Struct({
    date: Schema.String,
    text: OptText,
    part: OptText,
    partAcum: OptText,
    textReductor: OptText,
    reductor: OptText,
    theoricalQty: Schema.String
  }),
  results: Rows
})
/** A `GetTheoricalPortfolio` page. @category envelope */
export const TheoEnvelope = Schema.Struct({
  page: PageInfo,
  header: Schema.Struct({ part: OptText, theoricalQty: Schema.String, reductor: OptText }),
  results: Rows
})
/** @category envelope */
export type DayEnvelope = typeof DayEnvelope.Type
/** @category envelope */
export type TheoEnvelope = typeof TheoEnvelope.Type
type Envelope = DayEnvelope | TheoEnvelope
const decodeDayEnvelope = Schema.decodeUnknownEither(DayEnvelope)
const decodeTheoEnvelope = Schema.decodeUnknownEither(TheoEnvelope)
// The happy path validates the parts with `Schema.is` (no copy; measured ~10x cheaper than decoding
// the whole root, whose `results` array is checked by hand); a failure re-runs the full decode to
// say what and where.
const isPageInfo = Schema.is(PageInfo)
const isDayHeader = Schema.is(DayEnvelope.fields.header)
const isTheoHeader = Schema.is(TheoEnvelope.fields.header)

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * The JSON value of one page (its text sniffed first: BOM, UTF-16, binary, HTML), or a thrown
 * `Fail` (`NotJson` and the sniff's reasons). `sniffed`: the bytes are already the sniffed text.
 */
export const parsePage = (format: string, bytes: Uint8Array, page: number, sniffed = false): unknown => {
  const text = decodeUtf8(sniffed ? bytes : textBytes(format, bytes, page))
  try {
    return JSON.parse(text)
  } catch (e) {
    return fail(format, "NotJson", `starts like JSON but does not parse: ${(e as Error).message}`, {
      page,
      value: text.trimStart().slice(0, 80)
    })
  }
}

const envelopeOf = (format: SourceFormat, json: unknown, page: number): Envelope => {
  if (
    isObject(json) && Array.isArray(json.results) && isPageInfo(json.page) &&
    (format === "GetPortfolioDay" ? isDayHeader(json.header) : isTheoHeader(json.header))
  ) {
    return json as unknown as Envelope
  }
  if (!isObject(json) || !("page" in json || "header" in json || "results" in json)) {
    return fail(
      format,
      "NotB3Json",
      `JSON, but not a B3 ${format} body (no page, header or results): ${
        isObject(json) ?
          `its keys are ${Object.keys(json).slice(0, 6).join(", ") || "none"}` :
          `a JSON ${Array.isArray(json) ? "array" : json === null ? "null" : typeof json}`
      }`,
      { page }
    )
  }
  const r = format === "GetPortfolioDay" ? decodeDayEnvelope(json) : decodeTheoEnvelope(json)
  if (Either.isRight(r)) return r.right
  const issues = ParseResult.ArrayFormatter.formatErrorSync(r.left)
  const first = issues[0]
  const field = first !== undefined && first.path.length > 0 ? first.path.join(".") : undefined
  return fail(format, "BadEnvelope", first?.message ?? "not a B3 envelope", { page, field })
}

const str = (u: unknown): string | undefined => typeof u === "string" ? u : undefined

/** Votes from JSON numbers: header first, then every row, first decisive wins. */
const jsonVotes =
  (format: SourceFormat, e0: Envelope, envelopes: ReadonlyArray<Envelope>) => (): Language | undefined => {
    const h = e0.header
    const first = voteQuantity(h.theoricalQty) ?? (h.reductor ? voteReductor(h.reductor) : undefined) ??
      (h.part ? voteWeight(h.part) : undefined)
    if (first !== undefined) return first
    for (const env of envelopes) {
      for (const row of env.results) {
        if (!isObject(row)) continue
        const q = str(row.theoricalQty)
        const p = str(row.part)
        const a = format === "GetPortfolioDay" ? str(row.partAcum) : undefined
        const v = (q !== undefined ? voteQuantity(q) : undefined) ?? (p !== undefined ? voteWeight(p) : undefined) ??
          (a !== undefined ? voteWeight(a) : undefined)
        if (v !== undefined) return v
      }
    }
    return undefined
  }

/**
 * Decodes the pages of one JSON payload, page 1 already parsed (`firstJson`); `parsed[p]`, when
 * given, is page `p`'s value as the source parsed it from the same bytes. Throws `Fail`: callers
 * go through `B3Wire.decode` or `decode` below.
 */
export const decodeUnsafe = (
  format: "GetPortfolioDay" | "GetTheoricalPortfolio",
  pages: ReadonlyArray<Uint8Array>,
  firstJson: unknown,
  options: DecodeOptions,
  parsed?: ReadonlyArray<unknown>
): Portfolio => {
  const indexCode = checkIndexCode(format, options.indexCode, "indexCode")
  const e0 = envelopeOf(format, firstJson, 1)
  const envelopes: Array<Envelope> = [e0]
  pages.forEach((bytes, p) => {
    if (p > 0) envelopes.push(envelopeOf(format, parsed?.[p] ?? parsePage(format, bytes, p + 1), p + 1))
  })
  // Pagination: every page agrees with the first, and pages come in order.
  let rowCount = 0
  for (const [p, e] of envelopes.entries()) {
    rowCount += e.results.length
    if (e.page.pageNumber !== p + 1) {
      fail(format, "PageMismatch", `page ${p + 1} says it is page ${e.page.pageNumber}`, {
        page: p + 1,
        field: "page.pageNumber",
        value: String(e.page.pageNumber)
      })
    }
    if (p === 0) continue
    for (const k of ["totalPages", "totalRecords", "pageSize"] as const) {
      if (e.page[k] !== e0.page[k]) {
        fail(format, "PageMismatch", `page.${k} differs from page 1's (${e0.page[k]})`, {
          page: p + 1,
          field: `page.${k}`,
          value: String(e.page[k])
        })
      }
    }
    const h0 = e0.header as Record<string, unknown>
    const h = e.header as Record<string, unknown>
    for (const k of Object.keys(h0)) {
      if (h[k] !== h0[k]) {
        fail(format, "PageMismatch", `header.${k} differs from page 1's (${String(h0[k])})`, {
          page: p + 1,
          field: `header.${k}`,
          value: h[k]
        })
      }
    }
  }
  if (rowCount === 0) fail(format, "Empty", "results is empty", { field: "results" })
  if (e0.page.totalPages !== envelopes.length) {
    fail(format, "PageMismatch", `totalPages is ${e0.page.totalPages} but ${envelopes.length} page(s) were given`, {
      field: "page.totalPages",
      value: String(e0.page.totalPages)
    })
  }
  if (e0.page.totalRecords !== rowCount) {
    fail(format, "PageMismatch", `totalRecords is ${e0.page.totalRecords} but the pages hold ${rowCount} rows`, {
      field: "page.totalRecords",
      value: String(e0.page.totalRecords)
    })
  }

  const day = format === "GetPortfolioDay" ? (e0 as DayEnvelope) : undefined
  const language = decideLanguage(
    format,
    options,
    day !== undefined ? [day.header.text, day.header.textReductor] : [],
    jsonVotes(format, e0, envelopes)
  )
  const sep = separatorsOf(language)

  let refDate: RefDate
  if (day !== undefined) {
    const d = parseShortDate(day.header.date, language)
    if (d === undefined) {
      return fail(
        format,
        "BadDate",
        `header.date is not a real ${language === "pt-br" ? "DD/MM/YY" : "MM/DD/YY"} date`,
        {
          field: "header.date",
          value: day.header.date
        }
      )
    }
    if (options.refDate !== undefined && options.refDate !== d) {
      fail(format, "BadDate", `the payload's date ${d} differs from --date ${options.refDate}`, {
        field: "header.date",
        value: day.header.date
      })
    }
    refDate = d
  } else {
    if (options.refDate === undefined) {
      return fail(
        format,
        "MissingDate",
        "GetTheoricalPortfolio carries no date: give the date to file it under with --date YYYY-MM-DD"
      )
    }
    refDate = options.refDate
  }

  const totalQuantity = parseTotal(format, e0.header.theoricalQty, sep, language, "header.theoricalQty")
  const reductor = parseReductorField(format, e0.header.reductor, sep, language, "header.reductor")
  const hp = e0.header.part
  if (typeof hp === "string" && hp !== "" && parseWeight(hp, sep) === BAD) {
    fail(format, "BadNumber", `header.part is not a ${language} weight`, { field: "header.part", value: hp })
  }

  // Rows: the exact fast path.
  const firstRow = e0.results[0]
  const sectorMode = day !== undefined && isObject(firstRow) && typeof firstRow.segment === "string"
  const sink = new RowSink(format, sep, language, rowCount)
  let rowNo = 0
  for (const [p, { results }] of envelopes.entries()) {
    for (let i = 0; i < results.length; i++) {
      rowNo++
      const r = results[i]
      if (!isObject(r)) {
        fail(format, "BadField", "a row must be an object", { row: rowNo, page: p + 1, field: "results", value: r })
      }
      const o = r as Record<string, unknown>
      sink.add(
        rowNo,
        p + 1,
        o.cod,
        o.asset,
        o.type,
        o.part,
        o.theoricalQty,
        day !== undefined ? o.segment : undefined,
        day !== undefined ? o.partAcum : undefined,
        sectorMode
      )
    }
  }
  return sink.finish({
    indexCode,
    refDate,
    segment: sectorMode ? "2" : "1",
    totalQuantity,
    reductor,
    totalField: "header.theoricalQty"
  })
}

/** A JSON page without a header `date`, or whose rows carry `cont`, is `GetTheoricalPortfolio`. */
export const looksTheoretical = (json: unknown): boolean => {
  if (!isObject(json)) return false
  const h = json.header
  if (isObject(h) && "date" in h) return false
  const rows = json.results
  if (Array.isArray(rows) && rows.length > 0 && isObject(rows[0])) return "cont" in rows[0]
  return isObject(h) && !("date" in h)
}
