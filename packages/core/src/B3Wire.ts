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
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { B3ParseError } from "./B3ParseError.js"
import { ALL_INDEX_CODES } from "./Domain.js"
import type { IndexCode, Language, Portfolio, RefDate, SourceFormat } from "./Domain.js"
import type { Separators } from "./internal/wireNumbers.js"
import {
  BAD,
  BIG,
  bigResult,
  formatQuantity,
  formatReductor,
  formatShortDate,
  formatWeight,
  OVERFLOW,
  parseQuantity,
  parseReductor,
  parseShortDate,
  parseWeight,
  separatorsOf,
  voteLabel,
  voteQuantity,
  voteReductor,
  voteWeight
} from "./internal/wireNumbers.js"
import { Fail, fail, INDEX_CODE, parseError, RowSink } from "./internal/wireRows.js"
import {
  decodeCsvText,
  decodeUtf8,
  encodeLatin1,
  encodeUtf8,
  fromBase64Body,
  sniffText,
  toBase64
} from "./internal/wireText.js"
import type { Payload } from "./PortfolioSource.js"

/** @category decoding */
export interface DecodeOptions {
  /** `auto` (default) tells JSON from CSV and GetPortfolioDay from GetTheoricalPortfolio by content. */
  readonly format?: SourceFormat | "auto"
  /**
   * The payload's language as the user states it (`--language`): numbers are read in it, and a
   * payload whose labels or numbers say the other language fails with `LanguageMismatch`.
   */
  readonly language?: Language
  /** Used only when the payload gives no evidence of its language (see the module comment). */
  readonly defaultLanguage?: Language
  /** JSON payloads carry no index code: required for them; for CSV it must match the title's. */
  readonly indexCode?: IndexCode
  /** Required when the payload has no date (GetTheoricalPortfolio); must match the payload's date otherwise. */
  readonly refDate?: RefDate
}

// ---------------------------------------------------------------------------------------------
// Envelopes (one Schema decode per page)
// ---------------------------------------------------------------------------------------------

const Count = Schema.Int.pipe(Schema.nonNegative())
const PageInfo = Schema.Struct({
  pageNumber: Schema.Int.pipe(Schema.positive()),
  pageSize: Count,
  totalRecords: Count,
  totalPages: Count
})
const OptText = Schema.optional(Schema.NullOr(Schema.String))
const Rows = Schema.declare((u: unknown): u is ReadonlyArray<unknown> => Array.isArray(u), {
  identifier: "Array",
  description: "an array of rows"
})
const DayEnvelope = Schema.Struct({
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
const TheoEnvelope = Schema.Struct({
  page: PageInfo,
  header: Schema.Struct({ part: OptText, theoricalQty: Schema.String, reductor: OptText }),
  results: Rows
})
type DayEnvelope = typeof DayEnvelope.Type
type TheoEnvelope = typeof TheoEnvelope.Type
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

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text bytes of a page (BOM dropped, UTF-16 converted), or the typed reason they are not text. */
const textBytes = (format: string, bytes: Uint8Array, page: number | undefined): Uint8Array => {
  const s = sniffText(bytes)
  switch (s._tag) {
    case "Text":
      return s.bytes
    case "HtmlPage":
      return fail(format, "HtmlPage", s.detail, { page, value: s.value })
    default:
      return fail(format, s._tag, s.detail, { page })
  }
}

const parseJsonPage = (format: string, bytes: Uint8Array, page: number, sniffed = false): unknown => {
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

const checkIndexCode = (format: string, code: string | undefined, field: string): IndexCode => {
  if (code === undefined) {
    return fail(format, "BadIndexCode", "JSON payloads carry no index code: give it with --index CODE", { field })
  }
  if (!INDEX_CODE.test(code)) return fail(format, "BadIndexCode", "invalid index code", { field, value: code })
  return code as IndexCode
}

const parseTotal = (format: string, text: string, sep: Separators, language: Language, field: string): bigint => {
  const q = parseQuantity(text, sep)
  if (q >= 0) return BigInt(q)
  if (q === BIG) return bigResult.value
  if (q === OVERFLOW) return fail(format, "Overflow", "total quantity does not fit in int64", { field, value: text })
  return fail(format, "BadNumber", `total quantity is not a ${language} integer`, { field, value: text })
}

const parseReductorField = (
  format: string,
  text: string | null | undefined,
  sep: Separators,
  language: Language,
  field: string
): bigint | null => {
  if (text === null || text === undefined || text.trim() === "") return null
  const r = parseReductor(text, sep)
  if (r === "overflow") {
    return fail(format, "Overflow", "reductor does not fit in int64 at 1e-8", { field, value: text })
  }
  if (r === undefined) {
    return fail(format, "BadNumber", `reductor is not a ${language} number with at most 8 decimals`, {
      field,
      value: text
    })
  }
  return r
}

/** The decided language, or a failure; `votes` yields candidate evidence lazily, first wins. */
const decideLanguage = (
  format: string,
  options: DecodeOptions,
  labels: ReadonlyArray<string | null | undefined>,
  votes: () => Language | undefined
): Language => {
  let byLabel: Language | undefined
  let label: string | undefined
  for (const l of labels) {
    if (typeof l !== "string") continue
    const v = voteLabel(l)
    if (v === undefined) continue
    if (byLabel !== undefined && byLabel !== v) {
      return fail(format, "AmbiguousLanguage", "the payload's labels are in both Portuguese and English", { value: l })
    }
    byLabel = v
    label = l
  }
  const stated = options.language
  if (stated !== undefined) {
    // a stated language must agree with what the payload says of itself
    const seen = byLabel ?? votes()
    if (seen !== undefined && seen !== stated) {
      return fail(
        format,
        "LanguageMismatch",
        `--language ${stated} was given but the payload is ${seen} (${
          label !== undefined ? "its labels" : "its numbers"
        } say so): drop --language or give --language ${seen}`,
        label !== undefined ? { value: label } : {}
      )
    }
    return stated
  }
  if (byLabel !== undefined) return byLabel
  const v = votes()
  if (v !== undefined) return v
  if (options.defaultLanguage !== undefined) return options.defaultLanguage
  return fail(
    format,
    "AmbiguousLanguage",
    "no label and no number tells pt-br from en-us: give it with --language pt-br or --language en-us"
  )
}

const str = (u: unknown): string | undefined => typeof u === "string" ? u : undefined

/** Votes from JSON numbers: header first, then every row, first decisive wins. */
const jsonVotes = (format: SourceFormat, envelopes: ReadonlyArray<Envelope>) => (): Language | undefined => {
  const h = envelopes[0]!.header
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

const decodeJson = (
  format: "GetPortfolioDay" | "GetTheoricalPortfolio",
  pages: ReadonlyArray<Uint8Array>,
  firstJson: unknown,
  options: DecodeOptions
): Portfolio => {
  const indexCode = checkIndexCode(format, options.indexCode, "indexCode")
  const envelopes: Array<Envelope> = []
  for (let p = 0; p < pages.length; p++) {
    const json = p === 0 ? firstJson : parseJsonPage(format, pages[p]!, p + 1)
    envelopes.push(envelopeOf(format, json, p + 1))
  }
  // Pagination: every page agrees with the first, and pages come in order.
  const e0 = envelopes[0]!
  let rowCount = 0
  for (let p = 0; p < envelopes.length; p++) {
    const e = envelopes[p]!
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
    jsonVotes(format, envelopes)
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
  for (let p = 0; p < envelopes.length; p++) {
    const results = envelopes[p]!.results
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

// CSV ------------------------------------------------------------------------------------------

const TITLE = /^\s*(\S+)\s+-\s+(.*?)\s*(\d{1,2}\/\d{1,2}\/(?:\d{4}|\d{2}))\s*$/
const isTotalLabel = (s: string): boolean => /^Quantidade Te|Theoret?h?ical Quantity|Quantity Total/i.test(s.trim())
const firstField = (line: string): string => {
  const at = line.indexOf(";")
  return at === -1 ? line : line.slice(0, at)
}
const isReductorLabel = (s: string): boolean => /^(Redutor|Reductor)\b/i.test(s.trim())

const decodeCsv = (bytes: Uint8Array, options: DecodeOptions): Portfolio => {
  const format = "CSV"
  const { text } = decodeCsvText(textBytes(format, bytes, undefined))
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1)
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop()
  const title = TITLE.exec(lines[0] ?? "")
  if (title === null) {
    const t = text.trimStart()
    if (t.startsWith("{") || t.startsWith("[")) {
      return fail(format, "NotB3Csv", "a JSON document where B3's CSV download was expected", { value: t.slice(0, 80) })
    }
    return fail(format, "NotB3Csv", "the first line is not a title like \"IBOV - Carteira do Dia 03/10/25\"", {
      value: (lines[0] ?? "").slice(0, 80)
    })
  }
  const code = title[1]!
  if (!INDEX_CODE.test(code)) return fail(format, "BadIndexCode", "invalid index code in the title", { value: code })
  if (options.indexCode !== undefined && options.indexCode !== code) {
    fail(format, "BadIndexCode", `the title's index ${code} differs from --index ${options.indexCode}`, {
      value: code
    })
  }
  const header = (lines[1] ?? "").split(";")
  if (header.length > 0 && header[header.length - 1] === "") header.pop()
  const h0 = (header[0] ?? "").trim()
  const sectorMode = header.length === 7 && /^(Setor|Sector)/i.test(h0)
  if (!sectorMode && !(header.length === 5 && /^C/i.test(h0))) {
    return fail(format, "NotB3Csv", "the second line is not B3's column header (5 columns, or 7 by sector)", {
      value: (lines[1] ?? "").slice(0, 80)
    })
  }
  const cols = sectorMode ? 7 : 5
  // Rows up to the total footer, then the optional reductor footer.
  // the total footer is the last line but one or two: search from the end, not a regex per row
  let end = lines.length - 1
  while (end >= 2 && !isTotalLabel(firstField(lines[end]!))) end--
  if (end < 2) {
    return fail(format, "BadEnvelope", "no \"Quantidade Teórica Total\" footer (truncated file?)", {
      field: "footer"
    })
  }
  const totalFields = lines[end]!.split(";").slice(1).filter((f) => f.trim() !== "")
  let reductorText: string | undefined
  for (let i = end + 1; i < lines.length; i++) {
    const l = lines[i]!
    if (l.trim() === "") continue
    const f = l.split(";")
    if (isReductorLabel(f[0]!) && reductorText === undefined) {
      reductorText = f.slice(1).find((x) => x.trim() !== "") ?? ""
    } else {
      fail(format, "NotB3Csv", "unexpected line after the footer", { value: l })
    }
  }
  const totalText = totalFields[0]
  if (totalText === undefined) {
    return fail(format, "BadEnvelope", "the total footer has no total", { field: "footer", value: lines[end] })
  }

  const language = decideLanguage(format, options, [lines[end]!.split(";", 1)[0], lines[0], h0], () => {
    const v = voteQuantity(totalText) ?? (reductorText ? voteReductor(reductorText) : undefined)
    if (v !== undefined) return v
    for (let i = 2; i < end; i++) {
      const f = lines[i]!.split(";")
      const q = f[cols - 2]
      const p = f[cols - 1]
      const w = (q !== undefined ? voteQuantity(q) : undefined) ?? (p !== undefined ? voteWeight(p) : undefined)
      if (w !== undefined) return w
    }
    return undefined
  })
  const sep = separatorsOf(language)
  const refDate = parseShortDate(title[3]!, language)
  if (refDate === undefined) {
    return fail(
      format,
      "BadDate",
      `the title's date is not a real ${language === "pt-br" ? "DD/MM/YY" : "MM/DD/YY"} date`,
      {
        field: "title",
        value: title[3]
      }
    )
  }
  if (options.refDate !== undefined && options.refDate !== refDate) {
    fail(format, "BadDate", `the title's date ${refDate} differs from --date ${options.refDate}`, {
      field: "title",
      value: title[3]
    })
  }
  const totalQuantity = parseTotal(format, totalText, sep, language, "footer")
  const footerWeight = totalFields[1]
  if (footerWeight !== undefined && parseWeight(footerWeight, sep) === BAD) {
    fail(format, "BadNumber", `the footer's weight total is not a ${language} weight`, {
      field: "footer",
      value: footerWeight
    })
  }
  const reductor = parseReductorField(format, reductorText, sep, language, "Redutor")

  const sink = new RowSink(format, sep, language, end - 2)
  let rowNo = 0
  for (let i = 2; i < end; i++) {
    const line = lines[i]!
    if (line.trim() === "") continue
    rowNo++
    const f = line.split(";")
    if (!(f.length === cols || (f.length === cols + 1 && f[cols] === ""))) {
      fail(format, "BadField", `expected ${cols} fields (${cols + 1} with the trailing ';'), got ${f.length}`, {
        row: rowNo,
        value: line
      })
    }
    if (sectorMode) sink.add(rowNo, undefined, f[1], f[2], f[3], f[5], f[4], f[0], f[6], true)
    else sink.add(rowNo, undefined, f[0], f[1], f[2], f[4], f[3], null, null, false)
  }
  return sink.finish({
    indexCode: code as IndexCode,
    refDate,
    segment: sectorMode ? "2" : "1",
    totalQuantity,
    reductor,
    totalField: "footer"
  })
}

// Dispatch -------------------------------------------------------------------------------------

const firstByte = (bytes: Uint8Array): number => {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b
  }
  return -1
}

const looksTheoretical = (json: unknown): boolean => {
  if (!isObject(json)) return false
  const h = json.header
  if (isObject(h) && "date" in h) return false
  const rows = json.results
  if (Array.isArray(rows) && rows.length > 0 && isObject(rows[0])) return "cont" in rows[0]
  return isObject(h) && !("date" in h)
}

/** A CSV download: the (JSON-quoted) base64 body or the CSV itself; both are sniffed for text. */
const decodeCsvPayload = (pages: ReadonlyArray<Uint8Array>, text: Uint8Array, options: DecodeOptions) => {
  if (pages.length !== 1) fail("CSV", "PageMismatch", `a CSV download is one page, got ${pages.length}`)
  const inner = fromBase64Body(decodeUtf8(text))
  return decodeCsv(inner ?? text, options)
}

const decodeUnsafe = (pages: ReadonlyArray<Uint8Array>, options: DecodeOptions): Portfolio => {
  const requested = options.format ?? "auto"
  const label = requested === "auto" ? "auto" : requested
  if (pages.length === 0) return fail(label, "Empty", "no pages")
  // what the first page is, before any format's rules: text (BOM, UTF-16), binary, HTML
  const b0 = textBytes(label, pages[0]!, requested === "CSV" ? undefined : 1)
  const c = firstByte(b0)
  if (c === -1) return fail(label, "Empty", "the payload is empty (no bytes, or only blanks)")
  if (requested === "CSV") return decodeCsvPayload(pages, b0, options)
  if (requested === "auto") {
    if (c !== 0x7b && c !== 0x5b) {
      // Not a JSON object: a quoted/plain base64 download body, or a CSV file.
      if (c !== 0x22 || fromBase64Body(decodeUtf8(b0)) !== undefined) return decodeCsvPayload(pages, b0, options)
      return fail("auto", "NotB3Json", "a JSON string that is not a base64 CSV download", {
        value: decodeUtf8(b0.subarray(0, 80))
      })
    }
    const json = parseJsonPage("auto", b0, 1, true)
    return decodeJson(looksTheoretical(json) ? "GetTheoricalPortfolio" : "GetPortfolioDay", pages, json, options)
  }
  const json = parseJsonPage(requested, b0, 1, true)
  return decodeJson(requested, pages, json, options)
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
): Either.Either<Portfolio, B3ParseError> => {
  try {
    return Either.right(decodeUnsafe(pages, options))
  } catch (e) {
    if (e instanceof Fail) return Either.left(e.error)
    throw e
  }
}

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
    const a = p.assets[i]!
    const t = p.types[i]!
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
    decode(payload.pages.map((p) => p.bytes), {
      format: formatOf(payload),
      indexCode: payload.request.indexCode,
      defaultLanguage: payload.request.language,
      ...(options.language !== undefined ? { language: options.language } : {}),
      ...(payload.refDate !== undefined ? { refDate: payload.refDate } : {})
    })
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

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

const TOTAL_LABEL: Record<Language, string> = {
  "pt-br": "Quantidade Teórica Total",
  "en-us": "Total Theorethical Quantity"
}
const REDUCTOR_LABEL: Record<Language, string> = { "pt-br": "Redutor", "en-us": "Reductor" }
const HUNDRED = 100_000

const chunks = (size: number, pageSize: number | undefined): Array<readonly [number, number]> => {
  const ps = pageSize === undefined || pageSize <= 0 ? Math.max(size, 1) : Math.floor(pageSize)
  const out: Array<readonly [number, number]> = []
  for (let s = 0; s < size; s += ps) out.push([s, Math.min(size, s + ps)])
  if (out.length === 0) out.push([0, 0])
  return out
}

/** Sum of weights per sector, by sector text. */
const sectorTotals = (p: Portfolio): Map<string, number> => {
  const m = new Map<string, number>()
  for (let i = 0; i < p.size; i++) {
    const s = p.sectors[i]
    if (s !== null && s !== undefined) m.set(s, (m.get(s) ?? 0) + p.weights[i]!)
  }
  return m
}

/** GetPortfolioDay JSON pages (segment from the portfolio). Default: one page (B3's `pageSize` 9999). @category encoding */
export const encodePortfolioDay = (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
): ReadonlyArray<Uint8Array> => {
  const l = options.language
  const bySector = p.segment === "2"
  const totals = bySector ? sectorTotals(p) : undefined
  const parts = chunks(p.size, options.pageSize)
  const pageSize = options.pageSize ?? 9999
  const header = {
    date: formatShortDate(p.refDate, l),
    text: TOTAL_LABEL[l],
    part: formatWeight(HUNDRED, l),
    partAcum: formatWeight(HUNDRED, l),
    textReductor: REDUCTOR_LABEL[l],
    reductor: p.reductor === null ? null : formatReductor(p.reductor, l),
    theoricalQty: formatQuantity(p.totalQuantity, l)
  }
  return parts.map(([from, to], k) => {
    const results = []
    for (let i = from; i < to; i++) {
      const sector = bySector ? p.sectors[i] ?? null : null
      results.push({
        segment: sector,
        cod: p.tickers[i]!,
        asset: p.assets[i]!,
        type: p.types[i]!,
        part: formatWeight(p.weights[i]!, l),
        partAcum: sector !== null ? formatWeight(totals!.get(sector)!, l) : null,
        theoricalQty: formatQuantity(p.quantities[i]!, l)
      })
    }
    const page = { pageNumber: k + 1, pageSize, totalRecords: p.size, totalPages: parts.length }
    return encodeUtf8(JSON.stringify({ page, header, results }))
  })
}

/** GetTheoricalPortfolio JSON pages (`cont` is the 1-based position). @category encoding */
export const encodeTheoricalPortfolio = (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
): ReadonlyArray<Uint8Array> => {
  const l = options.language
  const parts = chunks(p.size, options.pageSize)
  const pageSize = options.pageSize ?? 9999
  const header = {
    part: formatWeight(HUNDRED, l),
    theoricalQty: formatQuantity(p.totalQuantity, l),
    reductor: p.reductor === null ? null : formatReductor(p.reductor, l)
  }
  return parts.map(([from, to], k) => {
    const results = []
    for (let i = from; i < to; i++) {
      results.push({
        cod: p.tickers[i]!,
        asset: p.assets[i]!,
        type: p.types[i]!,
        theoricalQty: formatQuantity(p.quantities[i]!, l),
        part: formatWeight(p.weights[i]!, l),
        cont: i + 1
      })
    }
    const page = { pageNumber: k + 1, pageSize, totalRecords: p.size, totalPages: parts.length }
    return encodeUtf8(JSON.stringify({ page, header, results }))
  })
}

/** The CSV text (by ticker, or by sector when the portfolio has sectors). @category encoding */
export const encodeCsvText = (
  p: Portfolio,
  options?: { readonly eol?: "\r\n" | "\n"; readonly language?: Language }
): string => {
  const l = options?.language ?? "pt-br"
  const eol = options?.eol ?? "\r\n"
  const bySector = p.segment === "2"
  const pt = l === "pt-br"
  const lines: Array<string> = []
  lines.push(`${p.indexCode} - ${pt ? "Carteira do Dia" : "Portfolio of the Day"} ${formatShortDate(p.refDate, l)}`)
  const cols = pt ? "Código;Ação;Tipo;Qtde. Teórica;Part. (%)" : "Code;Stock;Type;Theoretical Qty.;Part. (%)"
  lines.push(bySector ? `${pt ? "Setor" : "Sector"};${cols};Part. (%)Acum.` : cols)
  const totals = bySector ? sectorTotals(p) : undefined
  for (let i = 0; i < p.size; i++) {
    const row = `${p.tickers[i]};${p.assets[i]};${p.types[i]};${formatQuantity(p.quantities[i]!, l)};${
      formatWeight(p.weights[i]!, l)
    }`
    const sector = p.sectors[i] ?? ""
    lines.push(bySector ? `${sector};${row};${formatWeight(totals!.get(sector) ?? 0, l)};` : `${row};`)
  }
  const pad = bySector ? ";;;;" : ";;;"
  lines.push(`${TOTAL_LABEL[l]}${pad}${formatQuantity(p.totalQuantity, l)};${formatWeight(HUNDRED, l)}`)
  if (p.reductor !== null) lines.push(`${REDUCTOR_LABEL[l]}${pad}${formatReductor(p.reductor, l)}`)
  return lines.join(eol) + eol
}

/** The CSV download (by ticker, or by sector when the portfolio has sectors). Default latin1, CRLF, pt-br. @category encoding */
export const encodeCsv = (
  p: Portfolio,
  options?: { readonly encoding?: "latin1" | "utf8"; readonly eol?: "\r\n" | "\n"; readonly language?: Language }
): Uint8Array => {
  const text = encodeCsvText(p, {
    ...(options?.eol !== undefined ? { eol: options.eol } : {}),
    ...(options?.language !== undefined ? { language: options.language } : {})
  })
  return options?.encoding === "utf8" ? encodeUtf8(text) : encodeLatin1(text)
}

/** The `GetDownloadPortfolioDay` body: the latin1 CSV in base64, optionally JSON-quoted. @category encoding */
export const encodeDownload = (p: Portfolio, options?: { readonly quoted?: boolean }): Uint8Array => {
  const b64 = toBase64(encodeCsv(p))
  return encodeUtf8(options?.quoted === true ? `"${b64}"` : b64)
}

/** Re-exported so callers can match on it without a second import. @category errors */
export { B3ParseError }
