/**
 * The HTTP source against a scripted in-memory HttpClient, on the TestClock: URLs, pagination,
 * every failure class, the retry schedule (back-off, Retry-After), deadlines, the CSV fallback and
 * fetchMany's concurrency bound. (Real sockets: packages/b3-simulator/test.)
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import * as B3HttpSource from "@b3-pipeline/core/B3HttpSource"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { IndexCode, Language, Segment } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import type { FetchError, Payload } from "@b3-pipeline/core/PortfolioSource"
import { PortfolioSource, request } from "@b3-pipeline/core/PortfolioSource"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { RequestError } from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { vi } from "vitest"
import {
  classifyDownload,
  classifyJsonPage,
  decodeParams,
  paramsFor,
  parseRetryAfter,
  urlFor
} from "../src/internal/httpWire.js"

type Reply =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body: string | Uint8Array }
  | "hang"
  | "reset"
  | { readonly delay: Duration.DurationInput; readonly then: Reply }

interface Call {
  readonly method: string
  readonly params: Record<string, unknown>
  readonly n: number
}

/** A scripted B3: `script` answers each call; calls are logged; in-flight counted. */
const fakeB3 = (script: (call: Call) => Reply) => {
  const calls: Array<Call> = []
  const state = { inFlight: 0, maxInFlight: 0 }
  const reply = (req: HttpClientRequest.HttpClientRequest, r: Reply): Effect.Effect<
    HttpClientResponse.HttpClientResponse,
    RequestError
  > => {
    if (r === "hang") return Effect.never
    if (r === "reset") {
      return Effect.fail(new RequestError({ request: req, reason: "Transport", description: "ECONNRESET" }))
    }
    if ("delay" in r) return Effect.zipRight(Effect.sleep(r.delay), reply(req, r.then))
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        req,
        new Response(r.body, {
          status: r.status ?? 200,
          headers: { "content-type": "application/json; charset=utf-8", ...r.headers }
        })
      )
    )
  }
  const client = HttpClient.make((req, url) => {
    const parts = url.pathname.split("/")
    const call: Call = {
      method: parts[parts.length - 2]!,
      params: decodeParams(parts[parts.length - 1]!) ?? {},
      n: calls.length + 1
    }
    calls.push(call)
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    return Effect.ensuring(reply(req, script(call)), Effect.sync(() => void state.inFlight--))
  })
  return { calls, state, client: Layer.succeed(HttpClient.HttpClient, client) }
}

/** A GetPortfolioDay page of `rows` dummy rows. */
const page = (pageNumber: number, pageSize: number, totalRecords: number, rows?: number): string => {
  const totalPages = Math.ceil(totalRecords / pageSize)
  const n = rows ?? Math.max(0, Math.min(pageSize, totalRecords - (pageNumber - 1) * pageSize))
  const results = Array.from({ length: n }, (_, i) => ({ cod: `ABCD${(i % 9) + 1}`, segment: "Teórica" }))
  return JSON.stringify({ page: { pageNumber, pageSize, totalRecords, totalPages }, header: {}, results })
}

/** Pages of an index of `total` rows, whatever page size the client asks. */
const pagesOf = (total: number) => (c: Call): Reply => ({
  body: page(c.params.pageNumber as number, c.params.pageSize as number, total)
})

const CSV_B64 = "\"SUJPViAtIENhcnRlaXJhIGRvIERpYSAwMy8xMC8yNQ==\""

const fast = {
  baseUrl: "http://b3.test/indexProxy/indexCall",
  politeDelay: "0 millis",
  requestTimeout: "5 seconds",
  deadline: "10 minutes",
  retry: { jitter: false, baseDelay: "500 millis", maxDelay: "8 seconds", maxAttempts: 4 }
} satisfies B3HttpSource.B3HttpSourceInput

const IBOV = "IBOV" as IndexCode

const fetchWith = (
  fake: ReturnType<typeof fakeB3>,
  options: B3HttpSource.B3HttpSourceInput = {},
  req = request(IBOV)
): Effect.Effect<Payload, FetchError> =>
  Effect.flatMap(PortfolioSource, (s) => s.fetch(req)).pipe(
    Effect.provide(B3HttpSource.layer({ ...fast, ...options }).pipe(Layer.orDie, Layer.provide(fake.client)))
  )

/** Lets real promises (the fake's `Response` bodies) settle. */
const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Runs `self` in a fiber and moves the TestClock until it ends, from one pending sleep to the next
 * (`TestClock.sleeps`), after letting the fiber settle: back-off delays are then observed exactly.
 */
const drive = <A, E>(self: Effect.Effect<A, E>, maxSteps = 1_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(self)
    for (let i = 0; i < maxSteps; i++) {
      for (let k = 0; k < 3; k++) yield* settle
      if ((yield* Fiber.poll(fiber))._tag === "Some") break
      const sleeps = yield* TestClock.sleeps()
      if (sleeps.length > 0) yield* TestClock.setTime(Math.min(...sleeps))
    }
    return yield* Fiber.await(fiber)
  })

const failed = <A>(exit: Exit.Exit<A, FetchError>): FetchError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a payload")
  const e = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (e === undefined) throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return e
}

describe("B3HttpSource: URLs", () => {
  it("params in B3's key order, standard base64 with padding, in the last path segment", () => {
    const req = request(IBOV, { segment: "1" })
    const params = paramsFor(req, 1, 20)
    assert.deepStrictEqual(Object.keys(params), ["language", "pageNumber", "pageSize", "index", "segment"])
    const url = urlFor("https://x/indexProxy/indexCall/", "GetPortfolioDay", params)
    // the string B3's own page sends for IBOV by ticker, page 1 of 20
    assert.strictEqual(
      url,
      "https://x/indexProxy/indexCall/GetPortfolioDay/" +
        "eyJsYW5ndWFnZSI6InB0LWJyIiwicGFnZU51bWJlciI6MSwicGFnZVNpemUiOjIwLCJpbmRleCI6IklCT1YiLCJzZWdtZW50IjoiMSJ9"
    )
    assert.deepStrictEqual(
      paramsFor({ ...req, method: "GetDownloadPortfolioDay" }, 1, 20),
      { index: "IBOV", language: "pt-br" }
    )
    assert.deepStrictEqual(Object.keys(paramsFor({ ...req, method: "GetTheoricalPortfolio" }, 2, 20)), [
      "language",
      "pageNumber",
      "pageSize",
      "index"
    ])
    const padded = urlFor("b", "GetDownloadPortfolioDay", { index: "IBRA", language: "en-us" })
    assert.isTrue(padded.endsWith("="), padded)
  })
})

describe("B3HttpSource: wire properties", () => {
  it.prop(
    "the URL's last segment decodes back to the params, keys in order",
    {
      indexCode: IndexCode,
      language: Language,
      segment: Segment,
      pageNumber: Schema.Int.pipe(Schema.between(1, 500)),
      pageSize: Schema.Int.pipe(Schema.between(1, 9999))
    },
    ({ indexCode, language, pageNumber, pageSize, segment }) => {
      for (const method of ["GetPortfolioDay", "GetTheoricalPortfolio", "GetDownloadPortfolioDay"] as const) {
        const params = paramsFor({ indexCode, language, segment, method }, pageNumber, pageSize)
        const url = urlFor("http://h/indexProxy/indexCall", method, params)
        const last = url.slice(url.lastIndexOf("/") + 1)
        assert.match(last, /^[A-Za-z0-9+/]+={0,2}$/)
        assert.strictEqual(last.length % 4, 0)
        const back = decodeParams(last)!
        assert.deepStrictEqual(back, params)
        assert.deepStrictEqual(Object.keys(back), Object.keys(params))
        assert.strictEqual(url.split("/").at(-2), method)
      }
    },
    { fastCheck: { numRuns: 100 } }
  )

  it.prop("any body is classified (a page or a typed failure), never thrown", { body: Schema.String }, ({ body }) => {
    const where = { indexCode: "IBOV", method: "GetPortfolioDay" as const, page: 1 }
    for (const text of [body, `{"page":${body}`, `"${body}`]) {
      const r = classifyJsonPage(where, {}, text)
      if ("error" in r) assert.strictEqual(r.error._tag, "FetchError")
      const d = classifyDownload({ ...where, method: "GetDownloadPortfolioDay" }, {}, text)
      if (d !== undefined) assert.include(["NotJson", "Truncated", "NotFound"], d.error.reason)
    }
  }, { fastCheck: { numRuns: 200 } })

  it("Retry-After: seconds, HTTP dates (past ones clamp to 0), garbage ignored", () => {
    assert.strictEqual(parseRetryAfter("120", 0), 120_000)
    assert.strictEqual(parseRetryAfter(new Date(5_000).toUTCString(), 1_000), 4_000)
    assert.strictEqual(parseRetryAfter(new Date(5_000).toUTCString(), 9_000), 0)
    assert.isUndefined(parseRetryAfter("soon", 0))
    assert.isUndefined(parseRetryAfter(undefined, 0))
  })
})

describe("B3HttpSource: pages", () => {
  for (const [pageSize, total, expected] of [[1, 3, 3], [20, 45, 3], [9999, 187, 1]] as const) {
    it.effect(`pageSize ${pageSize}, ${total} rows -> ${expected} requests, exact bytes kept`, () =>
      Effect.gen(function*() {
        const fake = fakeB3(pagesOf(total))
        const payload = yield* fetchWith(fake, { pageSize })
        assert.strictEqual(payload.pages.length, expected)
        assert.strictEqual(fake.calls.length, expected)
        payload.pages.forEach((p, i) => {
          assert.strictEqual(new TextDecoder().decode(p.bytes), page(i + 1, pageSize, total))
          assert.deepStrictEqual(p.request.params, {
            language: "pt-br",
            pageNumber: i + 1,
            pageSize,
            index: "IBOV",
            segment: "2"
          })
          assert.strictEqual(p.request.status, 200)
          assert.strictEqual(p.request.method, "GET")
          assert.strictEqual(p.request.url, urlFor(fast.baseUrl, "GetPortfolioDay", p.request.params))
          assert.strictEqual(p.request.attempt, 1)
          assert.strictEqual(p.request.headers["content-type"], "application/json; charset=utf-8")
        })
        assert.strictEqual(payload.request.method, "GetPortfolioDay")
        assert.strictEqual(payload.origin, "b3")
      }))
  }

  it.effect("each page is parsed once: the source's value reaches the decoder with the exact bytes", () =>
    Effect.gen(function*() {
      const portfolio = generatePortfolio({ indexCode: IBOV, refDate: "2025-10-03" as RefDate })
      const pages = B3Encode.encodePortfolioDay(portfolio, { language: "pt-br", pageSize: 20 })
      const texts = pages.map((b) => new TextDecoder().decode(b))
      const fake = fakeB3((c) => ({ body: texts[(c.params.pageNumber as number) - 1] ?? "" }))
      const parse = vi.spyOn(JSON, "parse")
      const payload = yield* fetchWith(fake, { pageSize: 20 })
      const decoded = yield* B3Wire.decodePayload(payload)
      const pageParses = parse.mock.calls.filter(([text]) => typeof text === "string" && texts.includes(text))
      parse.mockRestore()
      assert.isAbove(pages.length, 1)
      assert.strictEqual(pageParses.length, pages.length, "one JSON.parse per page, fetch and decode together")
      assert.deepStrictEqual(payload.pages.map((p) => p.bytes), pages)
      assert.strictEqual(decoded.size, portfolio.size)
      assert.deepStrictEqual(decoded.tickers, portfolio.tickers)
    }).pipe(Effect.ensuring(Effect.sync(() => vi.restoreAllMocks()))))

  it.effect("UTF-8 bytes are kept as sent (no latin1 round trip)", () =>
    Effect.gen(function*() {
      const body = page(1, 9999, 2)
      const fake = fakeB3(() => ({ body }))
      const payload = yield* fetchWith(fake)
      assert.deepStrictEqual(payload.pages[0]!.bytes, new TextEncoder().encode(body))
      assert.include(new TextDecoder().decode(payload.pages[0]!.bytes), "Teórica")
    }))

  it.effect("a totalRecords that changes between pages -> PageCountChanged naming page 2", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => ({
        body: page(c.params.pageNumber as number, 20, c.params.pageNumber === 1 ? 45 : 46)
      }))
      const e = yield* Effect.flip(fetchWith(fake, { pageSize: 20, fallbackToCsv: false }))
      assert.strictEqual(e.reason, "PageCountChanged")
      assert.strictEqual(e.page, 2)
      assert.strictEqual(e.indexCode, "IBOV")
      assert.strictEqual(e.method, "GetPortfolioDay")
    }))

  it.effect("pages that hold fewer rows than totalRecords -> Truncated, never a partial portfolio", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => ({ body: page(c.params.pageNumber as number, 9999, 180, 120) }))
      const e = yield* Effect.flip(fetchWith(fake, { fallbackToCsv: false }))
      assert.strictEqual(e.reason, "Truncated")
      assert.include(e.detail!, "120 rows")
    }))

  it.effect("a server that ignores pageNumber -> error, not duplicated rows", () =>
    Effect.gen(function*() {
      const fake = fakeB3(() => ({ body: page(1, 20, 45) }))
      const e = yield* Effect.flip(fetchWith(fake, { pageSize: 20, fallbackToCsv: false }))
      assert.strictEqual(e.reason, "PageCountChanged")
      assert.strictEqual(e.page, 2)
    }))

  it.effect("an empty portfolio -> NotFound, no CSV fallback", () =>
    Effect.gen(function*() {
      const fake = fakeB3(() => ({ body: page(1, 9999, 0) }))
      const e = yield* Effect.flip(fetchWith(fake))
      assert.strictEqual(e.reason, "NotFound")
      assert.strictEqual(fake.calls.length, 1)
    }))
})

describe("B3HttpSource: retries", () => {
  it.effect("520 twice then 200: recovered on try 3 after 500 + 1000 ms of back-off", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => c.n <= 2 ? { status: 520, body: "<html>520</html>" } : pagesOf(10)(c))
      const fiber = yield* Effect.fork(fetchWith(fake, { fallbackToCsv: false }))
      yield* TestClock.adjust("1499 millis")
      assert.strictEqual(fake.calls.length, 2)
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust("1 millis")
      const payload = yield* Fiber.join(fiber)
      assert.strictEqual(fake.calls.length, 3)
      assert.strictEqual(payload.pages[0]!.request.attempt, 3)
    }))

  it.effect("429 with Retry-After: 30 waits 30 s, not the 500 ms back-off", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) =>
        c.n === 1 ? { status: 429, headers: { "retry-after": "30" }, body: "slow down" } : pagesOf(10)(c)
      )
      const fiber = yield* Effect.fork(fetchWith(fake))
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual(fake.calls.length, 1)
      yield* TestClock.adjust("1 second")
      const payload = yield* Fiber.join(fiber)
      assert.strictEqual(payload.pages[0]!.request.attempt, 2)
      assert.strictEqual(payload.request.method, "GetPortfolioDay")
    }))

  it.effect("503 with Retry-After as an HTTP date", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) =>
        c.n === 1
          ? { status: 503, headers: { "retry-after": new Date(12_000).toUTCString() }, body: "" }
          : pagesOf(10)(c)
      )
      const fiber = yield* Effect.fork(fetchWith(fake))
      yield* TestClock.adjust("11 seconds")
      assert.strictEqual(fake.calls.length, 1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.calls.length, 2)
    }))

  it.effect("jittered back-off stays within [0.8, 1.2) of the exponential delay (to the millisecond)", () =>
    Effect.gen(function*() {
      const gaps: Array<Array<number>> = []
      for (let run = 0; run < 8; run++) {
        const starts: Array<number> = []
        const fake = fakeB3((c) => c.n <= 3 ? { status: 520, body: "" } : pagesOf(3)(c))
        const exit = yield* drive(
          fetchWith(fake, {
            retry: { ...fast.retry, jitter: true },
            onExchange: (x) => void starts.push(Date.parse(x.record.startedAt))
          })
        )
        assert.isTrue(Exit.isSuccess(exit))
        gaps.push(starts.slice(1).map((t, i) => t - starts[i]!))
      }
      // The schedule's delays are fractional milliseconds, while `startedAt` is an ISO time with whole
      // milliseconds: each gap between two truncated instants can be off by up to 1 ms either way.
      for (const g of gaps) {
        g.forEach((gap, i) => {
          const nominal = 500 * 2 ** i
          assert.isTrue(gap >= 0.8 * nominal - 1 && gap <= 1.2 * nominal + 1, `gap ${i}: ${gap} ms`)
        })
      }
      // jitter does vary the delays
      assert.isAbove(new Set(gaps.map((g) => g[0])).size, 1)
    }))

  it.effect("a Retry-After beyond maxRetryAfter is not waited for: RateLimited at once", () =>
    Effect.gen(function*() {
      const fake = fakeB3(() => ({ status: 429, headers: { "retry-after": "3600" }, body: "" }))
      const e = yield* Effect.flip(fetchWith(fake, { fallbackToCsv: false }))
      assert.strictEqual(e.reason, "RateLimited")
      assert.strictEqual(e.status, 429)
      assert.strictEqual(fake.calls.length, 1)
    }))

  it.effect("connection resets and truncated bodies are retried", () =>
    Effect.gen(function*() {
      const full = page(1, 9999, 5)
      const fake = fakeB3((c) =>
        c.n === 1
          ? "reset"
          : c.n === 2
          ? { body: full.slice(0, 40) }
          : c.n === 3
          ? { body: full, headers: { "content-length": String(full.length + 10) } }
          : { body: full }
      )
      const exit = yield* drive(fetchWith(fake, { fallbackToCsv: false }))
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(fake.calls.length, 4)
    }))

  it.effect("520 forever: Unavailable after maxAttempts tries, naming index, method, page, status", () =>
    Effect.gen(function*() {
      const fake = fakeB3(() => ({ status: 520, body: "<html>520</html>" }))
      const exit = yield* drive(fetchWith(fake, { fallbackToCsv: false }))
      const e = failed(exit)
      assert.strictEqual(e.reason, "Unavailable")
      assert.strictEqual(e.status, 520)
      assert.strictEqual(e.page, 1)
      assert.strictEqual(fake.calls.length, 4)
      assert.include(e.message, "GetPortfolioDay IBOV page 1")
    }))

  it.effect("HTML challenge and JSON error bodies are NotJson, not retried", () =>
    Effect.gen(function*() {
      for (
        const reply of [
          {
            status: 403,
            headers: { "content-type": "text/html" },
            body: "<!DOCTYPE html><title>Just a moment...</title>"
          },
          { body: "<html>challenge</html>", headers: { "content-type": "text/html" } },
          { body: "{\"Message\":\"An error has occurred.\"}" }
        ]
      ) {
        const fake = fakeB3(() => reply)
        const e = yield* Effect.flip(fetchWith(fake, { fallbackToCsv: false }))
        assert.strictEqual(e.reason, "NotJson")
        assert.strictEqual(fake.calls.length, 1)
      }
    }))

  it.effect("a 400 is BadStatus, not retried", () =>
    Effect.gen(function*() {
      const fake = fakeB3(() => ({ status: 400, body: "{\"Message\":\"The request is invalid.\"}" }))
      const e = yield* Effect.flip(fetchWith(fake, { fallbackToCsv: false }))
      assert.strictEqual(e.reason, "BadStatus")
      assert.strictEqual(e.status, 400)
      assert.isFalse(e.retryable)
    }))
})

describe("B3HttpSource: fallback, timeouts, deadline", () => {
  it.effect("JSON endpoint keeps failing -> GetDownloadPortfolioDay, payload says so", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) =>
        c.method === "GetDownloadPortfolioDay" ? { body: CSV_B64 } : { status: 520, body: "<html>520</html>" }
      )
      const exit = yield* drive(fetchWith(fake))
      assert.isTrue(Exit.isSuccess(exit))
      const payload = Exit.isSuccess(exit) ? exit.value : undefined!
      assert.strictEqual(payload.request.method, "GetDownloadPortfolioDay")
      assert.strictEqual(payload.pages.length, 1)
      assert.deepStrictEqual(payload.pages[0]!.request.params, { index: "IBOV", language: "pt-br" })
      assert.strictEqual(new TextDecoder().decode(payload.pages[0]!.bytes), CSV_B64)
      assert.deepStrictEqual(fake.calls.map((c) => c.method), [
        "GetPortfolioDay",
        "GetPortfolioDay",
        "GetPortfolioDay",
        "GetPortfolioDay",
        "GetDownloadPortfolioDay"
      ])
    }))

  it.effect("both endpoints failing: the JSON error, with the CSV failure in its detail", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) =>
        c.method === "GetDownloadPortfolioDay" ? { body: "\"SUJPVi" } : { body: "<html>challenge</html>" }
      )
      const exit = yield* drive(fetchWith(fake))
      const e = failed(exit)
      assert.strictEqual(e.reason, "NotJson")
      assert.include(e.detail!, "CSV fallback failed too")
      assert.include(e.detail!, "Truncated")
    }))

  it.effect("download bodies: quoted and bare base64 accepted; cut or HTML ones rejected", () =>
    Effect.gen(function*() {
      const req = request(IBOV, { method: "GetDownloadPortfolioDay" })
      for (const body of [CSV_B64, CSV_B64.slice(1, -1)]) {
        const ok = yield* fetchWith(fakeB3(() => ({ body })), {}, req)
        assert.strictEqual(ok.pages.length, 1)
      }
      const cut = yield* drive(fetchWith(fakeB3(() => ({ body: CSV_B64.slice(0, 11) })), {}, req))
      assert.strictEqual(failed(cut).reason, "Truncated")
      const html = yield* Effect.flip(fetchWith(fakeB3(() => ({ body: "<html></html>" })), {}, req))
      assert.strictEqual(html.reason, "NotJson")
      const emptyFake = fakeB3(() => ({ body: "\"\"" }))
      const empty = yield* Effect.flip(fetchWith(emptyFake, {}, req))
      assert.strictEqual(empty.reason, "NotFound")
      assert.strictEqual(emptyFake.calls.length, 1)
    }))

  it.effect("a hung response times out per request and is retried", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => c.n === 1 ? "hang" : pagesOf(3)(c))
      const fiber = yield* Effect.fork(fetchWith(fake, { requestTimeout: "2 seconds" }))
      yield* TestClock.adjust("2 seconds")
      yield* TestClock.adjust("500 millis")
      const payload = yield* Fiber.join(fiber)
      assert.strictEqual(payload.pages[0]!.request.attempt, 2)
    }))

  it.effect("hung forever: Deadline, naming the page and the last error", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => c.params.pageNumber === 2 ? "hang" : pagesOf(30)(c))
      const fiber = yield* Effect.fork(
        fetchWith(fake, { pageSize: 20, requestTimeout: "3 seconds", deadline: "10 seconds", fallbackToCsv: false })
      )
      yield* TestClock.adjust("10 seconds")
      const e = failed(yield* Fiber.await(fiber))
      assert.strictEqual(e.reason, "Deadline")
      assert.strictEqual(e.page, 2)
      assert.include(e.detail!, "Timeout")
    }))

  it.effect("a slow page within the timeout is fine; politeDelay spaces the pages", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) => ({ delay: "1 second", then: pagesOf(25)(c) }))
      const fiber = yield* Effect.fork(fetchWith(fake, { pageSize: 20, politeDelay: "250 millis" }))
      yield* TestClock.adjust("2249 millis")
      assert.strictEqual(fake.calls.length, 2)
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust("1 millis")
      const payload = yield* Fiber.join(fiber)
      assert.strictEqual(payload.pages.length, 2)
    }))

  it.effect("onExchange sees failed tries too", () =>
    Effect.gen(function*() {
      const seen: Array<B3HttpSource.Exchange> = []
      const fake = fakeB3((c) => c.n === 1 ? { status: 520, body: "" } : pagesOf(3)(c))
      const exit = yield* drive(fetchWith(fake, { onExchange: (x) => void seen.push(x) }))
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(seen.map((x) => [x.record.attempt, x.record.status, x.error?.reason]), [
        [1, 520, "Unavailable"],
        [2, 200, undefined]
      ])
    }))
})

describe("B3HttpSource.fetchMany", () => {
  it.effect("bounded concurrency, per-index outcomes in order, progress reported", () =>
    Effect.gen(function*() {
      const fake = fakeB3((c) =>
        c.params.index === "IFIX"
          ? { status: 404, body: "" }
          : { delay: "100 millis", then: pagesOf(5)(c) }
      )
      const codes = ["IBOV", "IBRA", "IFIX", "SMLL", "IDIV", "UTIL", "IMOB"] as Array<IndexCode>
      const progress: Array<number> = []
      const run = B3HttpSource.fetchMany(codes, { segment: "1" }, {
        concurrency: 3,
        onProgress: (_, done) => void progress.push(done)
      }).pipe(Effect.provide(B3HttpSource.layer(fast).pipe(Layer.orDie, Layer.provide(fake.client))))
      const exit = yield* drive(run)
      assert.isTrue(Exit.isSuccess(exit))
      const outcomes = Exit.isSuccess(exit) ? exit.value : []
      assert.deepStrictEqual(outcomes.map((o) => o.indexCode), codes)
      assert.strictEqual(fake.state.maxInFlight, 3)
      assert.deepStrictEqual(progress, [1, 2, 3, 4, 5, 6, 7])
      const ifix = outcomes[2]!.result
      assert.isTrue(Either.isLeft(ifix) && ifix.left.reason === "NotFound")
      assert.strictEqual(outcomes.filter((o) => Either.isRight(o.result)).length, 6)
    }))
})

describe("B3HttpSource options", () => {
  it("defaults and validation", () => {
    const o = Either.getOrThrow(B3HttpSource.resolveOptions({ pageSize: 20, retry: { maxAttempts: 2 } }))
    assert.strictEqual(o.pageSize, 20)
    assert.strictEqual(o.retry.maxAttempts, 2)
    assert.strictEqual(o.retry.factor, 2)
    assert.strictEqual(o.baseUrl, "https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall")
    assert.strictEqual(Duration.toMillis(Duration.decode(o.deadline)), 120_000)
    const bad = B3HttpSource.resolveOptions({ pageSize: 0 })
    assert.isTrue(Either.isLeft(bad) && bad.left._op === "InvalidData" && bad.left.path.join(".") === "pageSize")
    const badRetry = B3HttpSource.resolveOptions({ retry: { maxAttempts: 0.5 } })
    assert.isTrue(Either.isLeft(badRetry) && String(badRetry.left).includes("retry.maxAttempts"))
  })

  it.effect("a bad option fails the layer's construction with a ConfigError naming it, not a defect", () =>
    Effect.gen(function*() {
      /** The layer's build fails (a typed failure, not a defect); the failure's text. */
      const buildFailure = (layer: Layer.Layer<PortfolioSource, unknown, HttpClient.HttpClient>, env = new Map()) =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(
            Layer.build(layer.pipe(Layer.provide(FetchHttpClient.layer))).pipe(
              Effect.scoped,
              Effect.withConfigProvider(ConfigProvider.fromMap(env))
            )
          )
          assert.isTrue(Exit.isFailure(exit) && Cause.isFailType(exit.cause), "a typed failure")
          return String(Exit.isFailure(exit) ? Cause.squash(exit.cause) : "")
        })
      assert.include(yield* buildFailure(B3HttpSource.layer({ pageSize: -1 })), "pageSize")
      const fromConfig = B3HttpSource.layerConfig(B3HttpSource.config)
      assert.include(yield* buildFailure(fromConfig, new Map([["B3_PAGE_SIZE", "many"]])), "B3_PAGE_SIZE")
      assert.include(yield* buildFailure(fromConfig, new Map([["B3_PAGE_SIZE", "0"]])), "pageSize")
    }))

  it.effect("config from the environment", () =>
    Effect.gen(function*() {
      const env = new Map([
        ["B3_BASE_URL", "http://127.0.0.1:9/indexProxy/indexCall"],
        ["B3_PAGE_SIZE", "20"],
        ["B3_DEADLINE", "30 seconds"],
        ["B3_MAX_ATTEMPTS", "3"],
        ["B3_FALLBACK_TO_CSV", "false"]
      ])
      const input = yield* Effect.withConfigProvider(B3HttpSource.config, ConfigProvider.fromMap(env))
      const o = Either.getOrThrow(B3HttpSource.resolveOptions(input))
      assert.strictEqual(o.baseUrl, "http://127.0.0.1:9/indexProxy/indexCall")
      assert.strictEqual(o.pageSize, 20)
      assert.strictEqual(Duration.toMillis(Duration.decode(o.deadline)), 30_000)
      assert.strictEqual(o.retry.maxAttempts, 3)
      assert.strictEqual(o.retry.baseDelay, "500 millis")
      assert.isFalse(o.fallbackToCsv)
      const empty = yield* Effect.withConfigProvider(B3HttpSource.config, ConfigProvider.fromMap(new Map()))
      assert.deepStrictEqual(empty, {})
    }))
})
