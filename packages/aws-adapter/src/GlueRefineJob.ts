/**
 * `RefineJob` on an AWS Glue job: `start` is `StartJobRun`, `status` is `GetJobRun`, through the
 * `GlueJobRuns` port (the SDK's client by default, `HttpGlueJobRuns` in the trigger Lambda).
 *
 * Job arguments: `--bucket`, `--ref_date`, `--index_code` and `--source_key` (the change that asked,
 * logged only: a run refines the whole date), `--database`, `--raw_table`, `--refined_table`.
 *
 * **Coalesced per date.** The job runs one run at a time with job run queuing
 * (`MaxConcurrentRuns: 1`, `JobRunQueuingEnabled`; each StartJobRun also asks for queuing): a run
 * started while another runs waits in `WAITING`. A run lists the raw table when its script starts
 * (it is `RUNNING` then), so a run still `WAITING` or `STARTING` will read every object written
 * before it leaves that state. `start` therefore starts a run for the date unless the job's recent
 * runs (`GetJobRuns`, newest first, within `dedupeWindow`) hold one for the same `--ref_date` still
 * WAITING or STARTING: that run is returned with `started: false`. A run already RUNNING may have
 * listed before the new object, so it does not suppress a new one. S3's at-least-once delivery,
 * Lambda's retries and the 36 writes of one day thus start at most two runs per date per burst (the
 * one running and the one waiting), not 36; two events racing within the same second can both pass
 * the check (a third run, still correct: runs are serialized and each rewrites the whole date).
 *
 * **Retries fit the caller's deadline.** Every call goes through `Retry.call` with `retry` (default
 * 500 ms doubling, 4 retries: at most 11.25 s of waiting per call) and at most `maxRunPages` pages of
 * runs are read: `startRetryBudget` is the worst-case wait of one `start`, which the trigger
 * Lambda's timeout must exceed.
 *
 * @since 0.1.0
 */
import type { JobRun } from "@aws-sdk/client-glue"
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
import type { Glue } from "./ClientGlue.js"
import { GlueJobRuns } from "./GlueJobRuns.js"
import { classify, describe } from "./internal/awsError.js"
import * as Retry from "./internal/retry.js"
import * as SdkGlueJobRuns from "./SdkGlueJobRuns.js"

/** @category models */
export interface GlueRefineJobConfig {
  readonly jobName: string
  /** The bucket the job reads and writes (`--bucket`). */
  readonly bucket: string
  readonly database?: string | undefined
  /** How far back to look for a waiting run of the same date (default 6 hours). */
  readonly dedupeWindow?: Duration.DurationInput | undefined
  /** Pages of 100 runs read at most by the check (default 3). */
  readonly maxRunPages?: number | undefined
  /** Retry policy of each Glue call (default: 500 ms doubling, 4 retries). */
  readonly retry?: Retry.RetryPolicy | undefined
}

/** Runs that have not listed the raw table yet: they will read an object written now. @category coalescing */
export const PENDING_STATES: ReadonlySet<string> = new Set(["WAITING", "STARTING"])

/** @category coalescing */
export const defaultStartPolicy: Retry.RetryPolicy = { base: "500 millis", times: 4 }

/**
 * The longest a `start` can wait in retries: every call (the pages of runs, then StartJobRun) at
 * its policy's maximum. The trigger Lambda's timeout must exceed it. @category coalescing
 */
export const startRetryBudget = (config: Pick<GlueRefineJobConfig, "maxRunPages" | "retry">): Duration.Duration =>
  Duration.times(Retry.maxTotalWait(config.retry ?? defaultStartPolicy), (config.maxRunPages ?? 3) + 1)

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

/** Same date of the same bucket (the run rewrites the whole date, whichever index asked). */
const sameDate = (args: Record<string, string>, run: JobRun): boolean => {
  const other = run.Arguments ?? {}
  return ["--ref_date", "--bucket"].every((k) => other[k] === args[k])
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
    const glue = yield* GlueJobRuns
    const window = Duration.toMillis(config.dedupeWindow ?? "6 hours")
    const policy = config.retry ?? defaultStartPolicy
    const fail = (method: string, extra: { refDate?: string; runId?: string }) => (cause: unknown) =>
      new RefineJobError({ reason: reasonOf(cause), method, ...extra, detail: describe(cause), cause })
    // ConcurrentRunsExceeded (a job without queuing) is worth a retry too.
    const retryOn = new Set([...Retry.TRANSIENT, "ConcurrentRuns" as const])

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

    /**
     * The newest run of the same date that has not listed raw yet (runs come newest first): page by
     * page (each page one `Retry.call`), at most `maxRunPages` pages, stopping at the first run
     * older than the window (no further pages are fetched). A loop rather than `Retry.pages`: the
     * trigger Lambda's bundle then carries no Stream code (a smaller, faster cold start).
     */
    const findPending = (args: Record<string, string>, refDate: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const maxPages = config.maxRunPages ?? 3
        const page = (token: string | undefined, read: number): Effect.Effect<Option.Option<JobRun>, RefineJobError> =>
          read >= maxPages ?
            Effect.succeedNone :
            Effect.flatMap(
              Retry.call(
                (signal) =>
                  glue.getJobRuns({
                    JobName: config.jobName,
                    MaxResults: 100,
                    ...(token !== undefined ? { NextToken: token } : {})
                  }, signal),
                { onError: fail("start", { refDate }), policy, retryOn }
              ),
              (out) => {
                for (const run of out.JobRuns ?? []) {
                  if ((run.StartedOn?.getTime() ?? Infinity) < now - window) return Effect.succeedNone
                  if (PENDING_STATES.has(run.JobRunState ?? "") && sameDate(args, run)) {
                    return Effect.succeed(Option.some(run))
                  }
                }
                const next = out.NextToken
                return next !== undefined && next !== "" ? page(next, read + 1) : Effect.succeedNone
              }
            )
        return page(undefined, 0)
      })

    const startOnce = (request: RefineRequest) =>
      Effect.gen(function*() {
        const args = argumentsOf(config, request)
        const pending = yield* findPending(args, request.refDate)
        if (Option.isSome(pending)) return yield* toRun(pending.value, false, "start")
        const out = yield* Retry.call(
          (signal) =>
            glue.startJobRun({ JobName: config.jobName, Arguments: args, JobRunQueuingEnabled: true }, signal),
          { onError: fail("start", { refDate: request.refDate }), policy, retryOn }
        )
        const now = yield* Clock.currentTimeMillis
        return {
          runId: out.JobRunId ?? "",
          refDate: request.refDate,
          state: "STARTING",
          started: true,
          startedAt: new Date(now).toISOString()
        } satisfies RefineRun
      })

    return RefineJob.of({
      start: (request) =>
        startOnce(request).pipe(
          Effect.withSpan("GlueRefineJob.start", { attributes: { refDate: request.refDate } })
        ),
      status: (runId) =>
        Retry.call(
          (signal) => glue.getJobRun({ JobName: config.jobName, RunId: runId }, signal),
          { onError: fail("status", { runId }) }
        ).pipe(
          Effect.flatMap((out) =>
            out.JobRun === undefined ?
              Effect.fail(new RefineJobError({ reason: "NotFound", method: "status", runId })) :
              toRun(out.JobRun, true, "status")
          ),
          Effect.withSpan("GlueRefineJob.status", { attributes: { runId } })
        )
    })
  })

/**
 * On any `GlueJobRuns` adapter (the trigger Lambda uses `HttpGlueJobRuns`).
 *
 * @category layers
 */
export const layerJobRuns = (config: GlueRefineJobConfig): Layer.Layer<RefineJob, never, GlueJobRuns> =>
  Layer.effect(RefineJob, make(config))

/** @category layers */
export const layerJobRunsConfig = (
  config: Config.Config.Wrap<GlueRefineJobConfig>
): Layer.Layer<RefineJob, ConfigError.ConfigError, GlueJobRuns> =>
  Layer.effect(RefineJob, Effect.flatMap(Config.unwrap(config), make))

/** On the SDK's `GlueClient` (`SdkGlueJobRuns`). @category layers */
export const layer = (config: GlueRefineJobConfig): Layer.Layer<RefineJob, never, Glue> =>
  layerJobRuns(config).pipe(Layer.provide(SdkGlueJobRuns.layer))

/** On the SDK's `GlueClient` (`SdkGlueJobRuns`). @category layers */
export const layerConfig = (
  config: Config.Config.Wrap<GlueRefineJobConfig>
): Layer.Layer<RefineJob, ConfigError.ConfigError, Glue> =>
  layerJobRunsConfig(config).pipe(Layer.provide(SdkGlueJobRuns.layer))
