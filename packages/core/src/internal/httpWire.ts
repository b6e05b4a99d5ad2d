/**
 * B3's HTTP protocol, without any I/O: the URL of a call (JSON params, base64, as the last path
 * segment), and the classification of one HTTP response into "good page" or a typed failure.
 * Shared by the HTTP source and (for the decoding direction) the simulator's tests.
 *
 * @since 0.1.0
 */
import type { PageInfo } from "../B3Json.js"
import { isPageEnvelope } from "../B3Json.js"
import type { FetchMethod, FetchRequest } from "../PortfolioSource.js"
import { FetchError } from "../PortfolioSource.js"

/** B3's public endpoint. */
export const DEFAULT_BASE_URL = "https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall"

/**
 * The params object of a call, with its keys in the order B3's web page sends them
 * (`language, pageNumber, pageSize, index, segment`; the download takes `index, language`).
 */
export const paramsFor = (
  req: FetchRequest,
  pageNumber: number,
  pageSize: number
): Record<string, string | number> => {
  switch (req.method) {
    case "GetPortfolioDay":
      return { language: req.language, pageNumber, pageSize, index: req.indexCode, segment: req.segment }
    case "GetTheoricalPortfolio":
      return { language: req.language, pageNumber, pageSize, index: req.indexCode }
    case "GetDownloadPortfolioDay":
      return { index: req.indexCode, language: req.language }
  }
}

/** Standard base64 (with `=` padding) of the UTF-8 bytes of `text`; no Node `Buffer` needed. */
export const base64Utf8 = (text: string): string => {
  const bytes = new TextEncoder().encode(text)
  let bin = ""
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

/** The inverse of `base64Utf8`; `undefined` when `b64` is not base64 or not UTF-8 JSON. */
export const decodeParams = (b64: string): Record<string, unknown> | undefined => {
  try {
    const bin = atob(b64)
    const bytes = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined
  } catch {
    return undefined
  }
}

/** `GET <baseUrl>/<Method>/<base64(JSON params)>`. */
export const urlFor = (baseUrl: string, method: FetchMethod, params: Record<string, unknown>): string =>
  `${baseUrl.replace(/\/+$/, "")}/${method}/${base64Utf8(JSON.stringify(params))}`

/** The response headers worth keeping in a `RequestRecord`. */
export const KEPT_HEADERS = ["content-type", "content-length", "content-encoding", "date", "cf-ray", "retry-after"]

export const keptHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const h of KEPT_HEADERS) {
    const v = headers[h]
    if (v !== undefined) out[h] = v
  }
  return out
}

/**
 * `Retry-After` in milliseconds: delta-seconds (`"120"`) or an HTTP date, relative to `nowMs`.
 * `undefined` when absent or unreadable; never negative.
 */
export const parseRetryAfter = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** Where a failure happened, for the error's fields. */
export interface Where {
  readonly indexCode: string
  readonly method: FetchMethod
  readonly page: number
}

/** One failed try: the typed error plus what the retry schedule needs to know. */
export interface AttemptFailure {
  readonly error: FetchError
  /** The server's `Retry-After`, in ms. */
  readonly retryAfterMs?: number
}

/** A good JSON page: its value (parsed once, handed to the decoder) and what pagination needs. */
export interface JsonPage {
  /** The page's envelope, as `B3Json.PageEnvelope` defines it. */
  readonly page: PageInfo
  /** `results.length` of this page. */
  readonly rows: number
  /** The whole page's JSON value (`JSON.parse` of the page text, done once here). */
  readonly json: unknown
}

const fail = (
  where: Where,
  reason: FetchError["reason"],
  extra: { status?: number; detail?: string; cause?: unknown; retryAfterMs?: number | undefined } = {}
): AttemptFailure => ({
  error: new FetchError({
    reason,
    indexCode: where.indexCode,
    method: where.method,
    page: where.page,
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    ...(extra.cause !== undefined ? { cause: extra.cause } : {})
  }),
  ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {})
})

/** Classifies a non-200 status. */
export const classifyStatus = (
  where: Where,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: string,
  nowMs: number
): AttemptFailure => {
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(headers["retry-after"], nowMs) : undefined
  const snippet = body.slice(0, 120).replace(/\s+/g, " ")
  if (status === 429) return fail(where, "RateLimited", { status, retryAfterMs, detail: "HTTP 429" })
  if (status === 408 || status === 504 || status === 524) return fail(where, "Timeout", { status })
  if (status >= 500) return fail(where, "Unavailable", { status, retryAfterMs, detail: snippet })
  if (status === 404) return fail(where, "NotFound", { status, detail: snippet })
  if (status === 403 && looksLikeHtml(headers, body)) {
    return fail(where, "NotJson", { status, detail: `HTML page instead of JSON (challenge?): ${snippet}` })
  }
  return fail(where, "BadStatus", { status, detail: snippet })
}

const looksLikeHtml = (headers: Readonly<Record<string, string>>, body: string): boolean =>
  (headers["content-type"] ?? "").includes("html") || /^\s*</.test(body)

/**
 * A 200 JSON page: valid JSON with a `page` envelope and a `results` array (`B3Json.PageEnvelope`,
 * the one definition). HTML -> `NotJson`; JSON that ends early -> `Truncated` (retryable); a JSON
 * error body -> `NotJson`. This is the page's one `JSON.parse`: the value goes to the decoder.
 */
export const classifyJsonPage = (
  where: Where,
  headers: Readonly<Record<string, string>>,
  text: string
): AttemptFailure | JsonPage => {
  if (looksLikeHtml(headers, text)) {
    return fail(where, "NotJson", {
      status: 200,
      detail: `HTML page instead of JSON (challenge?): ${text.slice(0, 120).replace(/\s+/g, " ")}`
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    const t = text.trimStart()
    if (t.startsWith("{") || t.startsWith("[") || t.length === 0) {
      return fail(where, "Truncated", { status: 200, detail: `JSON ends early after ${text.length} chars`, cause })
    }
    return fail(where, "NotJson", { status: 200, detail: `not JSON: ${text.slice(0, 120)}`, cause })
  }
  if (!isPageEnvelope(value)) {
    return fail(where, "NotJson", {
      status: 200,
      detail: `JSON without a page envelope (error body?): ${text.slice(0, 160)}`
    })
  }
  return { page: value.page, rows: value.results.length, json: value }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * A 200 `GetDownloadPortfolioDay` body: base64 text, maybe JSON-quoted. An unterminated quote or a
 * length that is not a multiple of 4 -> `Truncated`; HTML or any other JSON -> `NotJson`; an empty
 * body (`""`) -> `NotFound`.
 */
export const classifyDownload = (
  where: Where,
  headers: Readonly<Record<string, string>>,
  text: string
): AttemptFailure | undefined => {
  if (looksLikeHtml(headers, text)) {
    return fail(where, "NotJson", { status: 200, detail: `HTML page instead of the download: ${text.slice(0, 120)}` })
  }
  let t = text.trim()
  if (t.startsWith("\"")) {
    if (t.length < 2 || !t.endsWith("\"")) {
      return fail(where, "Truncated", { status: 200, detail: `quoted base64 ends early after ${text.length} chars` })
    }
    t = t.slice(1, -1)
  } else if (t.startsWith("{") || t.startsWith("[")) {
    return fail(where, "NotJson", {
      status: 200,
      detail: `JSON instead of the download (error body?): ${t.slice(0, 160)}`
    })
  }
  if (t.length === 0) return fail(where, "NotFound", { status: 200, detail: "empty download (unknown index?)" })
  if (!BASE64.test(t)) return fail(where, "NotJson", { status: 200, detail: `not base64: ${t.slice(0, 80)}` })
  if (t.length % 4 !== 0) {
    return fail(where, "Truncated", { status: 200, detail: `base64 of ${t.length} chars ends early` })
  }
  return undefined
}

/** Builds a failure (for transport errors and the source's own checks). */
export const failure = fail

export const isFailure = (u: AttemptFailure | JsonPage | undefined): u is AttemptFailure =>
  u !== undefined && "error" in u
