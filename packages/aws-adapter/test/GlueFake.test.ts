import { GetJobRunCommand, GetJobRunsCommand, StartJobRunCommand } from "@aws-sdk/client-glue"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { makeGlueFake } from "../src/testing/GlueFake.js"

const start = (fake: ReturnType<typeof makeGlueFake>, date: string, queuing?: boolean) =>
  fake.client.send(
    new StartJobRunCommand({
      JobName: "b3-refine",
      Arguments: { "--ref_date": date, "--bucket": "b" },
      ...(queuing !== undefined ? { JobRunQueuingEnabled: queuing } : {})
    })
  )

describe("GlueFake (the Glue job model the AWS-path tests run against)", () => {
  it.effect("MaxConcurrentRuns 1 with queuing: later runs WAIT and start oldest first, one at a time", () =>
    Effect.gen(function*() {
      const fake = makeGlueFake()
      for (const d of ["2025-04-07", "2025-04-08", "2025-04-09"]) yield* Effect.promise(() => start(fake, d))
      assert.deepStrictEqual(fake.runs.map((r) => r.state), ["STARTING", "WAITING", "WAITING"])
      yield* fake.step // jr_1 RUNNING
      yield* fake.step // jr_1 SUCCEEDED
      assert.deepStrictEqual(fake.runs.map((r) => r.state), ["SUCCEEDED", "WAITING", "WAITING"])
      yield* fake.step // jr_2 STARTING (oldest waiting)
      assert.deepStrictEqual(fake.runs.map((r) => r.state), ["SUCCEEDED", "STARTING", "WAITING"])
      assert.strictEqual(yield* fake.drain, 5)
      assert.isTrue(fake.runs.every((r) => r.state === "SUCCEEDED"))
      assert.strictEqual(fake.maxActive(), 1)
    }))

  it.effect("without queuing a start beyond MaxConcurrentRuns fails with ConcurrentRunsExceededException", () =>
    Effect.gen(function*() {
      const fake = makeGlueFake({ queuing: false, maxConcurrentRuns: 2 })
      yield* Effect.promise(() => start(fake, "2025-04-07"))
      yield* Effect.promise(() => start(fake, "2025-04-08"))
      const error = yield* Effect.flip(Effect.tryPromise(() => start(fake, "2025-04-09")))
      assert.strictEqual((error.error as { name: string }).name, "ConcurrentRunsExceededException")
      // the request's own JobRunQueuingEnabled turns queuing on for that run
      yield* Effect.promise(() => start(fake, "2025-04-09", true))
      assert.strictEqual(fake.runs[2]!.state, "WAITING")
    }))

  it.effect("GetJobRuns pages newest first; GetJobRun answers one run; unknown runs are EntityNotFound", () =>
    Effect.gen(function*() {
      const fake = makeGlueFake()
      for (let i = 0; i < 5; i++) yield* Effect.promise(() => start(fake, `2025-04-0${i + 1}`))
      const first = yield* Effect.promise(() =>
        fake.client.send(new GetJobRunsCommand({ JobName: "b3-refine", MaxResults: 3 }))
      )
      assert.deepStrictEqual(first.JobRuns!.map((r) => r.Id), ["jr_5", "jr_4", "jr_3"])
      const second = yield* Effect.promise(() =>
        fake.client.send(new GetJobRunsCommand({ JobName: "b3-refine", MaxResults: 3, NextToken: first.NextToken! }))
      )
      assert.deepStrictEqual(second.JobRuns!.map((r) => r.Id), ["jr_2", "jr_1"])
      assert.isUndefined(second.NextToken)
      const one = yield* Effect.promise(() =>
        fake.client.send(new GetJobRunCommand({ JobName: "b3-refine", RunId: "jr_2" }))
      )
      assert.strictEqual(one.JobRun!.JobRunState, "WAITING")
      const missing = yield* Effect.flip(
        Effect.tryPromise(() => fake.client.send(new GetJobRunCommand({ JobName: "b3-refine", RunId: "nope" })))
      )
      assert.strictEqual((missing.error as { name: string }).name, "EntityNotFoundException")
    }))
})
