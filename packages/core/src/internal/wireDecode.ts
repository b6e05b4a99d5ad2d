/**
 * What the JSON and CSV decoders share: the decode options, the text sniff of a page, the header
 * numbers (total, reductor), the index-code check and the language rule (see `B3Wire`'s module
 * comment). Failures are thrown as `Fail` (see `wireRows.ts`).
 */
import type { IndexCode, Language, RefDate, SourceFormat } from "../Domain.js"
import type { Separators } from "./wireNumbers.js"
import { BIG, bigResult, OVERFLOW, parseQuantity, parseReductor, voteLabel } from "./wireNumbers.js"
import { fail, INDEX_CODE } from "./wireRows.js"
import { sniffText } from "./wireText.js"

/** The options of `B3Wire.decode`. */
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

export const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** The text bytes of a page (BOM dropped, UTF-16 converted), or the typed reason they are not text. */
export const textBytes = (format: string, bytes: Uint8Array, page: number | undefined): Uint8Array => {
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

export const checkIndexCode = (format: string, code: string | undefined, field: string): IndexCode => {
  if (code === undefined) {
    return fail(format, "BadIndexCode", "JSON payloads carry no index code: give it with --index CODE", { field })
  }
  if (!INDEX_CODE.test(code)) return fail(format, "BadIndexCode", "invalid index code", { field, value: code })
  return code as IndexCode
}

export const parseTotal = (
  format: string,
  text: string,
  sep: Separators,
  language: Language,
  field: string
): bigint => {
  const q = parseQuantity(text, sep)
  if (q >= 0) return BigInt(q)
  if (q === BIG) return bigResult.value
  if (q === OVERFLOW) return fail(format, "Overflow", "total quantity does not fit in int64", { field, value: text })
  return fail(format, "BadNumber", `total quantity is not a ${language} integer`, { field, value: text })
}

export const parseReductorField = (
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
export const decideLanguage = (
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
