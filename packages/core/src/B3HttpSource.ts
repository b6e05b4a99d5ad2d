/**
 * The `PortfolioSource` that fetches from B3 over HTTP (stage 1, fetch), on @effect/platform's
 * `HttpClient` (whoever runs it provides the client: `NodeHttpClient.layerUndici`,
 * `FetchHttpClient.layer`).
 *
 * Protocol: `GET <baseUrl>/<Method>/<base64(JSON params)>` (see fixtures/b3/README.md).
 * - `GetPortfolioDay` pages are requested until `totalPages`; each page's envelope is checked
 *   against the first (a changed `totalPages`/`totalRecords` is `PageCountChanged`), the rows of
 *   all pages must add up to `totalRecords`, and the exact bytes of every page are kept.
 * - `GetDownloadPortfolioDay` (base64 CSV, sometimes JSON-quoted) is a method of its own and the
 *   fallback when the JSON endpoint keeps failing (`fallbackToCsv`, on by default).
 * - Retries are owned HERE and nowhere else: 5xx/520/429, resets, timeouts and truncated bodies are
 *   retried with exponential back-off and jitter, honouring `Retry-After`; the whole fetch has a
 *   deadline (`Deadline`).
 *
 * Page size: 9999 by default. B3 answers it with the whole portfolio in one page, so a day is one
 * request per index: one atomic snapshot (no page count that can change between pages), the fewest
 * chances of a 520, the least load on B3. The loop on `totalPages` stays, in case B3 ever caps it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { IndexCode } from "./Domain.js"
import * as httpRetry from "./internal/httpRetry.js"
import type { RetryOptions } from "./internal/httpRetry.js"
import type { AttemptFailure, JsonPage, Where } from "./internal/httpWire.js"
import * as wire from "./internal/httpWire.js"
import type { FetchMethod, FetchRequest, Payload, PayloadPage, RequestRecord } from "./PortfolioSource.js"
import { FetchError, PortfolioSource, request as makeRequest } from "./PortfolioSource.js"

/** @category models */
export type { RetryOptions }

/** One HTTP exchange as it happened, failed ones included (for logs and tests). @category models */
export interface Exchange {
  readonly indexCode: string
  readonly page: number
  readonly record: RequestRecord
  /** `undefined` when the exchange produced a good page. */
  readonly error: FetchError | undefined
}

/** @category models */
export interface B3HttpSourceOptions {
  /** Default B3's `https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall`. */
  readonly baseUrl: string
  /** Default 9999 (see the module comment). */
  readonly pageSize: number
  /** Per request, headers and body. Default 20 seconds. */
  readonly requestTimeout: Duration.DurationInput
  /** Per `fetch` (all pages, retries and the CSV fallback). Default 2 minutes. */
  readonly deadline: Duration.DurationInput
  readonly retry: RetryOptions
  /** Pause between two pages of one index. Default 250 millis. */
  readonly politeDelay: Duration.DurationInput
  /** Try `GetDownloadPortfolioDay` when `GetPortfolioDay` keeps failing. Default true. */
  readonly fallbackToCsv: boolean
  /** `Payload.origin`. Default `"b3"`. */
  readonly origin: string
  /** Extra request headers. */
  readonly headers: Readonly<Record<string, string>>
  /** Called after every exchange, good or bad. */
  readonly onExchange: ((exchange: Exchange) => void) | undefined
}

/** @category models */
export type B3HttpSourceInput = Partial<Omit<B3HttpSourceOptions, "retry">> & {
  readonly retry?: Partial<RetryOptions>
}

/** @category constructors */
export const defaults: B3HttpSourceOptions = {
  baseUrl: wire.DEFAULT_BASE_URL,
  pageSize: 9999,
  requestTimeout: "20 seconds",
  deadline: "2 minutes",
  retry: {
    maxAttempts: 5,
    baseDelay: "500 millis",
    maxDelay: "8 seconds",
    factor: 2,
    jitter: true,
    maxRetryAfter: "60 seconds"
  },
  politeDelay: "250 millis",
  fallbackToCsv: true,
  origin: "b3",
  headers: {},
  onExchange: undefined
}

const invalid = (path: ReadonlyArray<string>, value: number): ConfigError.ConfigError =>
  ConfigError.InvalidData([...path], `${path.join(".")} must be a positive integer, got ${value}`)

/**
 * Fills `input` with `defaults`; an option out of range is a `ConfigError` (`InvalidData`) whose
 * path names it (`pageSize`, `retry.maxAttempts`).
 *
 * @category constructors
 */
export const resolveOptions = (
  input?: B3HttpSourceInput
): Either.Either<B3HttpSourceOptions, ConfigError.ConfigError> => {
  const { retry, ...rest } = input ?? {}
  const out = { ...defaults, retry: { ...defaults.retry } } as {
    -readonly [K in keyof B3HttpSourceOptions]: B3HttpSourceOptions[K]
  }
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as any)[k] = v
  if (retry !== undefined) {
    for (const [k, v] of Object.entries(retry)) if (v !== undefined) (out.retry as any)[k] = v
  }
  if (!Number.isInteger(out.pageSize) || out.pageSize < 1) return Either.left(invalid(["pageSize"], out.pageSize))
  if (!Number.isInteger(out.retry.maxAttempts) || out.retry.maxAttempts < 1) {
    return Either.left(invalid(["retry", "maxAttempts"], out.retry.maxAttempts))
  }
  return Either.right(out)
}

interface PageOk {
  readonly page: PayloadPage
  /** JSON methods: the page's envelope (its one `JSON.parse`, whose value `page.json` carries on). */
  readonly envelope: JsonPage | undefined
}

/** Per-fetch progress, so a `Deadline` can say where it struck and what went wrong last. */
interface Progress {
  method: FetchMethod
  page: number
  lastError: FetchError | undefined
}

const decoder = new TextDecoder("utf-8")

const gunzip = (bytes: Uint8Array): Effect.Effect<Uint8Array, unknown> =>
  Effect.tryPromise({
    try: async () => {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))
      return new Uint8Array(await new Response(stream).arrayBuffer())
    },
    catch: (cause) => cause
  })

/**
 * The source's service value, using the `HttpClient` in context. Fails with a `ConfigError` naming
 * the option when `input` is out of range.
 *
 * @category constructors
 */
export const make = (
  input?: B3HttpSourceInput
): Effect.Effect<PortfolioSource["Type"], ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const cfg = yield* resolveOptions(input)
    const client = yield* HttpClient.HttpClient
    const requestTimeout = Duration.decode(cfg.requestTimeout)
    const politeDelay = Duration.decode(cfg.politeDelay)
    const deadline = Duration.decode(cfg.deadline)
    const schedule = httpRetry.schedule(cfg.retry)
    const headers = { accept: "application/json, text/plain, */*", ...cfg.headers }

    /** One try of one request, classified. */
    const tryOnce = (
      where: Where,
      params: Record<string, string | number>,
      attempt: number
    ): Effect.Effect<PageOk, AttemptFailure> => {
      const url = wire.urlFor(cfg.baseUrl, where.method, params)
      return Effect.gen(function*() {
        const startedMs = yield* Clock.currentTimeMillis
        const started = performance.now()
        let status = 0
        let kept: Record<string, string> = {}
        const record = (): RequestRecord => ({
          method: "GET",
          url,
          params,
          status,
          headers: kept,
          startedAt: new Date(startedMs).toISOString(),
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          attempt
        })
        const report = (error: FetchError | undefined) => {
          if (cfg.onExchange !== undefined) {
            cfg.onExchange({ indexCode: where.indexCode, page: where.page, record: record(), error })
          }
        }
        const exchange = Effect.gen(function*() {
          const response = yield* client.execute(HttpClientRequest.get(url, { headers })).pipe(
            Effect.mapError((e) => wire.failure(where, "Transport", { detail: e.message, cause: e }))
          )
          status = response.status
          kept = wire.keptHeaders(response.headers)
          const received = new Uint8Array(
            yield* response.arrayBuffer.pipe(
              Effect.mapError((e) =>
                wire.failure(where, "Truncated", {
                  status: response.status,
                  detail: `body ended early: ${e.message}`,
                  cause: e
                })
              )
            )
          )
          const declared = response.headers["content-length"]
          if (
            declared !== undefined && response.headers["content-encoding"] === undefined &&
            Number(declared) !== received.length
          ) {
            return yield* Effect.fail(
              wire.failure(where, "Truncated", {
                status: response.status,
                detail: `body of ${received.length} bytes, content-length ${declared}`
              })
            )
          }
          // A client that does not decompress (undici's `request`) facing a CDN that compresses anyway.
          const encoding = (response.headers["content-encoding"] ?? "").trim().toLowerCase()
          const bytes = (encoding === "gzip" || encoding === "x-gzip") && received[0] === 0x1f && received[1] === 0x8b
            ? yield* gunzip(received).pipe(
              Effect.mapError((cause) =>
                wire.failure(where, "Truncated", {
                  status: response.status,
                  detail: `gzip body of ${received.length} bytes does not inflate`,
                  cause
                })
              )
            )
            : received
          const text = decoder.decode(bytes)
          if (response.status !== 200) {
            return yield* Effect.fail(wire.classifyStatus(where, response.status, response.headers, text, startedMs))
          }
          return { bytes, text, headers: response.headers }
        }).pipe(
          Effect.timeoutFail({
            duration: requestTimeout,
            onTimeout: () =>
              wire.failure(where, "Timeout", { detail: `no full response within ${Duration.format(requestTimeout)}` })
          })
        )
        const got = yield* Effect.tapError(exchange, (f) => Effect.sync(() => report(f.error)))
        const classified = where.method === "GetDownloadPortfolioDay"
          ? wire.classifyDownload(where, got.headers, got.text)
          : wire.classifyJsonPage(where, got.headers, got.text)
        if (wire.isFailure(classified)) {
          report(classified.error)
          return yield* Effect.fail(classified)
        }
        report(undefined)
        // `got.text` is the bytes read as the decoder reads a page (lenient UTF-8, BOM dropped), and
        // any text that parses as JSON passes the decoder's sniff unchanged (no NUL, no control
        // bytes, no HTML): so the value parsed here is the value the decoder would parse, and it
        // goes along with the exact bytes instead of being parsed again.
        return {
          page: classified === undefined ?
            { bytes: got.bytes, request: record() } :
            { bytes: got.bytes, request: record(), json: classified.json },
          envelope: classified
        }
      })
    }

    /** One request with the retry schedule; failures are remembered in `progress`. */
    const fetchOne = (
      progress: Progress,
      where: Where,
      params: Record<string, string | number>
    ): Effect.Effect<PageOk, FetchError> => {
      let attempt = 0
      progress.method = where.method
      progress.page = where.page
      return Effect.suspend(() => tryOnce(where, params, ++attempt)).pipe(
        Effect.tapError((f) => Effect.sync(() => void (progress.lastError = f.error))),
        Effect.retry(schedule),
        Effect.mapError((f) => f.error)
      )
    }

    const pageError = (
      where: Where,
      reason: FetchError["reason"],
      detail: string
    ) => new FetchError({ reason, indexCode: where.indexCode, method: where.method, page: where.page, detail })

    /** All pages of a JSON method. */
    const fetchJson = (req: FetchRequest, progress: Progress): Effect.Effect<Array<PayloadPage>, FetchError> =>
      Effect.gen(function*() {
        const pages: Array<PayloadPage> = []
        let first: JsonPage["page"] | undefined
        let rows = 0
        for (let n = 1;; n++) {
          if (n > 1 && Duration.toMillis(politeDelay) > 0) yield* Effect.sleep(politeDelay)
          const where: Where = { indexCode: req.indexCode, method: req.method, page: n }
          const got = yield* fetchOne(progress, where, wire.paramsFor(req, n, cfg.pageSize))
          if (got.envelope === undefined) return yield* pageError(where, "NotJson", "no JSON page envelope")
          const env = got.envelope.page
          if (env.pageNumber !== n) {
            return yield* pageError(where, "PageCountChanged", `asked for page ${n}, got page ${env.pageNumber}`)
          }
          if (first === undefined) {
            first = env
            if (env.totalRecords === 0) return yield* pageError(where, "NotFound", "totalRecords is 0")
          } else if (env.totalPages !== first.totalPages || env.totalRecords !== first.totalRecords) {
            return yield* pageError(
              where,
              "PageCountChanged",
              `page 1 said ${first.totalPages} pages / ${first.totalRecords} records, page ${n} says ${env.totalPages} / ${env.totalRecords}`
            )
          }
          pages.push(got.page)
          rows += got.envelope.rows
          if (n >= first.totalPages) {
            if (rows !== first.totalRecords) {
              return yield* pageError(
                where,
                "Truncated",
                `${pages.length} page(s) hold ${rows} rows, totalRecords says ${first.totalRecords}`
              )
            }
            return pages
          }
        }
      })

    const fetchDownload = (req: FetchRequest, progress: Progress): Effect.Effect<Array<PayloadPage>, FetchError> =>
      fetchOne(
        progress,
        { indexCode: req.indexCode, method: "GetDownloadPortfolioDay", page: 1 },
        wire.paramsFor({ ...req, method: "GetDownloadPortfolioDay" }, 1, cfg.pageSize)
      ).pipe(Effect.map((got) => [got.page]))

    const fetch = (req: FetchRequest): Effect.Effect<Payload, FetchError> =>
      Effect.suspend(() => {
        const progress: Progress = { method: req.method, page: 1, lastError: undefined }
        const csvRequest: FetchRequest = { ...req, method: "GetDownloadPortfolioDay" }
        const primary: Effect.Effect<readonly [FetchRequest, Array<PayloadPage>], FetchError> = req.method ===
            "GetDownloadPortfolioDay"
          ? Effect.map(fetchDownload(req, progress), (pages) => [req, pages] as const)
          : Effect.map(fetchJson(req, progress), (pages) => [req, pages] as const)
        const withFallback = req.method === "GetPortfolioDay" && cfg.fallbackToCsv
          ? Effect.catchIf(
            primary,
            (e) => e.reason !== "NotFound",
            (jsonError) =>
              fetchDownload(csvRequest, progress).pipe(
                Effect.map((pages) => [csvRequest, pages] as const),
                Effect.mapError((csvError) =>
                  new FetchError({
                    reason: jsonError.reason,
                    indexCode: jsonError.indexCode,
                    method: jsonError.method,
                    ...(jsonError.page !== undefined ? { page: jsonError.page } : {}),
                    ...(jsonError.status !== undefined ? { status: jsonError.status } : {}),
                    detail: `${jsonError.detail ?? jsonError.reason}; CSV fallback failed too: ${csvError.message}`,
                    cause: csvError
                  })
                )
              )
          )
          : primary
        return withFallback.pipe(
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () =>
              new FetchError({
                reason: "Deadline",
                indexCode: req.indexCode,
                method: progress.method,
                page: progress.page,
                detail: `not done within ${Duration.format(deadline)}${
                  progress.lastError !== undefined ? `; last error: ${progress.lastError.message}` : ""
                }`
              })
          }),
          Effect.flatMap(([request, pages]) =>
            Effect.map(Clock.currentTimeMillis, (now): Payload => ({
              request,
              pages,
              fetchedAt: new Date(now).toISOString(),
              origin: cfg.origin
            }))
          ),
          Effect.withSpan("B3HttpSource.fetch", { attributes: { indexCode: req.indexCode, method: req.method } })
        )
      })

    return PortfolioSource.of({ fetch })
  })

/** Fails at construction with a `ConfigError` naming an out-of-range option. @category layers */
export const layer = (
  input?: B3HttpSourceInput
): Layer.Layer<PortfolioSource, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(PortfolioSource, make(input))

/**
 * The source with options read from `config`: a missing or malformed setting, or one out of range,
 * fails the layer's construction with a `ConfigError` naming it (never a defect).
 *
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<B3HttpSourceInput>
): Layer.Layer<PortfolioSource, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(PortfolioSource, Effect.flatMap(config, make))

/**
 * Options from the environment, each optional: `B3_BASE_URL`, `B3_PAGE_SIZE`, `B3_REQUEST_TIMEOUT`,
 * `B3_DEADLINE`, `B3_POLITE_DELAY` (durations such as `20 seconds`), `B3_MAX_ATTEMPTS`,
 * `B3_FALLBACK_TO_CSV` (`true`/`false`). Use with `layerConfig(config)`.
 *
 * @category config
 */
export const config: Config.Config<B3HttpSourceInput> = Config.all({
  baseUrl: Config.option(Config.string("B3_BASE_URL")),
  pageSize: Config.option(Config.integer("B3_PAGE_SIZE")),
  requestTimeout: Config.option(Config.duration("B3_REQUEST_TIMEOUT")),
  deadline: Config.option(Config.duration("B3_DEADLINE")),
  politeDelay: Config.option(Config.duration("B3_POLITE_DELAY")),
  maxAttempts: Config.option(Config.integer("B3_MAX_ATTEMPTS")),
  fallbackToCsv: Config.option(Config.boolean("B3_FALLBACK_TO_CSV"))
}).pipe(Config.map(({ maxAttempts, ...rest }): B3HttpSourceInput => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(rest) as Array<[string, Option.Option<unknown>]>) {
    if (Option.isSome(v)) out[k] = v.value
  }
  if (Option.isSome(maxAttempts)) out.retry = { maxAttempts: maxAttempts.value }
  return out as B3HttpSourceInput
}))

/** The outcome of one index in `fetchMany`. @category models */
export interface FetchOutcome {
  readonly indexCode: IndexCode
  readonly result: Either.Either<Payload, FetchError>
  readonly durationMs: number
}

/** @category models */
export interface FetchManyOptions {
  /** Indices fetched at once. Default 2. */
  readonly concurrency?: number
  /** Called as each index finishes, with how many are done. */
  readonly onProgress?: (outcome: FetchOutcome, done: number, total: number) => void
}

/**
 * Fetches many indices with bounded concurrency. Never fails: each index's outcome is a success
 * or its typed error, in the order of `codes`.
 *
 * @category combinators
 */
export const fetchMany = (
  codes: Iterable<IndexCode>,
  request?: Partial<Omit<FetchRequest, "indexCode">>,
  options?: FetchManyOptions
): Effect.Effect<Array<FetchOutcome>, never, PortfolioSource> =>
  Effect.gen(function*() {
    const source = yield* PortfolioSource
    const list = Array.from(codes)
    let done = 0
    return yield* Effect.forEach(
      list,
      (indexCode) =>
        Effect.gen(function*() {
          const started = performance.now()
          const result = yield* Effect.either(source.fetch(makeRequest(indexCode, request)))
          const outcome: FetchOutcome = {
            indexCode,
            result,
            durationMs: Math.round((performance.now() - started) * 10) / 10
          }
          done++
          options?.onProgress?.(outcome, done, list.length)
          return outcome
        }),
      { concurrency: Math.max(1, options?.concurrency ?? 2) }
    )
  })
