/**
 * Exact number and date codecs for B3's two locales. Char-code loops, no float, no regex on the
 * hot path. Parsers return a number >= 0 on success and a negative code on failure.
 */
import type { Language, RefDate } from "../Domain.js"
import { refDateFromParts } from "../Domain.js"

const DOT = 46
const COMMA = 44

/** The group and decimal separators of a language, as char codes. */
export interface Separators {
  readonly group: number
  readonly decimal: number
}
export const PT: Separators = { group: DOT, decimal: COMMA }
export const EN: Separators = { group: COMMA, decimal: DOT }
export const separatorsOf = (l: Language): Separators => l === "pt-br" ? PT : EN

/** Not a number in the expected locale. */
export const BAD = -1
/** Does not fit in an int64. */
export const OVERFLOW = -2
/** More than 15 digits: the exact value is in `bigResult.value`. */
export const BIG = -3

export const bigResult: { value: bigint } = { value: 0n }

const MAX_I64 = 9_223_372_036_854_775_807n

/**
 * An integer quantity with optional grouping (`"4.394.835.131"` in pt-br): the first group has 1
 * to 3 digits and every later group exactly 3. A decimal separator, a sign, a blank or an empty
 * text is BAD.
 */
export const parseQuantity = (s: string, sep: Separators): number => {
  const n = s.length
  if (n === 0) return BAD
  const G = sep.group
  let v = 0
  let digits = 0
  let run = 0
  let grouped = false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48)
      digits++
      run++
    } else if (c === G) {
      if (run === 0 || (grouped ? run !== 3 : run > 3)) return BAD
      grouped = true
      run = 0
    } else {
      return BAD
    }
  }
  if (run === 0 || (grouped && run !== 3)) return BAD
  if (digits <= 15) return v
  let plain = ""
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c !== G) plain += s[i]
  }
  const big = BigInt(plain)
  if (big > MAX_I64) return OVERFLOW
  bigResult.value = big
  return BIG
}

/**
 * A weight in percent with up to 3 decimals (`"2,663"` in pt-br, `"2.663"` in en-us, `"100"`), into
 * thousandths. No grouping (a weight is at most 100), at least one integer digit, no sign; more than
 * 3 decimals, or more than 100%, is BAD.
 */
export const parseWeight = (s: string, sep: Separators): number => {
  const n = s.length
  if (n === 0) return BAD
  const D = sep.decimal
  let i = 0
  let int = 0
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (i >= 6) return BAD
      int = int * 10 + (c - 48)
    } else if (c === D) {
      break
    } else {
      return BAD
    }
  }
  if (i === 0) return BAD
  let frac = 0
  let fd = 0
  if (i < n) {
    // s[i] is the decimal separator
    i++
    if (i === n) return BAD
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57 || fd === 3) return BAD
      frac = frac * 10 + (c - 48)
      fd++
    }
  }
  const v = int * 1000 + (fd === 0 ? 0 : fd === 1 ? frac * 100 : fd === 2 ? frac * 10 : frac)
  return v > 100_000 ? BAD : v
}

/**
 * The reductor: grouped integer part, then optionally the decimal separator and 1 to 8 digits, into
 * units of 1e-8. `undefined` when malformed, `"overflow"` past int64.
 */
export const parseReductor = (s: string, sep: Separators): bigint | undefined | "overflow" => {
  const D = String.fromCharCode(sep.decimal)
  const at = s.indexOf(D)
  const intText = at === -1 ? s : s.slice(0, at)
  const fracText = at === -1 ? "" : s.slice(at + 1)
  if (at !== -1 && (fracText.length === 0 || fracText.length > 8)) return undefined
  for (let i = 0; i < fracText.length; i++) {
    const c = fracText.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  const q = parseQuantity(intText, sep)
  if (q === BAD) return undefined
  if (q === OVERFLOW) return "overflow"
  const int = q === BIG ? bigResult.value : BigInt(q)
  const v = int * 100_000_000n + BigInt(fracText.padEnd(8, "0"))
  return v > MAX_I64 ? "overflow" : v
}

// ---------------------------------------------------------------------------------------------
// Language evidence
// ---------------------------------------------------------------------------------------------

/**
 * What one number says about the locale, knowing what kind of number it is:
 * - a quantity is an integer, so any separator in it is a group separator (`.` pt-br, `,` en-us);
 * - a weight is at most 100 and never grouped, so its one separator is the decimal one;
 * - a reductor with both separators: the last one is decimal; one separator seen twice is a group
 *   separator; one separator seen once followed by other than 3 digits is decimal; `"1.234"` alone
 *   says nothing.
 * `undefined`: no evidence (or the text is malformed, which the parser reports later).
 */
export const voteQuantity = (s: string): Language | undefined => {
  const dot = s.indexOf(".") !== -1
  const comma = s.indexOf(",") !== -1
  return dot === comma ? undefined : dot ? "pt-br" : "en-us"
}

export const voteWeight = (s: string): Language | undefined => {
  const dot = s.indexOf(".") !== -1
  const comma = s.indexOf(",") !== -1
  return dot === comma ? undefined : comma ? "pt-br" : "en-us"
}

export const voteReductor = (s: string): Language | undefined => {
  const lastDot = s.lastIndexOf(".")
  const lastComma = s.lastIndexOf(",")
  if (lastDot !== -1 && lastComma !== -1) return lastComma > lastDot ? "pt-br" : "en-us"
  const at = lastDot !== -1 ? lastDot : lastComma
  if (at === -1) return undefined
  const sepIsDot = lastDot !== -1
  const first = s.indexOf(sepIsDot ? "." : ",")
  if (first !== at) return sepIsDot ? "pt-br" : "en-us" // seen twice: grouping
  if (s.length - at - 1 !== 3) return sepIsDot ? "en-us" : "pt-br" // decimal
  return undefined
}

/** What a label says: B3's Portuguese and English header/footer texts (either spelling of "theoretical"). */
export const voteLabel = (s: string): Language | undefined => {
  if (/Quantidade|Redutor|Carteira|C[oó]digo|Te[oó]rica/i.test(s)) return "pt-br"
  if (/Quantity|Reductor|Theoret|Theoreth|Portfolio/i.test(s)) return "en-us"
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const group = (digits: string, g: string): string => {
  const n = digits.length
  if (n <= 3) return digits
  let out = digits.slice(0, ((n - 1) % 3) + 1)
  for (let i = out.length; i < n; i += 3) out += g + digits.slice(i, i + 3)
  return out
}

export const formatQuantity = (q: bigint, l: Language): string => group(q.toString(), l === "pt-br" ? "." : ",")

export const formatWeight = (w: number, l: Language): string => {
  const int = Math.floor(w / 1000)
  const frac = String(w - int * 1000).padStart(3, "0")
  return `${int}${l === "pt-br" ? "," : "."}${frac}`
}

export const formatReductor = (r: bigint, l: Language): string => {
  const int = r / 100_000_000n
  const frac = (r - int * 100_000_000n).toString().padStart(8, "0")
  return `${group(int.toString(), l === "pt-br" ? "." : ",")}${l === "pt-br" ? "," : "."}${frac}`
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/** `DD/MM/YY` (pt-br) or `MM/DD/YY` (en-us); a 4-digit year is accepted too. */
let lastDateText = ""
let lastDateLanguage: Language | undefined
let lastDate: RefDate | undefined
export const parseShortDate = (s: string, l: Language): RefDate | undefined => {
  // payloads of a day share their date: remember the last answer
  if (s === lastDateText && l === lastDateLanguage) return lastDate
  const d = parseShortDateUncached(s, l)
  lastDateText = s
  lastDateLanguage = l
  lastDate = d
  return d
}

const parseShortDateUncached = (s: string, l: Language): RefDate | undefined => {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(s)
  if (m === null) return undefined
  const a = Number(m[1])
  const b = Number(m[2])
  const year = m[3] ?? ""
  const y = year.length === 2 ? 2000 + Number(year) : Number(year)
  return l === "pt-br" ? refDateFromParts(y, b, a) : refDateFromParts(y, a, b)
}

export const formatShortDate = (d: RefDate, l: Language): string => {
  const yy = d.slice(2, 4)
  const mm = d.slice(5, 7)
  const dd = d.slice(8, 10)
  return l === "pt-br" ? `${dd}/${mm}/${yy}` : `${mm}/${dd}/${yy}`
}
