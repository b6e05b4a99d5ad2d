// One suite, both GlueJobRuns adapters: the SDK's GlueClient (on the fake's mocked client) and the
// signed-HTTP client (on the same fake served over Glue's JSON protocol on 127.0.0.1). Each runs
// GlueRefineJob end to end, so what the trigger Lambda does with HttpGlueJobRuns is what the rest
// of the package does with the SDK.
import { ConcurrentRunsExceededException, StartJobRunCommand } from "@aws-sdk/client-glue"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { assert, describe, it } from "@effect/vitest"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Glue } from "../src/ClientGlue.js"
import type { GlueJobRuns } from "../src/GlueJobRuns.js"
import * as GlueRefineJob from "../src/GlueRefineJob.js"
import * as HttpGlueJobRuns from "../src/HttpGlueJobRuns.js"
import * as SdkGlueJobRuns from "../src/SdkGlueJobRuns.js"
import type { GlueFake, GlueFakeOptions } from "../src/testing/GlueFake.js"
import { makeGlueFake, serveGlueFake } from "../src/testing/GlueFake.js"

type Backend = (fake: GlueFake) => Effect.Effect<Layer.Layer<GlueJobRuns>, never, Scope.Scope>

const backends: ReadonlyArray<readonly [string, Backend]> = [
  [
    "SdkGlueJobRuns",
    (fake) => Effect.succeed(SdkGlueJobRuns.layer.pipe(Layer.provide(Layer.succeed(Glue, fake.client))))
  ],
  [
    "HttpGlueJobRuns",
    (fake) =>
      Effect.map(serveGlueFake(fake), (endpoint) =>
        HttpGlueJobRuns.layer({
          region: "us-east-1",
          endpoint,
          credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" }
        }))
  ]
]

const config: GlueRefineJob.GlueRefineJobConfig = {
  jobName: "b3-refine",
  bucket: "b3-bucket",
  retry: { base: "1 millis", times: 2 }
}
const request = (day: string) => ({
  refDate: day as RefDate,
  indexCode: "IBOV" as IndexCode,
  sourceKey: `raw/b3_portfolio_raw/ref_date=${day}/index_code=IBOV/part-00000.parquet`
})

const withJob = <A, E>(
  backend: Backend,
  options: GlueFakeOptions,
  body: (job: Context.Tag.Service<RefineJob>, fake: GlueFake) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const fake = makeGlueFake(options)
    const runs = yield* backend(fake)
    const job = yield* RefineJob.pipe(Effect.provide(GlueRefineJob.layerJobRuns(config).pipe(Layer.provide(runs))))
    return yield* body(job, fake)
  }).pipe(Effect.scoped)

for (const [name, backend] of backends) {
  describe(`GlueJobRuns contract: ${name}`, () => {
    it.live("start sends the job arguments with queuing; a run still STARTING is reused; status reads it back", () =>
      withJob(backend, {}, (job, fake) =>
        Effect.gen(function*() {
          const first = yield* job.start(request("2025-04-07"))
          assert.deepStrictEqual([first.runId, first.started, first.state], ["jr_1", true, "STARTING"])
          assert.deepStrictEqual(fake.runs[0]!.args, GlueRefineJob.argumentsOf(config, request("2025-04-07")))
          const again = yield* job.start({ ...request("2025-04-07"), indexCode: "SMLL" as IndexCode })
          assert.deepStrictEqual([again.runId, again.started], ["jr_1", false])
          // another date is its own run (WAITING behind the first: queuing was asked)
          const other = yield* job.start(request("2025-04-08"))
          assert.deepStrictEqual([other.runId, other.started], ["jr_2", true])
          assert.strictEqual(fake.runs[1]!.state, "WAITING")
          const status = yield* job.status("jr_1")
          assert.strictEqual(status.refDate, "2025-04-07")
          assert.strictEqual(status.state, "STARTING")
          // Glue's epoch-second times come back as the same instant (to the millisecond)
          assert.strictEqual(status.startedAt, fake.runs[0]!.startedOn.toISOString())
          yield* fake.drain
          assert.strictEqual((yield* job.status("jr_1")).state, "SUCCEEDED")
          assert.strictEqual((yield* job.status("jr_2")).state, "SUCCEEDED")
        })))

    it.live("a RUNNING run of the date does not suppress a new one", () =>
      withJob(backend, { maxConcurrentRuns: 2 }, (job, fake) =>
        Effect.gen(function*() {
          yield* job.start(request("2025-04-07"))
          yield* fake.step // RUNNING: it has listed raw
          const second = yield* job.start(request("2025-04-07"))
          assert.deepStrictEqual([second.runId, second.started], ["jr_2", true])
        })))

    it.live("an unknown run is NotFound; a job without queuing at its limit is ConcurrentRuns, retryable", () =>
      withJob(backend, { queuing: false }, (job, fake) =>
        Effect.gen(function*() {
          const missing = yield* Effect.flip(job.status("jr_404"))
          assert.strictEqual(missing.reason, "NotFound")
          assert.match(missing.message, /EntityNotFoundException/)
          yield* job.start(request("2025-04-07"))
          // Glue refuses the next start (a job without queuing at its limit; the fake queues when the
          // request asks, as GlueRefineJob does, so it is told to refuse here)
          let refusals = 0
          fake.mock.on(StartJobRunCommand).callsFake(async () => {
            refusals++
            throw new ConcurrentRunsExceededException({ message: "Concurrent runs exceeded", $metadata: {} })
          })
          const result = yield* Effect.either(job.start(request("2025-04-08")))
          assert.isTrue(Either.isLeft(result))
          if (Either.isLeft(result)) {
            assert.strictEqual(result.left.reason, "ConcurrentRuns")
            assert.isTrue(result.left.retryable)
          }
          assert.strictEqual(refusals, 3) // the first try and 2 retries
        })))
  })
}
