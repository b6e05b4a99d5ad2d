/**
 * `RefineJob` on an AWS Glue job: `start` is `StartJobRun`, `status` is `GetJobRun`.
 *
 * Job arguments: `--bucket`, `--ref_date`, `--index_code` and `--source_key` (when known),
 * `--database`, `--raw_table`, `--refined_table`.
 *
 * At-least-once delivery: S3 may deliver the same object-created event twice, and a Lambda retry
 * replays it. Before starting, the job's recent runs (`GetJobRuns`, newest first, within
 * `dedupeWindow`) are scanned for one still STARTING/RUNNING/WAITING with the same `--ref_date`,
 * `--index_code` and `--source_key`; if there is one, nothing is started and that run is returned
 * with `started: false`. No marker object or table is needed: Glue's own run list is the record.
 * A run that already finished does not suppress a new one (the refine replaces a date, so a late
 * re-run is harmless). Two events racing within the same second can both pass the check; the
 * job's `MaxConcurrentRuns` then refuses one with `ConcurrentRunsExceededException`, which is
 * retried with backoff, and the retry runs the check again and finds the other's run.
 *
 * @since 0.1.0
 */
import type { JobRun } from "@aws-sdk/client-glue"
import { GetJobRunCommand, paginateGetJobRuns, StartJobRunCommand } from "@aws-sdk/client-glue"
import { RefDate } from "@b3-pipeline/core/Domain"
import { RefineJob, RefineJobError } from "@b3-pipeline/core/RefineJob"
import type { RefineRequest, RefineRun, RunState } from "@b3-pipeline/core/RefineJob"
import * as Tables from "@b3-pipeline/core/Tables"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Glue } from "./ClientGlue.js"
import { classify, describe } from "./internal/awsError.js"
import * as Retry from "./internal/retry.js"

/** @category models */
export interface GlueRefineJobConfig {
  readonly jobName: string
  /** The bucket the job reads and writes (`--bucket`). */
  readonly bucket: string
  readonly database?: string | undefined
  /** How far back to look for a run of the same request (default 6 hours). */
  readonly dedupeWindow?: Duration.DurationInput | undefined
  /** Backoff for ConcurrentRunsExceeded/throttling (default: 1 s doubling, 6 retries). */
  readonly retry?: Retry.RetryPolicy | undefined
}

const ACTIVE = new Set(["STARTING", "RUNNING", "STOPPING", "WAITING"])

/** Glue's run states onto the port's. @category mapping */
export const runStateOf = (state: string | undefined): RunState => {
  switch (state) {
    case "STARTING":
      return "STARTING"
    case "RUNNING":
    case "STOPPING":
    case "WAITING":
      return "RUNNING"
    case "SUCCEEDED":
      return "SUCCEEDED"
    case "STOPPED":
      return "STOPPED"
    case "TIMEOUT":
    case "EXPIRED":
      return "TIMEOUT"
    case "FAILED":
    case "ERROR":
      return "FAILED"
    default:
      return "STARTING"
  }
}

/** The job arguments of a request. @category mapping */
export const argumentsOf = (config: GlueRefineJobConfig, request: RefineRequest): Record<string, string> => ({
  "--bucket": config.bucket,
  "--ref_date": request.refDate,
  ...(request.indexCode !== undefined ? { "--index_code": request.indexCode } : {}),
  ...(request.sourceKey !== undefined ? { "--source_key": request.sourceKey } : {}),
  "--database": config.database ?? Tables.DATABASE,
  "--raw_table": Tables.RAW_TABLE,
  "--refined_table": Tables.REFINED_TABLE
})

const sameRequest = (args: Record<string, string>, run: JobRun): boolean => {
  const other = run.Arguments ?? {}
  return ["--ref_date", "--index_code", "--source_key", "--bucket"].every((k) => other[k] === args[k])
}

const reasonOf = (cause: unknown): RefineJobError["reason"] => {
  switch (classify(cause)) {
    case "NotFound":
      return "NotFound"
    case "ConcurrentRuns":
      return "ConcurrentRuns"
    case "Throttled":
    case "Unavailable":
      return "Throttled"
    case "AccessDenied":
      return "AccessDenied"
    default:
      return "Unknown"
  }
}

const decodeRefDate = Schema.decodeUnknownOption(RefDate)

const make = (config: GlueRefineJobConfig) =>
  Effect.gen(function*() {
    const glue = yield* Glue
    const window = Duration.toMillis(config.dedupeWindow ?? "6 hours")
    const policy = config.retry ?? { base: "1 second", times: 6 }
    const fail = (method: string, extra: { refDate?: string; runId?: string }) => (cause: unknown) =>
      new RefineJobError({ reason: reasonOf(cause), method, ...extra, detail: describe(cause), cause })

    const toRun = (run: JobRun, started: boolean, method: string): Effect.Effect<RefineRun, RefineJobError> => {
      const refDate = decodeRefDate(run.Arguments?.["--ref_date"])
      if (Option.isNone(refDate)) {
        return Effect.fail(
          new RefineJobError({
            reason: "Unknown",
            method,
            ...(run.Id !== undefined ? { runId: run.Id } : {}),
            detail: "the job run has no valid --ref_date argument"
          })
        )
      }
      return Effect.succeed({
        runId: run.Id ?? "",
        refDate: refDate.value,
        state: runStateOf(run.JobRunState),
        started,
        ...(run.StartedOn !== undefined ? { startedAt: run.StartedOn.toISOString() } : {}),
        ...(run.CompletedOn !== undefined ? { completedAt: run.CompletedOn.toISOString() } : {}),
        ...(run.ErrorMessage !== undefined ? { errorMessage: run.ErrorMessage } : {})
      })
    }

    /** The newest active run of the same request, if any (runs come newest first). */
    const findActive = (args: Record<string, string>, refDate: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Stream.fromAsyncIterable(
          paginateGetJobRuns({ client: glue, pageSize: 100 }, { JobName: config.jobName }),
          fail("start", { refDate })
        ).pipe(
          Stream.mapConcat((page) => page.JobRuns ?? []),
          // Newest first: stop at the first run older than the window (no further pages are fetched).
          Stream.takeWhile((run) => (run.StartedOn?.getTime() ?? Infinity) >= now - window),
          Stream.filter((run) => ACTIVE.has(run.JobRunState ?? "") && sameRequest(args, run)),
          Stream.runHead
        ))

    const startOnce = (request: RefineRequest) =>
      Effect.gen(function*() {
        const args = argumentsOf(config, request)
        const active = yield* findActive(args, request.refDate)
        if (Option.isSome(active)) return yield* toRun(active.value, false, "start")
        const out = yield* Effect.tryPromise({
          try: (abortSignal) =>
            glue.send(new StartJobRunCommand({ JobName: config.jobName, Arguments: args }), { abortSignal }),
          catch: fail("start", { refDate: request.refDate })
        })
        return {
          runId: out.JobRunId ?? "",
          refDate: request.refDate,
          state: "STARTING",
          started: true,
          startedAt: new Date().toISOString()
        } satisfies RefineRun
      })

    return RefineJob.of({
      start: (request) =>
        startOnce(request).pipe(
          Retry.retryTransient(policy),
          Effect.withSpan("GlueRefineJob.start", { attributes: { refDate: request.refDate } })
        ),
      status: (runId) =>
        Effect.tryPromise({
          try: (abortSignal) =>
            glue.send(new GetJobRunCommand({ JobName: config.jobName, RunId: runId }), { abortSignal }),
          catch: fail("status", { runId })
        }).pipe(
          Retry.retryTransient(Retry.defaultPolicy),
          Effect.flatMap((out) =>
            out.JobRun === undefined ?
              Effect.fail(new RefineJobError({ reason: "NotFound", method: "status", runId })) :
              toRun(out.JobRun, true, "status")
          ),
          Effect.withSpan("GlueRefineJob.status", { attributes: { runId } })
        )
    })
  })

/** @category layers */
export const layer = (config: GlueRefineJobConfig): Layer.Layer<RefineJob, never, Glue> =>
  Layer.effect(RefineJob, make(config))

/** @category layers */
export const layerConfig = (
  config: Config.Config.Wrap<GlueRefineJobConfig>
): Layer.Layer<RefineJob, ConfigError.ConfigError, Glue> =>
  Layer.effect(RefineJob, Effect.flatMap(Config.unwrap(config), make))
