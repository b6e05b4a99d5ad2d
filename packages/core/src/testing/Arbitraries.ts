/**
 * fast-check arbitraries for the domain and the wire formats, shared by every test that needs
 * realistic portfolios or payloads.
 */
import * as fc from "fast-check"
import * as B3Encode from "../B3Encode.js"
import type * as B3Wire from "../B3Wire.js"
import type { IndexCode, Language, Portfolio, RefDate, Segment } from "../Domain.js"
import { ALL_INDEX_CODES, refDateFromParts } from "../Domain.js"
import { generatePortfolio } from "../Generate.js"

export const indexCode: fc.Arbitrary<IndexCode> = fc.constantFrom(...ALL_INDEX_CODES)

/** Days in 2000-2099 (the wire's two-digit years). */
export const refDate: fc.Arbitrary<RefDate> = fc
  .record({
    y: fc.integer({ min: 2000, max: 2099 }),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 31 })
  })
  .map(({ d, m, y }) => refDateFromParts(y, m, d) ?? (`${y}-${String(m).padStart(2, "0")}-28` as RefDate))

/**
 * Days a stored portfolio can have (what `B3Wire.decodePayload`'s plausibility check accepts): from
 * 2000-01-03 to yesterday. Use it for payloads that go through the pipeline.
 */
export const pastRefDate: fc.Arbitrary<RefDate> = fc
  .date({ min: new Date("2000-01-03T00:00:00Z"), max: new Date(Date.now() - 86_400_000), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10) as RefDate)

export const language: fc.Arbitrary<Language> = fc.constantFrom("pt-br", "en-us")
export const segment: fc.Arbitrary<Segment> = fc.constantFrom("1", "2")

/**
 * A generated portfolio; `maxSize` bounds the member count (default 120); `refDate` picks its days
 * (`refDate`, 2000-2099, by default; `pastRefDate` for portfolios the pipeline stores).
 */
export const portfolio = (
  options?: {
    readonly maxSize?: number
    readonly segment?: Segment
    readonly refDate?: fc.Arbitrary<RefDate>
  }
): fc.Arbitrary<Portfolio> =>
  fc
    .record({
      indexCode,
      refDate: options?.refDate ?? refDate,
      size: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: options?.maxSize ?? 120 })),
      segment: options?.segment !== undefined ? fc.constant(options.segment) : segment,
      seed: fc.integer({ min: 0, max: 1_000_000 })
    })
    .map((o) => generatePortfolio(o))

export type WireFormat = "GetPortfolioDay" | "GetTheoricalPortfolio" | "CSV" | "Download"

/** One payload of a portfolio in some format, language and page size, with what decoding must give. */
export interface EncodedCase {
  readonly source: Portfolio
  readonly wire: WireFormat
  readonly language: Language
  readonly pages: ReadonlyArray<Uint8Array>
  readonly options: B3Wire.DecodeOptions
  /** The portfolio a decode must return. */
  readonly expected: Portfolio
}

export const encodedCase = (wires?: ReadonlyArray<WireFormat>): fc.Arbitrary<EncodedCase> =>
  fc
    .record({
      source: portfolio(),
      wire: fc.constantFrom(...(wires ?? (["GetPortfolioDay", "GetTheoricalPortfolio", "CSV", "Download"] as const))),
      language,
      pageSize: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 130 }), fc.constant(9999)),
      encoding: fc.constantFrom("latin1" as const, "utf8" as const),
      eol: fc.constantFrom("\r\n" as const, "\n" as const),
      quoted: fc.boolean()
    })
    .map(({ encoding, eol, language, pageSize, quoted, source, wire }): EncodedCase => {
      switch (wire) {
        case "GetPortfolioDay":
          return {
            source,
            wire,
            language,
            pages: B3Encode.encodePortfolioDay(source, { language, pageSize }),
            options: { indexCode: source.indexCode },
            expected: { ...source, language, format: "GetPortfolioDay" }
          }
        case "GetTheoricalPortfolio":
          return {
            source,
            wire,
            language,
            pages: B3Encode.encodeTheoricalPortfolio(source, { language, pageSize }),
            options: { indexCode: source.indexCode, refDate: source.refDate },
            expected: {
              ...source,
              language,
              format: "GetTheoricalPortfolio",
              segment: "1",
              sectors: source.sectors.map(() => null)
            }
          }
        case "CSV":
          return {
            source,
            wire,
            language,
            pages: [B3Encode.encodeCsv(source, { encoding, eol, language })],
            options: {},
            expected: { ...source, language, format: "CSV" }
          }
        case "Download":
          return {
            source,
            wire,
            language: "pt-br",
            pages: [B3Encode.encodeDownload(source, { quoted })],
            options: { format: "CSV", indexCode: source.indexCode },
            expected: { ...source, language: "pt-br", format: "CSV" }
          }
      }
    })

/** Byte-level damage: flips, deletions, insertions, truncation. */
export const mutate = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.record({
        kind: fc.constantFrom("flip", "delete", "insert", "truncate", "swapSep", "digit"),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 })
      }),
      { minLength: 1, maxLength: 4 }
    )
    .map((edits) => {
      let b = Array.from(bytes)
      for (const e of edits) {
        if (b.length === 0) break
        const at = e.at % b.length
        switch (e.kind) {
          case "flip":
            b[at] = e.byte
            break
          case "delete":
            b.splice(at, 1)
            break
          case "insert":
            b.splice(at, 0, e.byte)
            break
          case "truncate":
            b = b.slice(0, at)
            break
          case "swapSep": {
            // the locale trap: turn the next '.' into ',' or the reverse
            for (let i = at; i < b.length; i++) {
              if (b[i] === 46 || b[i] === 44) {
                b[i] = b[i] === 46 ? 44 : 46
                break
              }
            }
            break
          }
          case "digit": {
            for (let i = at; i < b.length; i++) {
              const c = b[i] ?? 0
              if (c >= 48 && c <= 57) {
                b[i] = 48 + ((c - 48 + 1 + (e.byte % 9)) % 10)
                break
              }
            }
            break
          }
        }
      }
      return Uint8Array.from(b)
    })
