/**
 * The `PortfolioSource` contract, written once and run against every backend: the in-memory source
 * here, and `B3HttpSource` over 127.0.0.1 HTTP against the simulator in `@b3-pipeline/b3-simulator`.
 * `suite("name", layer, { known, unknown })`.
 *
 * A source fetches what it was asked for, keeps the bytes exactly (two fetches of the same request
 * give the same bytes, and they decode to the requested index), records each page's request, and
 * says `NotFound` (a typed `FetchError`) for an index it does not serve.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as B3Wire from "../B3Wire.js"
import type { IndexCode, RefDate } from "../Domain.js"
import type { FetchMethod, Payload } from "../PortfolioSource.js"
import { PortfolioSource, request } from "../PortfolioSource.js"

/** @category models */
export interface SuiteOptions {
  /** Indices the backend serves (at least one). */
  readonly known: ReadonlyArray<IndexCode>
  /** An index it does not serve: its fetch fails with `NotFound`. */
  readonly unknown: IndexCode
  /** The methods it serves (default all three). */
  readonly methods?: ReadonlyArray<FetchMethod>
}

const ALL_METHODS: ReadonlyArray<FetchMethod> = ["GetPortfolioDay", "GetTheoricalPortfolio", "GetDownloadPortfolioDay"]

const isIsoTime = (s: string): boolean =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s))

/** What every payload of every source must satisfy for the request that produced it. */
const checkPayload = (payload: Payload, indexCode: IndexCode, method: FetchMethod) => {
  assert.strictEqual(payload.request.indexCode, indexCode)
  assert.strictEqual(payload.request.method, method)
  assert.isAbove(payload.pages.length, 0, "a payload has at least one page")
  assert.isTrue(isIsoTime(payload.fetchedAt), `fetchedAt ${payload.fetchedAt} is an ISO time`)
  assert.isAbove(payload.origin.length, 0, "a payload names its origin")
  for (const page of payload.pages) {
    assert.isAbove(page.bytes.byteLength, 0, "a page has bytes")
    assert.strictEqual(page.request.status, 200)
    assert.isAtLeast(page.request.attempt, 1)
    assert.isAbove(page.request.url.length, 0)
    assert.isTrue(isIsoTime(page.request.startedAt), `startedAt ${page.request.startedAt} is an ISO time`)
  }
}

/**
 * Runs the PortfolioSource contract against `layer` (built once for the suite).
 *
 * @category suites
 */
export const suite = <E>(name: string, layer: Layer.Layer<PortfolioSource, E>, options: SuiteOptions) => {
  const methods = options.methods ?? ALL_METHODS
  describe(`PortfolioSource contract (${name})`, () => {
    it.layer(layer, { timeout: "60 seconds" })((it) => {
      it.effect("each method of each known index: the request's payload, its pages decoding to that index", () =>
        Effect.gen(function*() {
          const source = yield* PortfolioSource
          for (const indexCode of options.known) {
            for (const method of methods) {
              const payload = yield* source.fetch(request(indexCode, { method }))
              checkPayload(payload, indexCode, method)
              // GetTheoricalPortfolio carries no date: the caller names the day to file it under
              const dated = payload.refDate === undefined && method === "GetTheoricalPortfolio" ?
                { ...payload, refDate: "2025-10-03" as RefDate } :
                payload
              const portfolio = yield* B3Wire.decodePayload(dated)
              assert.strictEqual(portfolio.indexCode, indexCode)
              assert.strictEqual(portfolio.format, method === "GetDownloadPortfolioDay" ? "CSV" : method)
              assert.isAbove(portfolio.size, 0)
            }
          }
        }))

      it.effect("the bytes are kept exactly: the same request twice gives the same bytes", () =>
        Effect.gen(function*() {
          const source = yield* PortfolioSource
          for (const method of methods) {
            const req = request(options.known[0] ?? options.unknown, { method })
            const first = yield* source.fetch(req)
            const second = yield* source.fetch(req)
            assert.deepStrictEqual(second.pages.map((p) => p.bytes), first.pages.map((p) => p.bytes))
          }
        }))

      it.effect("an index the source does not serve fails with a typed NotFound", () =>
        Effect.gen(function*() {
          const source = yield* PortfolioSource
          const result = yield* Effect.either(source.fetch(request(options.unknown)))
          assert.isTrue(Either.isLeft(result), "an unknown index is an error")
          if (Either.isLeft(result)) {
            assert.strictEqual(result.left._tag, "FetchError")
            assert.strictEqual(result.left.reason, "NotFound")
            assert.strictEqual(result.left.indexCode, options.unknown)
          }
        }))

      it.effect("concurrent fetches of different indices each get their own payload", () =>
        Effect.gen(function*() {
          const source = yield* PortfolioSource
          const payloads = yield* Effect.forEach(
            options.known,
            (indexCode) => source.fetch(request(indexCode, { method: methods[0] ?? "GetPortfolioDay" })),
            { concurrency: "unbounded" }
          )
          for (const [k, payload] of payloads.entries()) {
            assert.strictEqual(payload.request.indexCode, options.known[k])
            assert.strictEqual((yield* B3Wire.decodePayload(payload)).indexCode, options.known[k])
          }
        }))
    })
  })
}
