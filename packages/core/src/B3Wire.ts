/**
 * Stage 2 (parse): decoders and encoders for every B3 wire format. STUB: the signatures below are
 * the contract other modules build on; the codec helper replaces the bodies.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type { IndexCode, Language, Portfolio, RefDate, SourceFormat } from "./Domain.js"
import type { ParseError } from "./ParseError.js"
import type { Payload } from "./PortfolioSource.js"

/** @category decoding */
export interface DecodeOptions {
  /** `auto` (default) tells JSON from CSV and GetPortfolioDay from GetTheoricalPortfolio by content. */
  readonly format?: SourceFormat | "auto"
  /** Overrides language detection. */
  readonly language?: Language
  /** JSON payloads carry no index code: required for them; for CSV it must match the title's. */
  readonly indexCode?: IndexCode
  /** Required when the payload has no date (GetTheoricalPortfolio); must match the payload's date otherwise. */
  readonly refDate?: RefDate
}

/** Decodes the pages of one payload (one page for CSV). @category decoding */
export declare const decode: (
  pages: ReadonlyArray<Uint8Array>,
  options: DecodeOptions
) => Either.Either<Portfolio, ParseError>

/** Decodes a fetched payload, taking format, index, language and date from its request. @category decoding */
export declare const decodePayload: (payload: Payload) => Effect.Effect<Portfolio, ParseError>

/** GetPortfolioDay JSON pages (segment from the portfolio). @category encoding */
export declare const encodePortfolioDay: (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
) => ReadonlyArray<Uint8Array>

/** GetTheoricalPortfolio JSON pages. @category encoding */
export declare const encodeTheoricalPortfolio: (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
) => ReadonlyArray<Uint8Array>

/** The CSV download (by ticker, or by sector when the portfolio has sectors). @category encoding */
export declare const encodeCsv: (
  p: Portfolio,
  options?: { readonly encoding?: "latin1" | "utf8"; readonly eol?: "\r\n" | "\n" }
) => Uint8Array

/** The `GetDownloadPortfolioDay` body: the latin1 CSV in base64, optionally JSON-quoted. @category encoding */
export declare const encodeDownload: (p: Portfolio, options?: { readonly quoted?: boolean }) => Uint8Array
