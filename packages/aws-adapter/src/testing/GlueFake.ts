/**
 * A Glue job at the SDK boundary, in process: an `aws-sdk-client-mock` on a real `GlueClient`
 * answering `StartJobRun`, `GetJobRuns` (newest first, pages of `MaxResults`) and `GetJobRun` from a
 * small model of one job:
 *
 * - `MaxConcurrentRuns` (default 1) counts runs STARTING or RUNNING; a start beyond it is WAITING
 *   when job run queuing is on (job setting or the request's `JobRunQueuingEnabled`), else it fails
 *   with `ConcurrentRunsExceededException`;
 * - states move only when the test says (`step`): WAITING -> STARTING (when a slot is free, oldest
 *   first) -> RUNNING -> SUCCEEDED | FAILED. Entering RUNNING is when the job's script starts: it
 *   lists the raw table THEN (`Trigger.readRawState`) and keeps that plan; finishing runs the refine
 *   (core's TypeScript spec, `RefineJob.makeMemory`) on exactly that plan, reading the listed keys'
 *   bytes at that moment, and commits the manifest of what it listed;
 * - every transition is recorded, so a test can assert how many runs ran at once and how many runs
 *   a date got.
 *
 * Test support (`@b3-pipeline/aws-adapter/testing/GlueFake`), beside the s3rver entry: it needs
 * `aws-sdk-client-mock` (a devDependency of this package), so use it from tests only.
 *
 * @since 0.1.0
 */
import type { JobRun, StartJobRunCommandInput } from "@aws-sdk/client-glue"
import {
  ConcurrentRunsExceededException,
  EntityNotFoundException,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand
} from "@aws-sdk/client-glue"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { RefineJob } from "@b3-pipeline/core/RefineJob"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { mockClient } from "aws-sdk-client-mock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import type { Server } from "node:http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export type FakeState = "WAITING" | "STARTING" | "RUNNING" | "SUCCEEDED" | "FAILED"

export interface FakeRun {
  readonly id: string
  readonly args: Record<string, string>
  state: FakeState
  readonly startedOn: Date
  plan?: Trigger.RefinePlan
  error?: string
}

export interface GlueFakeOptions {
  /** What the job runs: core's TypeScript refine on the same store. Without it, runs only change state. */
  readonly refine?: {
    readonly job: Context.Tag.Service<RefineJob>
    readonly store: Context.Tag.Service<ObjectStore>
  }
  readonly jobName?: string
  readonly maxConcurrentRuns?: number
  /** The job's JobRunQueuingEnabled (a request may turn it on too). Default true. */
  readonly queuing?: boolean
}

export const makeGlueFake = (options: GlueFakeOptions = {}) => {
  const refine = options.refine
  const jobName = options.jobName ?? "b3-refine"
  const max = options.maxConcurrentRuns ?? 1
  const client = new GlueClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const runs: Array<FakeRun> = []
  let maxActive = 0
  /** Starts per date (StartJobRun accepted). */
  const startsByDate = new Map<string, number>()
  /** Times a run of the date entered RUNNING (it listed raw). */
  const listingsByDate = new Map<string, number>()

  /** Every state change, in order: what a test reads to prove runs never overlapped. */
  const transitions: Array<{ readonly id: string; readonly to: FakeState }> = []
  const move = (run: FakeRun, to: FakeState) => {
    run.state = to
    transitions.push({ id: run.id, to })
  }
  const active = () => runs.filter((r) => r.state === "STARTING" || r.state === "RUNNING").length
  const toJobRun = (r: FakeRun): JobRun => ({
    Id: r.id,
    JobName: jobName,
    JobRunState: r.state,
    Arguments: r.args,
    StartedOn: r.startedOn,
    ...(r.error !== undefined ? { ErrorMessage: r.error } : {})
  })
  const notFound = (what: string) => new EntityNotFoundException({ message: `${what} not found`, $metadata: {} })

  mock.on(StartJobRunCommand).callsFake(async (input: StartJobRunCommandInput) => {
    if (input.JobName !== jobName) throw notFound(`job ${input.JobName}`)
    const queuing = options.queuing ?? true
    const full = active() >= max
    if (full && !(queuing || input.JobRunQueuingEnabled === true)) {
      throw new ConcurrentRunsExceededException({ message: "Concurrent runs exceeded", $metadata: {} })
    }
    const id = `jr_${runs.length + 1}`
    const run: FakeRun = {
      id,
      args: { ...(input.Arguments ?? {}) },
      state: full || runs.some((r) => r.state === "WAITING") ? "WAITING" : "STARTING",
      startedOn: new Date()
    }
    runs.push(run)
    transitions.push({ id, to: run.state })
    const date = run.args["--ref_date"] ?? ""
    startsByDate.set(date, (startsByDate.get(date) ?? 0) + 1)
    maxActive = Math.max(maxActive, active())
    return { JobRunId: id }
  })
  mock.on(GetJobRunsCommand).callsFake(async (input) => {
    if (input.JobName !== jobName) throw notFound(`job ${input.JobName}`)
    const newestFirst = [...runs].reverse()
    const size = input.MaxResults ?? 100
    const from = input.NextToken === undefined ? 0 : Number(input.NextToken)
    const page = newestFirst.slice(from, from + size)
    return {
      JobRuns: page.map(toJobRun),
      ...(from + size < newestFirst.length ? { NextToken: String(from + size) } : {})
    }
  })
  mock.on(GetJobRunCommand).callsFake(async (input) => {
    const run = runs.find((r) => r.id === input.RunId)
    if (run === undefined) throw notFound(`run ${input.RunId}`)
    return { JobRun: toJobRun(run) }
  })

  /** Moves one run one state forward (the oldest that can move); false when nothing can. */
  const step: Effect.Effect<boolean> = Effect.gen(function*() {
    const running = runs.find((r) => r.state === "RUNNING")
    const starting = runs.find((r) => r.state === "STARTING")
    if (starting !== undefined && running === undefined) {
      // The script starts: ONE listing of raw, the plan of its date.
      const refDate = starting.args["--ref_date"] as RefDate
      if (refine !== undefined) {
        const raw = yield* Effect.orDie(Effect.provideService(Trigger.readRawState, ObjectStore, refine.store))
        starting.plan = Trigger.planOf(raw, refDate)
      }
      move(starting, "RUNNING")
      listingsByDate.set(refDate, (listingsByDate.get(refDate) ?? 0) + 1)
      maxActive = Math.max(maxActive, active())
      return true
    }
    if (running !== undefined) {
      const plan = running.plan
      const result = refine === undefined || plan === undefined ?
        Either.right(undefined) :
        yield* Effect.either(refine.job.start({ refDate: plan.refDate, plan }))
      if (Either.isLeft(result)) {
        move(running, "FAILED")
        running.error = result.left.message
      } else {
        move(running, "SUCCEEDED")
      }
      return true
    }
    const waiting = runs.find((r) => r.state === "WAITING")
    if (waiting !== undefined && active() < max) {
      move(waiting, "STARTING")
      maxActive = Math.max(maxActive, active())
      return true
    }
    return false
  })

  /** Steps until no run can move. */
  const drain: Effect.Effect<number> = Effect.gen(function*() {
    let n = 0
    while (yield* step) n++
    return n
  })

  return {
    client,
    mock,
    runs,
    step,
    drain,
    /** The most runs STARTING or RUNNING at once so far. */
    maxActive: () => maxActive,
    startsByDate,
    listingsByDate,
    transitions
  }
}

export type GlueFake = ReturnType<typeof makeGlueFake>

/**
 * Serves a fake over HTTP on 127.0.0.1 (Glue's JSON 1.1 protocol, what `B3_GLUE_ENDPOINT` points a
 * bundled handler at): each request becomes the SDK command, answered by the fake's model; dates
 * as epoch seconds, errors as `__type`. Closed with the scope.
 *
 * @category testing
 */
export const serveGlueFake = (fake: GlueFake): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Server; endpoint: string }>((resume) => {
      const commands: Record<string, (input: any) => any> = {
        StartJobRun: (input) => new StartJobRunCommand(input),
        GetJobRuns: (input) => new GetJobRunsCommand(input),
        GetJobRun: (input) => new GetJobRunCommand(input)
      }
      const server = createServer((req, res) => {
        let body = ""
        req.on("data", (d) => (body += d))
        req.on("end", () => {
          const op = String(req.headers["x-amz-target"] ?? "").replace(/^AWSGlue\./, "")
          res.setHeader("content-type", "application/x-amz-json-1.1")
          const make = commands[op]
          if (make === undefined) {
            res.statusCode = 400
            return res.end(JSON.stringify({ __type: "InvalidInputException", message: `not faked: ${op}` }))
          }
          fake.client.send(make(JSON.parse(body === "" ? "{}" : body))).then(
            (out: unknown) =>
              res.end(JSON.stringify(out, function(this: Record<string, unknown>, key: string, v: unknown) {
                const raw = this[key]
                return raw instanceof Date ? raw.getTime() / 1000 : v
              })),
            (error: { name?: string; message?: string }) => {
              res.statusCode = 400
              res.end(
                JSON.stringify({ __type: error.name ?? "InternalServiceException", message: error.message ?? "" })
              )
            }
          )
        })
      })
      server.listen(
        0,
        "127.0.0.1",
        () => resume(Effect.succeed({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
      )
    }),
    ({ server }) => Effect.sync(() => server.close())
  ).pipe(Effect.map(({ endpoint }) => endpoint))
