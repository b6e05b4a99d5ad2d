import { GetJobRunsCommand, GlueClient, StartJobRunCommand, ThrottlingException } from "@aws-sdk/client-glue"
import * as AwsClients from "@b3-pipeline/aws-adapter/AwsClients"
import * as GlueRefineJob from "@b3-pipeline/aws-adapter/GlueRefineJob"
import * as S3ObjectStore from "@b3-pipeline/aws-adapter/S3ObjectStore"
import { startS3rver } from "@b3-pipeline/aws-adapter/testing"
import { makeGlueFake } from "@b3-pipeline/aws-adapter/testing/GlueFake"
import type { IndexCode } from "@b3-pipeline/core/Domain"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as TestClock from "effect/TestClock"
import { readFileSync } from "node:fs"
import { handle, makeHandler } from "../src/onRawObjectCreated.js"

const BUCKET = "b3-lakehouse"
const SAMPLE = new Uint8Array(
  readFileSync(
    new URL("../../../fixtures/b3/GetPortfolioDay_IBOV_en-us_segment2_2025-04-07.json", import.meta.url)
  )
)
const s3PutEvent = JSON.parse(readFileSync(new URL("./events/s3-put.json", import.meta.url), "utf8"))
const PARQUET_KEY = "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet"

/** The Glue fake (one run at a time, queued), its runs only changing state. */
const glueWithRuns = () => {
  const fake = makeGlueFake({ jobName: "b3-refine" })
  const refine = GlueRefineJob.layer({ jobName: "b3-refine", bucket: BUCKET }).pipe(
    Layer.provide(Layer.succeed(AwsClients.Glue, fake.client))
  )
  return { mock: fake.mock, refine, fake }
}

describe("onRawObjectCreated", () => {
  it.live(
    "end to end on loopback: RawLayer -> s3rver event -> handler -> Glue StartJobRun, once",
    () =>
      Effect.gen(function*() {
        const server = yield* startS3rver([BUCKET])
        const store = S3ObjectStore.layer({ bucket: BUCKET }).pipe(Layer.provide(AwsClients.layerS3(server.clients)))
        const write = yield* Pipeline.ingest(PortfolioSource.request("IBOV" as IndexCode, { language: "en-us" })).pipe(
          Effect.provide(
            Layer.mergeAll(
              RawLayer.layer.pipe(Layer.provide(store)),
              PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]]]))
            )
          )
        )
        assert.strictEqual(write.outcome, "created")
        assert.strictEqual(write.parquetKey, PARQUET_KEY)

        // s3rver's notifications, as S3 would hand them to Lambda, until the Parquet's arrives.
        const events: Array<unknown> = []
        const keyOf = (e: any): string => e.Records[0].s3.object.key
        while (!events.some((e) => keyOf(e) === PARQUET_KEY)) events.push(yield* Queue.take(server.events))
        assert.isTrue(events.some((e) => keyOf(e).startsWith("raw/b3_portfolio_payloads/")))

        const { mock, refine } = glueWithRuns()
        const handler = makeHandler(refine)
        const summaries = []
        for (const event of events) {
          summaries.push(yield* Effect.promise(() => handler(event, { awsRequestId: "req-1" })))
        }
        assert.deepStrictEqual(summaries.flatMap((s) => s.started), [{
          key: PARQUET_KEY,
          runId: "jr_1",
          refDate: "2025-04-07"
        }])
        assert.isTrue(summaries.flatMap((s) => s.skipped).every((s) => s.reason === "not-raw-parquet"))
        const calls = mock.commandCalls(StartJobRunCommand)
        assert.strictEqual(calls.length, 1)
        assert.deepStrictEqual(calls[0]!.args[0].input.Arguments, {
          "--bucket": BUCKET,
          "--ref_date": "2025-04-07",
          "--index_code": "IBOV",
          "--source_key": PARQUET_KEY,
          "--database": "default",
          "--raw_table": "b3_portfolio_raw",
          "--refined_table": "b3_portfolio_refined"
        })

        // At-least-once delivery: the same event again starts nothing new.
        const parquetEvent = events.find((e) => keyOf(e) === PARQUET_KEY)
        const again = yield* Effect.promise(() => handler(parquetEvent, { awsRequestId: "req-2" }))
        assert.deepStrictEqual(again.started, [])
        assert.deepStrictEqual(again.skipped, [{ key: PARQUET_KEY, reason: "already-running", runId: "jr_1" }])
        assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 1)

        // Writing the same payload again is a no-op: no new object, so no new event.
        const rewrite = yield* Pipeline.ingest(PortfolioSource.request("IBOV" as IndexCode, { language: "en-us" }))
          .pipe(
            Effect.provide(Layer.mergeAll(
              RawLayer.layer.pipe(Layer.provide(store)),
              PortfolioSource.layerMemory(new Map([["IBOV", [SAMPLE]]]))
            ))
          )
        assert.strictEqual(rewrite.outcome, "unchanged")
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it("handles a real S3 ObjectCreated:Put event (URL-encoded keys, two records)", async () => {
    const { mock, refine } = glueWithRuns()
    const summary = await makeHandler(refine)(s3PutEvent, { awsRequestId: "req-3" })
    assert.strictEqual(summary.records, 2)
    // two indices of one date: one run, which will read both (it has not listed raw yet)
    assert.deepStrictEqual(summary.started.map((s) => s.key), [PARQUET_KEY])
    assert.deepStrictEqual(summary.skipped, [{
      key: "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=SMLL/part-00000.parquet",
      reason: "already-running",
      runId: "jr_1"
    }])
    assert.deepStrictEqual(
      mock.commandCalls(StartJobRunCommand).map((c) => c.args[0].input.Arguments!["--index_code"]),
      ["IBOV"]
    )
  })

  it("a malformed event is logged and the handler returns normally", async () => {
    const { mock, refine } = glueWithRuns()
    const handler = makeHandler(refine)
    const bad = await handler({ Records: [{ eventSource: "aws:s3", s3: {} }] }, { awsRequestId: "req-4" })
    assert.strictEqual(bad.requestId, "req-4")
    assert.strictEqual(bad.records, 0)
    assert.include(bad.malformed, "eventName")
    const notS3 = await handler({ hello: "world" })
    assert.include(notS3.malformed, "Records")
    assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 0)
  })

  it("removals and non-raw keys start nothing", async () => {
    const { mock, refine } = glueWithRuns()
    const removed = structuredClone(s3PutEvent)
    removed.Records[0].eventName = "ObjectRemoved:Delete"
    removed.Records[1].s3.object.key =
      "refined/b3_portfolio_refined/ref_date%3D2025-04-07/ticker%3DPETR4/part-0.parquet"
    const summary = await makeHandler(refine)(removed)
    assert.deepStrictEqual(summary.skipped.map((s) => s.reason), ["not-object-created", "not-raw-parquet"])
    assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 0)
  })

  it.effect("a retryable Glue failure fails the invocation (Lambda retries) after trying every record", () => {
    const client = new GlueClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
    const mock = mockClient(client)
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] })
    mock.on(StartJobRunCommand).rejects(new ThrottlingException({ message: "Rate exceeded", $metadata: {} }))
    const refine = GlueRefineJob.layer({ jobName: "b3-refine", bucket: BUCKET, retry: { base: "1 second", times: 2 } })
      .pipe(Layer.provide(Layer.succeed(AwsClients.Glue, client)))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(handle(s3PutEvent, "req-5")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetryableRefineFailure")
      assert.strictEqual(error.keys.length, 2)
      assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 6)
    }).pipe(Effect.provide(refine))
  })
})
