/**
 * The shared row path of every decoder: exact conversion of one row's texts into the columns of a
 * `Portfolio`, and the invariants checked on every decode. Failures are thrown as `Fail` and caught
 * once at the top of `decode` (exceptions cost nothing on the happy path).
 */
import { B3ParseError } from "../B3ParseError.js"
import type { B3ParseErrorReason } from "../B3ParseError.js"
import type { IndexCode, Language, Portfolio, RefDate, Segment, SourceFormat, Ticker } from "../Domain.js"
import type { Separators } from "./wireNumbers.js"
import { BAD, BIG, bigResult, OVERFLOW, parseQuantity, parseWeight } from "./wireNumbers.js"

/** Thrown inside the decoders, caught by `decode`. */
export class Fail {
  constructor(readonly error: B3ParseError) {}
}

export interface Where {
  readonly row?: number | undefined
  readonly page?: number | undefined
  readonly field?: string | undefined
  readonly value?: unknown
}

const show = (v: unknown): string => {
  const s = typeof v === "string" ? v : v === undefined ? "undefined" : safeJson(v)
  return s.length > 80 ? s.slice(0, 80) : s
}
const safeJson = (v: unknown): string => {
  try {
    return String(JSON.stringify(v))
  } catch {
    return String(v)
  }
}

export const parseError = (format: string, reason: B3ParseErrorReason, detail: string, where?: Where): B3ParseError =>
  new B3ParseError({
    reason,
    format,
    detail,
    ...(where?.row !== undefined ? { row: where.row } : {}),
    ...(where?.page !== undefined ? { page: where.page } : {}),
    ...(where?.field !== undefined ? { field: where.field } : {}),
    ...(where !== undefined && "value" in where ? { value: show(where.value) } : {})
  })

export const fail = (format: string, reason: B3ParseErrorReason, detail: string, where?: Where): never => {
  throw new Fail(parseError(format, reason, detail, where))
}

/** The ticker grammar of `Domain.Ticker`, run as a plain regex (no Schema per row). */
export const TICKER = /^[A-Z][A-Z0-9]{3}[0-9]{1,2}[A-Z]?$/
/** The index-code grammar of `Domain.IndexCode`. */
export const INDEX_CODE = /^[A-Z][A-Z0-9]{2,5}$/

// A process-wide intern table for the few strings that repeat across rows and payloads (types,
// sectors). Bounded: cleared when it grows past a few thousand entries.
const interned = new Map<string, string>()
export const intern = (s: string): string => {
  const hit = interned.get(s)
  if (hit !== undefined) return hit
  if (interned.size >= 4096) interned.clear()
  interned.set(s, s)
  return s
}

const SAFE_SUM = 2 ** 52

const isUpper = (c: number): boolean => c >= 65 && c <= 90
const isDigit = (c: number): boolean => c >= 48 && c <= 57

/** `TICKER.test(s)` by hand: `[A-Z][A-Z0-9]{3}[0-9]{1,2}[A-Z]?`. */
export const isTicker = (s: string): boolean => {
  const n = s.length
  if (n < 5 || n > 7 || !isUpper(s.charCodeAt(0))) return false
  for (let i = 1; i < 4; i++) {
    const c = s.charCodeAt(i)
    if (!isUpper(c) && !isDigit(c)) return false
  }
  if (!isDigit(s.charCodeAt(4))) return false
  if (n === 5) return true
  const c5 = s.charCodeAt(5)
  if (n === 6) return isDigit(c5) || isUpper(c5)
  return isDigit(c5) && isUpper(s.charCodeAt(6))
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 160

/** `s.trim()`, without the call when there is nothing to cut. */
const trimmed = (s: string): string =>
  s.length > 0 && !isSpace(s.charCodeAt(0)) && !isSpace(s.charCodeAt(s.length - 1)) ? s : s.trim()

/** Empty or only blanks (no allocation, unlike `trim`). */
const isBlank = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 160) return false
  }
  return true
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Collects rows into columns, validating as it goes. */
export class RowSink {
  readonly tickers: Array<Ticker> = []
  readonly assets: Array<string> = []
  readonly types: Array<string> = []
  readonly sectors: Array<string | null> = []
  weights: Int32Array
  quantities: BigInt64Array
  /** 32-bit halves of `quantities`, to store small quantities without allocating a bigint. */
  private q32: Uint32Array
  size = 0
  private readonly seen = new Set<string>()
  private sumSmall = 0
  private sumBig = 0n
  private weightSum = 0
  // segment 2: per sector, its declared partAcum, the sum of its weights and its first row
  private readonly sectorIndex = new Map<string, number>()
  private readonly sectorAcum: Array<number> = []
  private readonly sectorSum: Array<number> = []
  private readonly sectorRow: Array<number> = []
  private readonly sectorAcumText: Array<string> = []
  private readonly sectorName: Array<string> = []
  private lastSector: string | undefined = undefined
  private lastSectorIndex = 0

  constructor(
    readonly format: SourceFormat,
    readonly sep: Separators,
    readonly language: Language,
    capacity: number
  ) {
    const cap = Math.max(1, capacity)
    this.weights = new Int32Array(cap)
    this.quantities = new BigInt64Array(cap)
    this.q32 = new Uint32Array(this.quantities.buffer)
  }

  private grow(): void {
    const w = new Int32Array(this.weights.length * 2)
    w.set(this.weights)
    this.weights = w
    const q = new BigInt64Array(this.quantities.length * 2)
    q.set(this.quantities)
    this.quantities = q
    this.q32 = new Uint32Array(q.buffer)
  }

  /**
   * One row. `row` is 1-based over the whole payload; `page` is 1-based or undefined (CSV).
   * `sector`/`acum` are only read in sector mode. The hot path below only tests; every failure
   * goes through `reject`, which says what was wrong.
   */
  add(
    row: number,
    page: number | undefined,
    cod: unknown,
    asset: unknown,
    type: unknown,
    part: unknown,
    qty: unknown,
    sector: unknown,
    acum: unknown,
    sectorMode: boolean
  ): void {
    if (typeof cod !== "string" || !isTicker(cod) || this.seen.has(cod)) {
      return this.reject(row, page, "cod", cod)
    }
    if (typeof asset !== "string" || typeof type !== "string" || isBlank(asset) || isBlank(type)) {
      return this.reject(row, page, typeof asset !== "string" || isBlank(asset) ? "asset" : "type", asset, type)
    }
    const w = typeof part === "string" ? parseWeight(part, this.sep) : BAD
    if (w === BAD) return this.reject(row, page, "part", part)
    const q = typeof qty === "string" ? parseQuantity(qty, this.sep) : BAD
    if (q === BAD || q === OVERFLOW) return this.reject(row, page, "theoricalQty", qty)
    let sectorText: string | null = null
    if (sectorMode) {
      if (typeof sector !== "string" || isBlank(sector) || typeof acum !== "string") {
        return this.reject(row, page, typeof acum === "string" ? "segment" : "partAcum", sector, acum)
      }
      // rows come grouped by sector: compare with the previous row's before hashing
      let s = sector === this.lastSector ? this.lastSectorIndex : this.sectorIndex.get(sector)
      if (s === undefined) {
        const a = parseWeight(acum, this.sep)
        if (a === BAD) return this.reject(row, page, "partAcum", acum)
        s = this.sectorAcum.length
        this.sectorIndex.set(sector, s)
        this.sectorName.push(intern(sector))
        this.sectorAcum.push(a)
        this.sectorSum.push(0)
        this.sectorRow.push(row)
        this.sectorAcumText.push(acum)
      } else if (acum !== this.sectorAcumText[s] && parseWeight(acum, this.sep) !== this.sectorAcum[s]) {
        // another text must still be this locale's number, and equal
        return this.reject(row, page, "partAcum", acum, s)
      }
      this.sectorSum[s] = (this.sectorSum[s] ?? 0) + w
      this.lastSector = sector
      this.lastSectorIndex = s
      sectorText = this.sectorName[s] ?? sector
    } else if (sector !== null && sector !== undefined) {
      return this.reject(row, page, "segment", sector, "null")
    }
    this.seen.add(cod)
    const i = this.size
    if (i === this.weights.length) this.grow()
    this.weights[i] = w
    if (q === BIG) {
      this.quantities[i] = bigResult.value
      this.sumBig += bigResult.value
    } else {
      this.sumSmall += q
      if (this.sumSmall >= SAFE_SUM) {
        this.sumBig += BigInt(this.sumSmall)
        this.sumSmall = 0
      }
      if (LITTLE_ENDIAN) {
        this.q32[2 * i] = q >>> 0
        this.q32[2 * i + 1] = Math.floor(q / 4294967296)
      } else {
        this.quantities[i] = BigInt(q)
      }
    }
    this.tickers.push(cod as Ticker)
    this.assets.push(trimmed(asset))
    this.types.push(intern(type))
    this.sectors.push(sectorText)
    this.weightSum += w
    this.size = i + 1
  }

  /** The cold path: works out which rule `add` saw broken, and throws it. */
  private reject(row: number, page: number | undefined, field: string, value: unknown, extra?: unknown): never {
    const format = this.format
    const language = this.language
    const at = (f: string, v: unknown) => ({ row, page, field: f, value: v })
    switch (field) {
      case "cod":
        if (typeof value === "string" && isTicker(value)) {
          return fail(format, "DuplicateTicker", `ticker ${value} appears twice`, at("cod", value))
        }
        return fail(
          format,
          "BadTicker",
          "ticker must be 4 characters and a 1-2 digit class, like PETR4",
          at("cod", value)
        )
      case "asset":
        return fail(format, "BadField", "asset must be a non-empty string", at("asset", value))
      case "type":
        return fail(format, "BadField", "type must be a non-empty string", at("type", extra))
      case "part":
        if (typeof value !== "string") return fail(format, "BadField", "part must be a string", at("part", value))
        return fail(format, "BadNumber", `part is not a ${language} weight with at most 3 decimals`, at("part", value))
      case "theoricalQty":
        if (typeof value !== "string") {
          return fail(format, "BadField", "theoricalQty must be a string", at(field, value))
        }
        if (parseQuantity(value, this.sep) === OVERFLOW) {
          return fail(format, "Overflow", "theoricalQty does not fit in int64", at(field, value))
        }
        return fail(format, "BadNumber", `theoricalQty is not a ${language} integer`, at(field, value))
      case "segment":
        if (extra === "null") {
          return fail(format, "BadField", "segment must be null in by-ticker data", at(field, value))
        }
        return fail(
          format,
          "BadField",
          "segment (sector) must be a non-empty string in by-sector data",
          at(field, value)
        )
      default: {
        // partAcum
        if (typeof value !== "string") {
          return fail(format, "BadField", "partAcum must be a string in by-sector data", at("partAcum", extra ?? value))
        }
        if (parseWeight(value, this.sep) === BAD) {
          return fail(
            format,
            "BadNumber",
            `partAcum is not a ${language} weight with at most 3 decimals`,
            at("partAcum", value)
          )
        }
        const s = extra as number
        return fail(
          format,
          "SectorSum",
          `partAcum differs from the sector's first row (row ${this.sectorRow[s]}: ${this.sectorAcumText[s]})`,
          at("partAcum", value)
        )
      }
    }
  }

  /**
   * The invariants, then the portfolio. Weights: each row is rounded to 0.001, so n rows may be
   * off by n/2 thousandths in the worst case; we allow |sum - 100000| <= max(3, round(n/2)).
   * (87 rows: +-0.044 points; a day summing to 99% is 1000 thousandths off and always fails for
   * fewer than 2000 rows.)
   */
  finish(meta: {
    readonly indexCode: IndexCode
    readonly refDate: RefDate
    readonly segment: Segment
    readonly totalQuantity: bigint
    readonly reductor: bigint | null
    readonly totalField: string
  }): Portfolio {
    const format = this.format
    const n = this.size
    if (n === 0) fail(format, "Empty", "no rows")
    const sum = this.sumBig + BigInt(this.sumSmall)
    if (sum !== meta.totalQuantity) {
      fail(format, "TotalMismatch", `sum of theoricalQty is ${sum}, the total says ${meta.totalQuantity}`, {
        field: meta.totalField,
        value: meta.totalQuantity.toString()
      })
    }
    const tolerance = Math.max(3, Math.round(n / 2))
    if (Math.abs(this.weightSum - 100_000) > tolerance) {
      fail(
        format,
        "WeightSum",
        `weights sum to ${this.weightSum / 1000}%, not 100% within ${tolerance / 1000} (${n} rows)`,
        { field: "part", value: String(this.weightSum) }
      )
    }
    for (let s = 0; s < this.sectorAcum.length; s++) {
      if (this.sectorSum[s] !== this.sectorAcum[s]) {
        fail(
          format,
          "SectorSum",
          `sector's partAcum is ${this.sectorAcumText[s]} but its rows' parts sum to ${
            (this.sectorSum[s] ?? 0) / 1000
          }`,
          { row: this.sectorRow[s], field: "partAcum", value: this.sectorAcumText[s] }
        )
      }
    }
    return {
      indexCode: meta.indexCode,
      refDate: meta.refDate,
      language: this.language,
      format,
      segment: meta.segment,
      size: n,
      tickers: this.tickers,
      assets: this.assets,
      types: this.types,
      sectors: this.sectors,
      weights: this.weights.length === n ? this.weights : this.weights.slice(0, n),
      quantities: this.quantities.length === n ? this.quantities : this.quantities.slice(0, n),
      totalQuantity: meta.totalQuantity,
      reductor: meta.reductor
    }
  }
}
