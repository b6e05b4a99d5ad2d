import {
  ConcurrentRunsExceededException,
  EntityNotFoundException,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand
} from "@aws-sdk/client-glue"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { Glue } from "../src/AwsClients.js"
import * as GlueRefineJob from "../src/GlueRefineJob.js"

const config = { jobName: "b3-refine", bucket: "b3-bucket" }
const request = {
  refDate: "2025-04-07" as RefDate,
  indexCode: "IBOV" as IndexCode,
  sourceKey: "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet"
}
const args = GlueRefineJob.argumentsOf(config, request)

const setup = () => {
  const client = new GlueClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const layer = GlueRefineJob.layer(config).pipe(Layer.provide(Layer.succeed(Glue, client)))
  return { mock, layer }
}

describe("GlueRefineJob", () => {
  it.effect("starts a run with the job arguments", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] })
    mock.on(StartJobRunCommand).resolves({ JobRunId: "jr_1" })
    return Effect.gen(function*() {
      const run = yield* (yield* RefineJob).start(request)
      assert.strictEqual(run.runId, "jr_1")
      assert.isTrue(run.started)
      assert.strictEqual(run.state, "STARTING")
      const calls = mock.commandCalls(StartJobRunCommand)
      assert.strictEqual(calls.length, 1)
      assert.deepStrictEqual(calls[0]!.args[0].input, {
        JobName: "b3-refine",
        JobRunQueuingEnabled: true,
        Arguments: {
          "--bucket": "b3-bucket",
          "--ref_date": "2025-04-07",
          "--index_code": "IBOV",
          "--source_key": request.sourceKey,
          "--database": "default",
          "--raw_table": "b3_portfolio_raw",
          "--refined_table": "b3_portfolio_refined"
        }
      })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a run of the same date still WAITING or STARTING is reused (it has not listed raw yet)", () => {
    const { layer, mock } = setup()
    const now = new Date(0)
    const otherIndex = { ...args, "--index_code": "SMLL", "--source_key": "raw/other" }
    mock.on(GetJobRunsCommand).resolvesOnce({
      JobRuns: [
        { Id: "jr_other", JobRunState: "WAITING", StartedOn: now, Arguments: { ...args, "--ref_date": "2025-04-08" } },
        { Id: "jr_done", JobRunState: "SUCCEEDED", StartedOn: now, Arguments: args }
      ],
      NextToken: "t2"
    }).resolvesOnce({ JobRuns: [{ Id: "jr_waiting", JobRunState: "WAITING", StartedOn: now, Arguments: otherIndex }] })
    mock.on(StartJobRunCommand).resolves({ JobRunId: "jr_new" })
    return Effect.gen(function*() {
      const run = yield* (yield* RefineJob).start(request)
      // another index of the same date started it: it will read this object too
      assert.strictEqual(run.runId, "jr_waiting")
      assert.isFalse(run.started)
      assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 0)
      assert.strictEqual(mock.commandCalls(GetJobRunsCommand)[1]!.args[0].input.NextToken, "t2")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a RUNNING run of the date does not suppress a new one (it may have listed before the object)", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunsCommand).resolves({
      JobRuns: [{ Id: "jr_running", JobRunState: "RUNNING", StartedOn: new Date(0), Arguments: args }]
    })
    mock.on(StartJobRunCommand).resolves({ JobRunId: "jr_next" })
    return Effect.gen(function*() {
      const run = yield* (yield* RefineJob).start(request)
      assert.strictEqual(run.runId, "jr_next")
      assert.isTrue(run.started)
      // queued behind the running one, never refused
      assert.strictEqual(mock.commandCalls(StartJobRunCommand)[0]!.args[0].input.JobRunQueuingEnabled, true)
    }).pipe(Effect.provide(layer))
  })

  it.effect("runs older than the dedupe window are not scanned, and at most maxRunPages pages are read", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunsCommand).resolvesOnce({
      JobRuns: [{ Id: "jr_old", JobRunState: "WAITING", StartedOn: new Date(0), Arguments: args }],
      NextToken: "never-fetched"
    })
    mock.on(StartJobRunCommand).resolves({ JobRunId: "jr_new" })
    return Effect.gen(function*() {
      yield* TestClock.setTime(7 * 3_600_000)
      const run = yield* (yield* RefineJob).start(request)
      assert.strictEqual(run.runId, "jr_new")
      assert.strictEqual(mock.commandCalls(GetJobRunsCommand).length, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("ConcurrentRunsExceeded (a job without queuing) is retried within the budget, then retryable", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] })
    mock.on(StartJobRunCommand).rejects(new ConcurrentRunsExceededException({ message: "busy", $metadata: {} }))
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.either((yield* RefineJob).start(request)))
      yield* TestClock.adjust("10 minutes")
      const result = yield* Fiber.join(fiber)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.reason, "ConcurrentRuns")
        assert.isTrue(result.left.retryable)
      }
      assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 5)
    }).pipe(Effect.provide(layer))
  })

  it("the worst-case retry wait of a start fits inside the trigger Lambda's 60 s timeout", () => {
    const budget = GlueRefineJob.startRetryBudget({})
    assert.isTrue(Duration.lessThan(budget, Duration.seconds(50)), Duration.format(budget))
    assert.isTrue(Duration.greaterThan(GlueRefineJob.startRetryBudget({ maxRunPages: 20 }), Duration.seconds(60)))
  })

  it.effect("status maps Glue run states and errors", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunCommand, { RunId: "jr_failed" }).resolves({
      JobRun: {
        Id: "jr_failed",
        JobRunState: "ERROR",
        Arguments: args,
        StartedOn: new Date("2025-04-07T21:00:00Z"),
        CompletedOn: new Date("2025-04-07T21:03:00Z"),
        ErrorMessage: "AnalysisException: table not found"
      }
    })
    mock.on(GetJobRunCommand, { RunId: "jr_gone" }).rejects(
      new EntityNotFoundException({ message: "no such run", $metadata: {} })
    )
    return Effect.gen(function*() {
      const job = yield* RefineJob
      const run = yield* job.status("jr_failed")
      assert.deepStrictEqual(run, {
        runId: "jr_failed",
        refDate: "2025-04-07" as RefDate,
        state: "FAILED",
        started: true,
        startedAt: "2025-04-07T21:00:00.000Z",
        completedAt: "2025-04-07T21:03:00.000Z",
        errorMessage: "AnalysisException: table not found"
      })
      const gone = yield* Effect.flip(job.status("jr_gone"))
      assert.strictEqual(gone.reason, "NotFound")
      assert.strictEqual(gone.runId, "jr_gone")
      assert.deepStrictEqual(
        ["STARTING", "RUNNING", "STOPPING", "WAITING", "SUCCEEDED", "STOPPED", "TIMEOUT", "EXPIRED", "FAILED"].map(
          GlueRefineJob.runStateOf
        ),
        ["STARTING", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED", "STOPPED", "TIMEOUT", "TIMEOUT", "FAILED"]
      )
    }).pipe(Effect.provide(layer))
  })

  it.effect("AccessDenied is not retried", () => {
    const { layer, mock } = setup()
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] })
    mock.on(StartJobRunCommand).rejects(Object.assign(new Error("nope"), { name: "AccessDeniedException" }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RefineJob).start(request))
      assert.strictEqual(error.reason, "AccessDenied")
      assert.strictEqual(error.refDate, "2025-04-07")
      assert.strictEqual(mock.commandCalls(StartJobRunCommand).length, 1)
    }).pipe(Effect.provide(layer))
  })
})
