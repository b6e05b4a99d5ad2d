/**
 * Locale formatting for the report, done on digit strings: weights, quantities and the reductor
 * are displayed from their EXACT decimal text, never through a float.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import * as Schema from "effect/Schema"

/** The locales the report renders in (`--locale pt-BR|en-US`, pt-BR by default). @category models */
export const ReportLocale = Schema.Literal("pt-BR", "en-US")
/** @category models */
export type ReportLocale = typeof ReportLocale.Type

/** @category models */
export const REPORT_LOCALES: ReadonlyArray<ReportLocale> = ReportLocale.literals

const separators = (locale: ReportLocale): { readonly group: string; readonly decimal: string } =>
  locale === "pt-BR" ? { group: ".", decimal: "," } : { group: ",", decimal: "." }

const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/**
 * Formats a plain decimal text (`"90587133892"`, `"3.570"`, `"-0.05"`, `"15019274.20202473"`) for
 * a locale, grouping the integer digits by thousands and keeping every fractional digit:
 * pt-BR `"90.587.133.892"`, `"3,570"`; en-US `"90,587,133,892"`, `"3.570"`.
 * Text that is not a plain decimal is returned unchanged (it is escaped later like any text).
 *
 * @category formatting
 */
export const formatDecimalText = (text: string, locale: ReportLocale): string => {
  const m = PLAIN_DECIMAL.exec(text)
  if (m === null) return text
  const { decimal, group } = separators(locale)
  const intDigits = (m[2] ?? "").replace(/^0+(?=\d)/, "")
  let grouped = ""
  for (let i = 0; i < intDigits.length; i++) {
    const fromEnd = intDigits.length - i
    grouped += intDigits[i]
    if (fromEnd > 1 && (fromEnd - 1) % 3 === 0) grouped += group
  }
  return m[1] + grouped + (m[3] !== undefined ? decimal + m[3] : "")
}

/** A weight in percent with its sign: pt-BR `"3,570%"`, en-US `"3.570%"`. @category formatting */
export const formatPercent = (text: string, locale: ReportLocale): string => `${formatDecimalText(text, locale)}%`

/** An integer count (`82`, `1234`) with thousands grouping. @category formatting */
export const formatCount = (n: number | bigint, locale: ReportLocale): string =>
  formatDecimalText(BigInt(n).toString(), locale)

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** A date: pt-BR `"03/10/2025"`, en-US `"Oct 3, 2025"`. @category formatting */
export const formatDate = (date: RefDate, locale: ReportLocale): string => {
  const [y, m, d] = [date.slice(0, 4), date.slice(5, 7), date.slice(8, 10)]
  return locale === "pt-BR" ? `${d}/${m}/${y}` : `${MONTHS_EN[Number(m) - 1]} ${Number(d)}, ${y}`
}

/** A short date for chart axes: pt-BR `"03/10"`, en-US `"10/03"`. @category formatting */
export const formatShortDate = (date: RefDate, locale: ReportLocale): string => {
  const [m, d] = [date.slice(5, 7), date.slice(8, 10)]
  return locale === "pt-BR" ? `${d}/${m}` : `${m}/${d}`
}

/**
 * Escapes text for HTML and SVG content and attribute values (`&`, `<`, `>`, `"`, `'`).
 *
 * @category formatting
 */
export const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;"
  )
