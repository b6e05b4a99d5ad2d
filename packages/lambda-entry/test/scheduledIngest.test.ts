import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import * as AwsClients from "@b3-pipeline/aws-adapter/AwsClients"
import * as S3ObjectStore from "@b3-pipeline/aws-adapter/S3ObjectStore"
import * as Catalog from "@b3-pipeline/core/Catalog"
import type { IndexCode } from "@b3-pipeline/core/Domain"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import * as RefineJob from "@b3-pipeline/core/RefineJob"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { handle, indices, makeHandler, saoPaulo, tradingDayAt } from "../src/scheduledIngest.js"

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
        rows: ibov!.ok && "rows" in ibov! ? ibov!.rows : -1,
        parquetKey: "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet"
      })
      assert.isTrue(ibov!.ok && "rows" in ibov! && ibov!.rows > 50)
      assert.isTrue(!smll!.ok && smll!.error === "B3ParseError" && smll!.reason === "HtmlPage" && !smll!.retryable)
      assert.isTrue(!idiv!.ok && idiv!.error === "FetchError" && idiv!.reason === "NotFound")
      // the HTML page's exact bytes are in quarantine
      const store = yield* ObjectStore.ObjectStore
      const quarantined = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("quarantine/")))
      const page = quarantined.find((o) => !o.key.endsWith("error.json"))
      assert.isDefined(page)
      const stored = yield* store.get(page!.key)
      assert.deepStrictEqual(stored._tag === "Some" ? stored.value : undefined, HTML)
      // the same day again (the next scheduled run): archived already, nothing fetched or rewritten
      const again = yield* handle(scheduled, "req-2", codes("IBOV"))
      assert.strictEqual(again.results[0]!.ok && again.results[0]!.outcome, "archived")
    }).pipe(Effect.provide(ports)))

  it.effect("an index outside B3's list is quarantined as UnknownIndex unless allowed", () =>
    Effect.gen(function*() {
      const refused = yield* handle(scheduled, "req-3", codes("NEWX"))
      const r = refused.results[0]!
      assert.isTrue(!r.ok && r.error === "B3ParseError" && r.reason === "UnknownIndex")
      const accepted = yield* handle(scheduled, "req-4", codes("NEWX"), undefined, { allowUnknownIndex: true })
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

  it.effect("a later run of the day fetches only what is not archived yet; after the cutoff it reports what is missing", () => {
    let fetches = 0
    const counting = Layer.succeed(
      PortfolioSource.PortfolioSource,
      PortfolioSource.PortfolioSource.of({
        fetch: (req) => {
          fetches++
          return Effect.flatMap(PortfolioSource.PortfolioSource, (s) => s.fetch(req)).pipe(
            Effect.provide(PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]], ["SMLL", [HTML]]])))
          )
        }
      })
    )
    const layer = Layer.mergeAll(RawLayer.layer, counting).pipe(Layer.provideMerge(ObjectStore.layerMemory))
    const fresh = { cutoff: "10:00", namespace: "B3Pipeline", environment: "test" }
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const write = process.stdout.write
      process.stdout.write = ((chunk: string) => {
        lines.push(String(chunk))
        return true
      }) as typeof process.stdout.write
      try {
        // 07:30 BRT (10:30Z): before the cutoff, no metric
        const first = yield* handle(scheduled, "r1", codes("IBOV", "SMLL"), fresh)
        assert.isUndefined(first.missing)
        assert.strictEqual(fetches, 2)
        // 13:30Z = 10:30 BRT, after the cutoff: IBOV archived (not fetched), SMLL still missing
        const later = { ...scheduled, time: "2025-04-07T13:30:00Z" }
        const second = yield* handle(later, "r2", codes("IBOV", "SMLL"), fresh)
        assert.strictEqual(fetches, 3)
        assert.deepStrictEqual(second.results.map((r) => r.ok ? r.outcome : r.error), ["archived", "B3ParseError"])
        assert.deepStrictEqual(second.missing, ["SMLL"])
      } finally {
        process.stdout.write = write
      }
      const metric = JSON.parse(lines.find((l) => l.includes("MissingIndices"))!)
      assert.strictEqual(metric.MissingIndices, 1)
      assert.strictEqual(metric.Environment, "test")
      assert.deepStrictEqual(metric._aws.CloudWatchMetrics[0].Metrics, [{ Name: "MissingIndices", Unit: "Count" }])
    }).pipe(Effect.provide(layer))
  })

  it.effect("on a B3 holiday (a weekday) nothing is fetched and no freshness is reported", () =>
    Effect.gen(function*() {
      // 2025-04-18: Good Friday, B3 closed
      const holiday = { ...scheduled, time: "2025-04-18T14:00:00Z" }
      const summary = yield* handle(holiday, "r-h", codes("IBOV"), {
        cutoff: "10:00",
        namespace: "N",
        environment: "e"
      })
      assert.strictEqual(summary.tradingDay, false)
      assert.deepStrictEqual(summary.results, [])
      assert.isUndefined(summary.missing)
      assert.isTrue(tradingDayAt(new Date("2025-04-17T14:00:00Z")))
      assert.isFalse(tradingDayAt(new Date("2025-04-19T14:00:00Z")))
    }).pipe(Effect.provide(ports)))

  it("Sao Paulo time: the date, the wall-clock time and the weekday of an instant", () => {
    assert.deepStrictEqual(saoPaulo(new Date("2025-04-07T02:30:00Z")), {
      date: "2025-04-06" as never,
      time: "23:30",
      weekday: false
    })
    assert.deepStrictEqual(saoPaulo(new Date("2025-04-07T13:00:00Z")), {
      date: "2025-04-07" as never,
      time: "10:00",
      weekday: true
    })
  })

  it.live("a throttled S3 put fails the invocation as retryable (Lambda retries it), after every index was tried", () => {
    const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
    const s3 = mockClient(client)
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error("nk"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } })
    )
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error("nf"), { name: "NotFound", $metadata: { httpStatusCode: 404 } })
    )
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error("Please reduce your request rate."), {
        name: "SlowDown",
        $metadata: { httpStatusCode: 503 }
      })
    )
    const store = S3ObjectStore.layer({ bucket: "b3", retry: { base: "5 millis", times: 2 } }).pipe(
      Layer.provide(Layer.succeed(AwsClients.S3, client))
    )
    const layer = Layer.mergeAll(
      RawLayer.layer,
      PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]]]))
    ).pipe(Layer.provideMerge(store))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(handle(scheduled, "req-s3", codes("IBOV")))
      assert.strictEqual(error._tag, "RetryableIngestFailure")
      assert.deepStrictEqual(error.indices, ["IBOV"])
      assert.include(error.detail, "Throttled")
      // the put was retried by the adapter's one policy before the invocation gave up
      assert.isAtLeast(s3.commandCalls(PutObjectCommand).length, 3)
    }).pipe(Effect.provide(layer))
  })

  it.effect("last step: the reconcile starts a refine for every stale date (a lost S3 event heals)", () => {
    const layer = Layer.mergeAll(
      RawLayer.layer,
      RefineJob.layerMemory,
      PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]]]))
    ).pipe(Layer.provideMerge(Layer.merge(ObjectStore.layerMemory, Catalog.layerMemory)))
    return Effect.gen(function*() {
      // no S3 event reaches any trigger here: only the reconcile can refine the new date
      const summary = yield* handle(scheduled, "req-r", codes("IBOV"))
      assert.deepStrictEqual(summary.reconcile?.stale, ["2025-04-07"])
      assert.deepStrictEqual(summary.reconcile?.started.map((r) => r.refDate), ["2025-04-07"])
      const fresh = yield* Trigger.freshness
      assert.deepStrictEqual(fresh.stale, [])
      // the next run: archived, nothing stale, nothing started
      const again = yield* handle(scheduled, "req-r2", codes("IBOV"))
      assert.deepStrictEqual(again.reconcile, { stale: [], started: [] })
    }).pipe(Effect.provide(layer))
  })
})
