/**
 * Fault injection for the B3 simulator: a `FaultPlan` looks at each request and may answer with a
 * `Fault` instead of the normal response. Plans are plain functions, so tests can write their own;
 * the presets below cover what B3 and Cloudflare really do.
 *
 * @since 0.1.0
 */

/** What the simulator knows about a request when the plan is asked. @category models */
export interface SimRequest {
  /** 1-based number of this request over the server's life (or since `stats.reset()`). */
  readonly n: number
  /** `GetPortfolioDay`, ... (the path segment after the base URL), or `""`. */
  readonly method: string
  /** The decoded JSON params, or `undefined` when they do not decode. */
  readonly params: Readonly<Record<string, unknown>> | undefined
  readonly indexCode: string | undefined
  readonly pageNumber: number | undefined
  /** How many times this exact path has been asked for, this request included (1 = first try). */
  readonly repeat: number
  readonly path: string
}

/** @category models */
export type Fault =
  /** Any status, e.g. Cloudflare's 520 (with an HTML body unless `body` is given). */
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly headers?: Readonly<Record<string, string>>
    readonly body?: string
  }
  /** Wait, then answer normally. */
  | { readonly _tag: "Delay"; readonly ms: number }
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  | { readonly _tag: "Hang" }
  /** Destroy the socket without a response (a connection reset). */
  | { readonly _tag: "Reset" }
  /**
   * Send only the first `keep` fraction of the body. `declareFullLength`: with the full
   * `content-length`, then cut the connection; otherwise chunked, ended cleanly (JSON that ends early).
   */
  | { readonly _tag: "Truncate"; readonly keep: number; readonly declareFullLength: boolean }
  /** Cloudflare's HTML challenge page ("Just a moment..."), status 403 by default. */
  | { readonly _tag: "Html"; readonly status: number }
  /** A JSON error body (`{"Message":"An error has occurred."}`), status 200 by default. */
  | { readonly _tag: "JsonError"; readonly status: number }
  /** Answer normally but with `totalRecords` moved by `delta` (and `totalPages` recomputed). */
  | { readonly _tag: "ChangeTotals"; readonly delta: number }

/** @category models */
export type FaultPlan = (request: SimRequest) => Fault | undefined

/** @category faults */
export const status = (code: number, headers?: Readonly<Record<string, string>>): Fault =>
  headers === undefined ? { _tag: "Status", status: code } : { _tag: "Status", status: code, headers }
/** @category faults */
export const delay = (ms: number): Fault => ({ _tag: "Delay", ms })
/** @category faults */
export const hang: Fault = { _tag: "Hang" }
/** @category faults */
export const reset: Fault = { _tag: "Reset" }
/** @category faults */
export const truncate = (keep = 0.5, declareFullLength = true): Fault => ({ _tag: "Truncate", keep, declareFullLength })
/** @category faults */
export const html = (code = 403): Fault => ({ _tag: "Html", status: code })
/** @category faults */
export const jsonError = (code = 200): Fault => ({ _tag: "JsonError", status: code })
/** @category faults */
export const changeTotals = (delta = 1): Fault => ({ _tag: "ChangeTotals", delta })

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

/** No faults. @category plans */
export const none: FaultPlan = () => undefined

/** `fault` on the first `n` tries of every path (each URL fails `n` times, then succeeds). @category plans */
export const perUrl = (n: number, fault: Fault, filter?: (r: SimRequest) => boolean): FaultPlan => (r) =>
  r.repeat <= n && (filter === undefined || filter(r)) ? fault : undefined

/** `fault` on the first `n` requests the server sees, whatever they are. @category plans */
export const firstRequests = (n: number, fault: Fault): FaultPlan => (r) => r.n <= n ? fault : undefined

/** Every request of one method. @category plans */
export const onMethod = (method: string, fault: Fault): FaultPlan => (r) => r.method === method ? fault : undefined

/** The first plan that answers wins. @category plans */
export const combine = (...plans: ReadonlyArray<FaultPlan>): FaultPlan => (r) => {
  for (const p of plans) {
    const f = p(r)
    if (f !== undefined) return f
  }
  return undefined
}

/** Cloudflare's 520 on the first `n` tries of every path. @category presets */
export const burst520 = (n = 2): FaultPlan => perUrl(n, status(520))

/** 429 with `Retry-After` (seconds or an HTTP date) on the first `n` tries of every path. @category presets */
export const rateLimited = (n = 1, retryAfter = "1"): FaultPlan => perUrl(n, status(429, { "retry-after": retryAfter }))

/** 503 with `Retry-After` on the first `n` tries of every path. @category presets */
export const unavailable = (n = 1, retryAfter = "1"): FaultPlan => perUrl(n, status(503, { "retry-after": retryAfter }))

/** Every response late by `ms`. @category presets */
export const slow = (ms: number): FaultPlan => () => delay(ms)

/** No answer on the first `n` tries of every path. @category presets */
export const hung = (n = 1): FaultPlan => perUrl(n, hang)

/** A body cut short on the first `n` tries of every path. @category presets */
export const truncated = (n = 1, declareFullLength = true): FaultPlan => perUrl(n, truncate(0.5, declareFullLength))

/** The HTML challenge page on the first `n` tries of every path (forever by default). @category presets */
export const htmlChallenge = (n = Infinity): FaultPlan => perUrl(n, html())

/** A JSON error body on the first `n` tries of every path (forever by default). @category presets */
export const jsonErrorBody = (n = Infinity): FaultPlan => perUrl(n, jsonError())

/** `totalRecords` (and so `totalPages`) moves on pages 2 and later: the portfolio changed mid-fetch. @category presets */
export const pageCountChanges = (delta = 1): FaultPlan => (r) =>
  r.pageNumber !== undefined && r.pageNumber >= 2 ? changeTotals(delta) : undefined

/** 32-bit FNV-1a, mapped to [0, 1). */
const unit = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // one round of xorshift-multiply to spread the low bits
  h = (h ^ (h >>> 16)) >>> 0
  h = Math.imul(h, 0x45d9f3b) >>> 0
  h = (h ^ (h >>> 16)) >>> 0
  return h / 0x1_0000_0000
}

/**
 * `fault` (520 by default) on a `rate` share of requests, decided by a hash of (seed, path, try
 * number): the same seed fails the same tries whatever the order the requests arrive in.
 *
 * @category presets
 */
export const random = (rate: number, seed = 1, fault: Fault = status(520)): FaultPlan => (r) =>
  unit(`${seed}:${r.path}:${r.repeat}`) < rate ? fault : undefined
