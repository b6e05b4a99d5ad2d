/**
 * The `PortfolioSource` port (stage 1, fetch): an index and options in, the payload bytes out,
 * with a record of every request that produced them. The bytes are kept exactly as received: the
 * raw archive is the only history of B3's portfolios there will ever be.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { IndexCode, Language, RefDate, Segment } from "./Domain.js"

/** The B3 methods a source can call. @category models */
export const FetchMethod = Schema.Literal("GetPortfolioDay", "GetTheoricalPortfolio", "GetDownloadPortfolioDay")
/** @category models */
export type FetchMethod = typeof FetchMethod.Type

/** What to fetch. @category models */
export interface FetchRequest {
  readonly indexCode: IndexCode
  readonly method: FetchMethod
  readonly language: Language
  /** GetPortfolioDay only; `"2"` (by sector) by default. */
  readonly segment: Segment
}

/** Sensible defaults: the day's portfolio, pt-BR, by sector. @category constructors */
export const request = (indexCode: IndexCode, options?: Partial<Omit<FetchRequest, "indexCode">>): FetchRequest => ({
  indexCode,
  method: options?.method ?? "GetPortfolioDay",
  language: options?.language ?? "pt-br",
  segment: options?.segment ?? "2"
})

/** One HTTP exchange (or one file read) behind a payload. @category models */
export interface RequestRecord {
  readonly method: string
  readonly url: string
  /** The decoded JSON params of the call (B3 puts them base64-encoded in the path). */
  readonly params: Readonly<Record<string, unknown>>
  readonly status: number
  /** Response headers that matter (content-type, date, cf-ray, retry-after, ...). */
  readonly headers: Readonly<Record<string, string>>
  /** ISO timestamp of the request start. */
  readonly startedAt: string
  readonly durationMs: number
  /** 1 for the first try. */
  readonly attempt: number
}

/** One page of a payload: the exact response bytes and the request that returned them. @category models */
export interface PayloadPage {
  readonly bytes: Uint8Array
  readonly request: RequestRecord
  /**
   * The page's JSON value, when the source has already parsed it from exactly `bytes` (the HTTP
   * source does, once, to check the envelope): the decoder uses it instead of parsing the page a
   * second time. In memory only: the archive keeps `bytes`, and a replay parses them.
   */
  readonly json?: unknown
}

/**
 * A fetched payload: one or more pages (`GetPortfolioDay` paginates), in page order.
 *
 * @category models
 */
export interface Payload {
  readonly request: FetchRequest
  readonly pages: ReadonlyArray<PayloadPage>
  /** ISO timestamp when the fetch completed. */
  readonly fetchedAt: string
  /**
   * The date to use when the payload carries none (`GetTheoricalPortfolio`), or to override it
   * (a user's `--date`). Never the clock's date by default.
   */
  readonly refDate?: RefDate
  /** Where the payload came from, for messages (`b3`, `file:/path`, `simulated`). */
  readonly origin: string
}

/** @category errors */
export class FetchError extends Schema.TaggedError<FetchError>()("FetchError", {
  reason: Schema.Literal(
    "Timeout",
    "RateLimited",
    "Unavailable",
    "BadStatus",
    "NotJson",
    "Truncated",
    "PageCountChanged",
    "Deadline",
    "Transport",
    "NotFound"
  ),
  indexCode: Schema.String,
  method: Schema.String,
  page: Schema.optional(Schema.Number),
  status: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const where = `${this.method} ${this.indexCode}${this.page !== undefined ? ` page ${this.page}` : ""}`
    return `fetch failed (${this.reason}) for ${where}${this.status !== undefined ? `, HTTP ${this.status}` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  /** Worth another try by the one retry owner (the HTTP source's schedule). */
  get retryable(): boolean {
    return this.reason === "Timeout" || this.reason === "RateLimited" || this.reason === "Unavailable" ||
      this.reason === "Transport" || this.reason === "Truncated"
  }
}

/** @category tags */
export class PortfolioSource extends Context.Tag("@b3-pipeline/core/PortfolioSource")<PortfolioSource, {
  readonly fetch: (request: FetchRequest) => Effect.Effect<Payload, FetchError>
}>() {}

/**
 * A source serving fixed payloads by index code (tests). An unknown index fails with `NotFound`.
 *
 * @category layers
 */
export const layerMemory = (
  payloads: ReadonlyMap<string, ReadonlyArray<Uint8Array>>,
  options?: { readonly refDate?: RefDate }
): Layer.Layer<PortfolioSource> =>
  Layer.succeed(
    PortfolioSource,
    PortfolioSource.of({
      fetch: (req) => {
        const pages = payloads.get(req.indexCode)
        if (pages === undefined) {
          return Effect.fail(new FetchError({ reason: "NotFound", indexCode: req.indexCode, method: req.method }))
        }
        return Effect.map(Clock.currentTimeMillis, (ms) => {
          const now = new Date(ms).toISOString()
          return {
            request: req,
            origin: "memory",
            fetchedAt: now,
            ...(options?.refDate !== undefined ? { refDate: options.refDate } : {}),
            pages: pages.map((bytes, i) => ({
              bytes,
              request: {
                method: "GET",
                url: `memory://${req.method}/${req.indexCode}/${i + 1}`,
                params: { index: req.indexCode, language: req.language, pageNumber: i + 1, segment: req.segment },
                status: 200,
                headers: {},
                startedAt: now,
                durationMs: 0,
                attempt: 1
              }
            }))
          }
        })
      }
    })
  )
