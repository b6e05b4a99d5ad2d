/**
 * The shared row path of every decoder: exact conversion of one row's texts into the columns of a
 * `Portfolio`, and the invariants checked on every decode. Failures are thrown as `Fail` and caught
 * once at the top of `decode` (exceptions cost nothing on the happy path).
 */
import type { IndexCode, Language, Portfolio, RefDate, Segment, SourceFormat, Ticker } from "../Domain.js"
import { ParseError } from "../ParseError.js"
import type { ParseErrorReason } from "../ParseError.js"
import type { Separators } from "./wireNumbers.js"
import { BAD, BIG, bigResult, OVERFLOW, parseQuantity, parseWeight } from "./wireNumbers.js"

/** Thrown inside the decoders, caught by `decode`. */
export class Fail {
  constructor(readonly error: ParseError) {}
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

export const parseError = (format: string, reason: ParseErrorReason, detail: string, where?: Where): ParseError =>
  new ParseError({
    reason,
    format,
    detail,
    ...(where?.row !== undefined ? { row: where.row } : {}),
    ...(where?.page !== undefined ? { page: where.page } : {}),
    ...(where?.field !== undefined ? { field: where.field } : {}),
    ...(where !== undefined && "value" in where ? { value: show(where.value) } : {})
  })

export const fail = (format: string, reason: ParseErrorReason, detail: string, where?: Where): never => {
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

/** Collects rows into columns, validating as it goes. */
export class RowSink {
  readonly tickers: Array<Ticker> = []
  readonly assets: Array<string> = []
  readonly types: Array<string> = []
  readonly sectors: Array<string | null> = []
  weights: Int32Array
  quantities: BigInt64Array
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

  constructor(
    readonly format: SourceFormat,
    readonly sep: Separators,
    readonly language: Language,
    capacity: number
  ) {
    const cap = Math.max(1, capacity)
    this.weights = new Int32Array(cap)
    this.quantities = new BigInt64Array(cap)
  }

  private grow(): void {
    const w = new Int32Array(this.weights.length * 2)
    w.set(this.weights)
    this.weights = w
    const q = new BigInt64Array(this.quantities.length * 2)
    q.set(this.quantities)
    this.quantities = q
  }

  /**
   * One row. `row` is 1-based over the whole payload; `page` is 1-based or undefined (CSV).
   * `sector`/`acum` are null for by-ticker rows.
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
    const format = this.format
    if (typeof cod !== "string" || !TICKER.test(cod)) {
      fail(format, "BadTicker", "ticker must be 4 characters and a 1-2 digit class, like PETR4", {
        row,
        page,
        field: "cod",
        value: cod
      })
    }
    const ticker = cod as Ticker
    if (this.seen.has(ticker)) {
      fail(format, "DuplicateTicker", `ticker ${ticker} appears twice`, { row, page, field: "cod", value: ticker })
    }
    this.seen.add(ticker)
    if (typeof asset !== "string") {
      fail(format, "BadField", "asset must be a string", { row, page, field: "asset", value: asset })
    }
    const assetText = (asset as string).trim()
    if (assetText.length === 0) fail(format, "BadField", "asset is empty", { row, page, field: "asset", value: asset })
    if (typeof type !== "string" || type.trim().length === 0) {
      fail(format, "BadField", "type must be a non-empty string", { row, page, field: "type", value: type })
    }
    if (typeof part !== "string") {
      fail(format, "BadField", "part must be a string", { row, page, field: "part", value: part })
    }
    const w = parseWeight(part as string, this.sep)
    if (w === BAD) {
      fail(format, "BadNumber", `part is not a ${this.language} weight with at most 3 decimals`, {
        row,
        page,
        field: "part",
        value: part
      })
    }
    if (typeof qty !== "string") {
      fail(format, "BadField", "theoricalQty must be a string", { row, page, field: "theoricalQty", value: qty })
    }
    const q = parseQuantity(qty as string, this.sep)
    let qb: bigint
    if (q >= 0) {
      qb = BigInt(q)
      this.sumSmall += q
      if (this.sumSmall >= SAFE_SUM) {
        this.sumBig += BigInt(this.sumSmall)
        this.sumSmall = 0
      }
    } else if (q === BIG) {
      qb = bigResult.value
      this.sumBig += qb
    } else if (q === OVERFLOW) {
      return fail(format, "Overflow", "theoricalQty does not fit in int64", {
        row,
        page,
        field: "theoricalQty",
        value: qty
      })
    } else {
      return fail(format, "BadNumber", `theoricalQty is not a ${this.language} integer`, {
        row,
        page,
        field: "theoricalQty",
        value: qty
      })
    }
    let sectorText: string | null = null
    if (sectorMode) {
      if (typeof sector !== "string" || sector.trim().length === 0) {
        fail(format, "BadField", "segment (sector) must be a non-empty string in by-sector data", {
          row,
          page,
          field: "segment",
          value: sector
        })
      }
      sectorText = intern(sector as string)
      if (typeof acum !== "string") {
        fail(format, "BadField", "partAcum must be a string in by-sector data", {
          row,
          page,
          field: "partAcum",
          value: acum
        })
      }
      const a = parseWeight(acum as string, this.sep)
      if (a === BAD) {
        fail(format, "BadNumber", `partAcum is not a ${this.language} weight with at most 3 decimals`, {
          row,
          page,
          field: "partAcum",
          value: acum
        })
      }
      let s = this.sectorIndex.get(sectorText)
      if (s === undefined) {
        s = this.sectorAcum.length
        this.sectorIndex.set(sectorText, s)
        this.sectorAcum.push(a)
        this.sectorSum.push(0)
        this.sectorRow.push(row)
        this.sectorAcumText.push(acum as string)
      } else if (this.sectorAcum[s] !== a) {
        fail(
          format,
          "SectorSum",
          `partAcum differs from the sector's first row (row ${this.sectorRow[s]}: ${this.sectorAcumText[s]})`,
          { row, page, field: "partAcum", value: acum }
        )
      }
      this.sectorSum[s]! += w
    } else if (sector !== null && sector !== undefined) {
      fail(format, "BadField", "segment must be null in by-ticker data", { row, page, field: "segment", value: sector })
    }
    const i = this.size
    if (i === this.weights.length) this.grow()
    this.weights[i] = w
    this.quantities[i] = qb
    this.tickers.push(ticker)
    this.assets.push(assetText)
    this.types.push(intern(type as string))
    this.sectors.push(sectorText)
    this.weightSum += w
    this.size = i + 1
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
          `sector's partAcum is ${this.sectorAcumText[s]} but its rows' parts sum to ${this.sectorSum[s]! / 1000}`,
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
