import type { IndexCode } from "@b3-pipeline/core/Domain"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { handle, indices, makeHandler } from "../src/scheduledIngest.js"

const SAMPLE = new Uint8Array(
  readFileSync(
    new URL("../../../fixtures/b3/GetPortfolioDay_IBOV_en-us_segment2_2025-04-07.json", import.meta.url)
  )
)
const scheduled = JSON.parse(readFileSync(new URL("./events/scheduled.json", import.meta.url), "utf8"))
const HTML = new TextEncoder().encode("<html><body>Just a moment...</body></html>")

const ports = Layer.mergeAll(
  RawLayer.layer,
  PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]], ["SMLL", [HTML]], ["NEWX", [SAMPLE]]]))
).pipe(Layer.provideMerge(ObjectStore.layerMemory))

const codes = (...c: Array<string>) => c as Array<IndexCode>

describe("scheduledIngest", () => {
  it.effect("a scheduled event writes each index; one failure does not lose the others; bad payloads are quarantined", () =>
    Effect.gen(function*() {
      const summary = yield* handle(scheduled, "req-1", codes("SMLL", "IBOV", "IDIV"))
      assert.strictEqual(summary.eventId, "89d1a02d-5ec7-412e-82f5-13505f849b41")
      assert.strictEqual(summary.scheduledTime, "2025-04-07T10:30:00Z")
      const [smll, ibov, idiv] = summary.results
      assert.deepStrictEqual(ibov, {
        indexCode: "IBOV",
        ok: true,
        outcome: "created",
        refDate: "2025-04-07",
        rows: ibov!.ok ? ibov!.rows : -1,
        parquetKey: "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet"
      })
      assert.isTrue(ibov!.ok && ibov!.rows > 50)
      assert.isTrue(!smll!.ok && smll!.error === "B3ParseError" && smll!.reason === "HtmlPage" && !smll!.retryable)
      assert.isTrue(!idiv!.ok && idiv!.error === "FetchError" && idiv!.reason === "NotFound")
      // the HTML page's exact bytes are in quarantine
      const store = yield* ObjectStore.ObjectStore
      const quarantined = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("quarantine/")))
      const page = quarantined.find((o) => !o.key.endsWith("error.json"))
      assert.isDefined(page)
      const stored = yield* store.get(page!.key)
      assert.deepStrictEqual(stored._tag === "Some" ? stored.value : undefined, HTML)
      // the same day again: nothing rewritten
      const again = yield* handle(scheduled, "req-2", codes("IBOV"))
      assert.strictEqual(again.results[0]!.ok && again.results[0]!.outcome, "unchanged")
    }).pipe(Effect.provide(ports)))

  it.effect("an index outside B3's list is quarantined as UnknownIndex unless allowed", () =>
    Effect.gen(function*() {
      const refused = yield* handle(scheduled, "req-3", codes("NEWX"))
      const r = refused.results[0]!
      assert.isTrue(!r.ok && r.error === "B3ParseError" && r.reason === "UnknownIndex")
      const accepted = yield* handle(scheduled, "req-4", codes("NEWX"), { allowUnknownIndex: true })
      assert.isTrue(accepted.results[0]!.ok)
    }).pipe(Effect.provide(ports)))

  it.effect("a retryable fetch failure fails the invocation after the other indices were written", () => {
    const flaky = Layer.succeed(
      PortfolioSource.PortfolioSource,
      PortfolioSource.PortfolioSource.of({
        fetch: (req) =>
          req.indexCode === "IBOV" ?
            Effect.succeed({
              request: req,
              pages: [{ bytes: SAMPLE, request: {} as never }],
              fetchedAt: "2025-04-07T10:30:01Z",
              origin: "test"
            }) :
            Effect.fail(
              new PortfolioSource.FetchError({
                reason: "Unavailable",
                indexCode: req.indexCode,
                method: req.method,
                status: 520
              })
            )
      })
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip(handle(scheduled, "req-3", codes("SMLL", "IBOV")))
      assert.strictEqual(error._tag, "RetryableIngestFailure")
      assert.deepStrictEqual(error.indices, ["SMLL"])
      assert.include(error.message, "HTTP 520")
      const store = yield* ObjectStore.ObjectStore
      const written = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("raw/b3_portfolio_raw/")))
      assert.deepStrictEqual(written.map((o) => o.key), [
        "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet"
      ])
    }).pipe(Effect.provide(Layer.mergeAll(RawLayer.layer, flaky).pipe(Layer.provideMerge(ObjectStore.layerMemory))))
  })

  it("an event that is not a scheduled event fetches nothing and returns normally", async () => {
    const summary = await makeHandler(ports)({ "detail-type": "Object Created", source: "aws.s3" }, {
      awsRequestId: "req-4"
    })
    assert.deepStrictEqual(summary.results, [])
    assert.include(summary.malformed, "Scheduled Event")
  })

  it.effect("B3_INDICES: comma-separated, trimmed, default IBOV, invalid codes rejected", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(Effect.either(indices), ConfigProvider.fromMap(new Map(Object.entries(env))))
      const dflt = yield* read({})
      assert.deepStrictEqual(dflt._tag === "Right" && dflt.right, codes("IBOV"))
      const many = yield* read({ B3_INDICES: " ibov, SMLL ,IDIV," })
      assert.deepStrictEqual(many._tag === "Right" && many.right, codes("IBOV", "SMLL", "IDIV"))
      const bad = yield* read({ B3_INDICES: "IBOV,no way" })
      assert.strictEqual(bad._tag, "Left")
    }))
})
