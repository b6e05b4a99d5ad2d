/**
 * The B3 simulator over real sockets on 127.0.0.1, fetched by core's B3HttpSource through
 * NodeHttpClient (undici): B3's protocol, page sizes 1/20/9999, IBRA's 180+ members, every fault
 * class with its outcome, and the concurrency bound. Back-off delays are configured tiny so the
 * suite stays fast; the schedule itself is tested on the TestClock in core.
 */
import * as B3HttpSource from "@b3-pipeline/core/B3HttpSource"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import type { IndexCode, Portfolio, Segment } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { FetchRequest, Payload } from "@b3-pipeline/core/PortfolioSource"
import { PortfolioSource, request } from "@b3-pipeline/core/PortfolioSource"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Faults from "../src/Faults.js"
import type { Simulator, SimulatorOptions } from "../src/Simulator.js"
import * as Sim from "../src/Simulator.js"

const quick = {
  politeDelay: "0 millis",
  requestTimeout: "2 seconds",
  deadline: "20 seconds",
  origin: "simulated",
  retry: { baseDelay: "5 millis", maxDelay: "20 millis", maxAttempts: 4 }
} satisfies B3HttpSource.B3HttpSourceInput

const sourceFor = (sim: Simulator, options: B3HttpSource.B3HttpSourceInput = {}) =>
  B3HttpSource.layer({ ...quick, ...options, baseUrl: sim.url }).pipe(
    Layer.orDie,
    Layer.provide(NodeHttpClient.layerUndici)
  )

const fetchFrom = (sim: Simulator, req: FetchRequest, options: B3HttpSource.B3HttpSourceInput = {}) =>
  Effect.flatMap(PortfolioSource, (s) => s.fetch(req)).pipe(Effect.provide(sourceFor(sim, options)))

/** Runs `f` against a fresh simulator. */
const withSim = <A, E>(options: SimulatorOptions, f: (sim: Simulator) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(Sim.start(options), f))

const samePortfolio = (got: Portfolio, want: Portfolio, bySector: boolean) => {
  assert.strictEqual(got.indexCode, want.indexCode)
  assert.strictEqual(got.refDate, want.refDate)
  assert.strictEqual(got.size, want.size)
  assert.deepStrictEqual(got.tickers, want.tickers)
  assert.deepStrictEqual(got.assets, want.assets)
  assert.deepStrictEqual(got.types, want.types)
  assert.deepStrictEqual(Array.from(got.weights), Array.from(want.weights))
  assert.deepStrictEqual(Array.from(got.quantities), Array.from(want.quantities))
  assert.strictEqual(got.totalQuantity, want.totalQuantity)
  if (bySector) assert.deepStrictEqual(got.sectors, want.sectors)
}

const decodeAndCompare = (sim: Simulator, payload: Payload, segment: Segment) =>
  Effect.gen(function*() {
    const portfolio = yield* B3Wire.decodePayload(payload)
    samePortfolio(portfolio, sim.portfolio(payload.request.indexCode, segment), segment === "2")
    return portfolio
  })

const IBOV = "IBOV" as IndexCode
const IBRA = "IBRA" as IndexCode

describe("simulator protocol", () => {
  it.live("answers B3's URL shape with a paged envelope; bad params get 400, unknown methods 404", () =>
    withSim({}, (sim) =>
      Effect.promise(async () => {
        const params = { language: "pt-br", pageNumber: 2, pageSize: 20, index: "IBOV", segment: "1" }
        const b64 = Buffer.from(JSON.stringify(params)).toString("base64")
        const res = await fetch(`${sim.url}/GetPortfolioDay/${b64}`)
        assert.strictEqual(res.status, 200)
        assert.strictEqual(res.headers.get("content-type"), "application/json; charset=utf-8")
        const body = await res.json() as { page: Record<string, number>; results: Array<unknown> }
        const size = sim.portfolio(IBOV, "1").size
        assert.deepStrictEqual(body.page, {
          pageNumber: 2,
          pageSize: 20,
          totalRecords: size,
          totalPages: Math.ceil(size / 20)
        })
        assert.strictEqual(body.results.length, 20)
        assert.strictEqual((await fetch(`${sim.url}/GetPortfolioDay/not-base64!`)).status, 400)
        assert.strictEqual((await fetch(`${sim.url}/GetNothing/${b64}`)).status, 404)
        const unknown = Buffer.from(JSON.stringify({ ...params, index: "ZZZZ" })).toString("base64")
        const empty = await (await fetch(`${sim.url}/GetPortfolioDay/${unknown}`)).json() as any
        assert.strictEqual(empty.page.totalRecords, 0)
        assert.strictEqual(sim.stats.total, 4)
        assert.deepStrictEqual(sim.stats.log.map((l) => l.status), [200, 400, 404, 200])
      })))

  it.live("an unknown index is NotFound for the source", () =>
    withSim({}, (sim) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(fetchFrom(sim, request("ZZZZ" as IndexCode)))
        assert.strictEqual(e.reason, "NotFound")
        const csv = yield* Effect.flip(
          fetchFrom(sim, request("ZZZZ" as IndexCode, { method: "GetDownloadPortfolioDay" }))
        )
        assert.strictEqual(csv.reason, "NotFound")
        assert.strictEqual(sim.stats.total, 2)
      })))
})

describe("fetch + decode against the simulator", () => {
  for (const pageSize of [1, 20, 9999]) {
    it.live(`IBRA (180+ members), pageSize ${pageSize}, by sector, pt-br`, () =>
      withSim({}, (sim) =>
        Effect.gen(function*() {
          const size = sim.portfolio(IBRA, "2").size
          assert.isAtLeast(size, 180)
          const payload = yield* fetchFrom(sim, request(IBRA), { pageSize })
          assert.strictEqual(payload.pages.length, Math.ceil(size / pageSize))
          assert.strictEqual(payload.origin, "simulated")
          const h = payload.pages[0]!.request.headers
          assert.strictEqual(h["content-type"], "application/json; charset=utf-8")
          assert.strictEqual(Number(h["content-length"]), payload.pages[0]!.bytes.length)
          assert.match(h["cf-ray"]!, /-GRU$/)
          assert.isFalse(Number.isNaN(Date.parse(h["date"]!)))
          assert.strictEqual(sim.stats.total, payload.pages.length)
          yield* decodeAndCompare(sim, payload, "2")
        })))
  }

  it.live("en-us and segment 1; GetTheoricalPortfolio; GetDownloadPortfolioDay", () =>
    withSim({}, (sim) =>
      Effect.gen(function*() {
        const en = yield* fetchFrom(sim, request(IBOV, { language: "en-us", segment: "1" }), { pageSize: 20 })
        const p = yield* decodeAndCompare(sim, en, "1")
        assert.strictEqual(p.language, "en-us")

        const theo = yield* fetchFrom(sim, request(IBOV, { method: "GetTheoricalPortfolio" }))
        const theoP = yield* B3Wire.decodePayload({ ...theo, refDate: sim.today })
        samePortfolio(theoP, sim.portfolio(IBOV, "1"), false)

        const csv = yield* fetchFrom(sim, request(IBOV, { method: "GetDownloadPortfolioDay" }))
        assert.strictEqual(csv.pages.length, 1)
        yield* decodeAndCompare(sim, csv, "1")
      })))
})

it.layer(Sim.layer({ today: "2024-02-29" as Portfolio["refDate"], sizes: { IBOV: 30 } }))(
  "simulator as a layer",
  (it) => {
    it.effect("serves its configured day and sizes", () =>
      Effect.gen(function*() {
        const sim = yield* Sim.B3Simulator
        assert.strictEqual(sim.today, "2024-02-29")
        const payload = yield* fetchFrom(sim, request(IBOV, { segment: "1" }))
        const p = yield* decodeAndCompare(sim, payload, "1")
        assert.strictEqual(p.refDate, "2024-02-29")
        assert.strictEqual(p.size, 30)
      }))
  }
)

describe("HTTP clients", () => {
  it.live("gzip bodies sent unasked: inflated for undici (which does not), as-is for fetch (which does)", () =>
    withSim({ gzip: true }, (sim) =>
      Effect.gen(function*() {
        const viaUndici = yield* fetchFrom(sim, request(IBOV), { pageSize: 20, fallbackToCsv: false })
        assert.strictEqual(viaUndici.pages[0]!.request.headers["content-encoding"], "gzip")
        assert.strictEqual(viaUndici.pages[0]!.bytes[0], "{".charCodeAt(0))
        yield* decodeAndCompare(sim, viaUndici, "2")
        const viaFetch = yield* Effect.flatMap(PortfolioSource, (s) => s.fetch(request(IBOV))).pipe(
          Effect.provide(
            B3HttpSource.layer({ ...quick, baseUrl: sim.url, pageSize: 20 }).pipe(
              Layer.orDie,
              Layer.provide(FetchHttpClient.layer)
            )
          )
        )
        assert.deepStrictEqual(viaFetch.pages.map((p) => p.bytes), viaUndici.pages.map((p) => p.bytes))
      })))
})

describe("faults over real sockets", () => {
  it.live("520 bursts: recovered on try 3", () =>
    withSim({ faults: Faults.burst520(2) }, (sim) =>
      Effect.gen(function*() {
        const payload = yield* fetchFrom(sim, request(IBOV), { fallbackToCsv: false })
        assert.strictEqual(payload.pages[0]!.request.attempt, 3)
        assert.strictEqual(sim.stats.faults, 2)
        yield* decodeAndCompare(sim, payload, "2")
      })))

  it.live("429 with Retry-After: 1 is waited for (about a second)", () =>
    withSim({ faults: Faults.rateLimited(1, "1") }, (sim) =>
      Effect.gen(function*() {
        const started = Date.now()
        const payload = yield* fetchFrom(sim, request(IBOV))
        assert.isAtLeast(Date.now() - started, 950)
        assert.strictEqual(payload.pages[0]!.request.attempt, 2)
        assert.strictEqual(payload.request.method, "GetPortfolioDay")
      })))

  it.live("a hung response times out and is retried; hung forever ends in Deadline", () =>
    withSim({ faults: Faults.hung(1) }, (sim) =>
      Effect.gen(function*() {
        const payload = yield* fetchFrom(sim, request(IBOV), { requestTimeout: "150 millis" })
        assert.strictEqual(payload.pages[0]!.request.attempt, 2)
        sim.setFaults(Faults.hung(Infinity))
        const e = yield* Effect.flip(
          fetchFrom(sim, request(IBRA), { requestTimeout: "100 millis", deadline: "300 millis" })
        )
        assert.strictEqual(e.reason, "Deadline")
        assert.strictEqual(e.indexCode, "IBRA")
        assert.include(e.detail!, "Timeout")
      })))

  it.live("truncated bodies (short of content-length, or JSON ending early) are retried", () =>
    withSim({ faults: Faults.truncated(1, true) }, (sim) =>
      Effect.gen(function*() {
        const a = yield* fetchFrom(sim, request(IBOV), { fallbackToCsv: false })
        assert.strictEqual(a.pages[0]!.request.attempt, 2)
        yield* decodeAndCompare(sim, a, "2")
        sim.setFaults(Faults.truncated(1, false))
        const b = yield* fetchFrom(sim, request(IBRA), { fallbackToCsv: false })
        assert.strictEqual(b.pages[0]!.request.attempt, 2)
        yield* decodeAndCompare(sim, b, "2")
      })))

  it.live("connection resets are retried", () =>
    withSim({ faults: Faults.perUrl(2, Faults.reset) }, (sim) =>
      Effect.gen(function*() {
        const payload = yield* fetchFrom(sim, request(IBOV), { fallbackToCsv: false })
        assert.strictEqual(payload.pages[0]!.request.attempt, 3)
      })))

  it.live("HTML challenge on the JSON endpoint: NotJson without fallback, CSV with it", () =>
    withSim({ faults: Faults.onMethod("GetPortfolioDay", Faults.html()) }, (sim) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(fetchFrom(sim, request(IBOV), { fallbackToCsv: false }))
        assert.strictEqual(e.reason, "NotJson")
        assert.strictEqual(e.status, 403)
        const payload = yield* fetchFrom(sim, request(IBOV))
        assert.strictEqual(payload.request.method, "GetDownloadPortfolioDay")
        yield* decodeAndCompare(sim, payload, "1")
      })))

  it.live("a JSON error body everywhere: NotJson, naming the CSV failure too", () =>
    withSim({ faults: Faults.jsonErrorBody() }, (sim) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(fetchFrom(sim, request(IBOV)))
        assert.strictEqual(e.reason, "NotJson")
        assert.include(e.detail!, "CSV fallback failed too")
      })))

  it.live("totalPages changing between pages -> PageCountChanged", () =>
    withSim({ faults: Faults.pageCountChanges(25) }, (sim) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(fetchFrom(sim, request(IBRA), { pageSize: 20, fallbackToCsv: false }))
        assert.strictEqual(e.reason, "PageCountChanged")
        assert.strictEqual(e.page, 2)
      })))

  it.live("all 36 indices with 20% random 520s (seeded), concurrency 2: all complete, bound respected", () =>
    withSim({ faults: Faults.random(0.2, 7) }, (sim) =>
      Effect.gen(function*() {
        const outcomes = yield* B3HttpSource.fetchMany(ALL_INDEX_CODES, {}, { concurrency: 2 }).pipe(
          Effect.provide(sourceFor(sim, { retry: { maxAttempts: 8, baseDelay: "2 millis", maxDelay: "10 millis" } }))
        )
        assert.strictEqual(outcomes.length, ALL_INDEX_CODES.length)
        for (const o of outcomes) {
          assert.isTrue(
            Either.isRight(o.result),
            `${o.indexCode}: ${Either.isLeft(o.result) ? o.result.left.message : ""}`
          )
        }
        assert.isAbove(sim.stats.faults, 0)
        assert.isAtMost(sim.stats.maxInFlight, 2)
        for (const o of outcomes.slice(0, 5)) {
          if (Either.isRight(o.result)) yield* decodeAndCompare(sim, o.result.right, "2")
        }
      })))

  it.live("slow responses: concurrency 3 is reached and never exceeded", () =>
    withSim({ faults: Faults.slow(40) }, (sim) =>
      Effect.gen(function*() {
        const codes = ALL_INDEX_CODES.slice(0, 9)
        const outcomes = yield* B3HttpSource.fetchMany(codes, { segment: "1" }, { concurrency: 3 }).pipe(
          Effect.provide(sourceFor(sim))
        )
        assert.isTrue(outcomes.every((o) => Either.isRight(o.result)))
        assert.strictEqual(sim.stats.maxInFlight, 3)
        assert.strictEqual(sim.stats.total, 9)
      })))
})

describe("fault plans", () => {
  const req = (n: number, repeat: number, path = "/p"): Faults.SimRequest => ({
    n,
    method: "GetPortfolioDay",
    params: undefined,
    indexCode: undefined,
    pageNumber: undefined,
    repeat,
    path
  })
  it("random is seeded by path and try, near its rate", () => {
    const plan = Faults.random(0.2, 42)
    let hits = 0
    for (let i = 0; i < 5000; i++) if (plan(req(i, 1, `/p${i}`)) !== undefined) hits++
    assert.isTrue(hits > 850 && hits < 1150, String(hits))
    assert.deepStrictEqual(plan(req(1, 1, "/x")), Faults.random(0.2, 42)(req(99, 1, "/x")))
  })
  it("perUrl counts tries of one path; combine takes the first answer", () => {
    const plan = Faults.combine(Faults.burst520(2), Faults.slow(5))
    assert.deepStrictEqual(plan(req(1, 1)), Faults.status(520))
    assert.deepStrictEqual(plan(req(2, 2)), Faults.status(520))
    assert.deepStrictEqual(plan(req(3, 3)), Faults.delay(5))
  })
})
