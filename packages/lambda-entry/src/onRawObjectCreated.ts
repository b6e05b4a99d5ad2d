/**
 * Lambda: S3 `ObjectCreated` on `raw/` -> start the refine of the object's date (Glue job run).
 *
 * Thin on purpose: decode the event with core's `ObjectStore.S3Event`; for each record whose key is
 * a raw Parquet file start the refine through `RefineJob`, by core's trigger rule (`Trigger`, which
 * imports no codec: importing `Pipeline` would pull the Parquet writer, Arrow and the codecs into
 * this bundle and double its cold start); report what happened.
 *
 * - A malformed event is logged as a typed error with the request id and the handler returns
 *   normally (an S3 event that does not decode never will: no retry loop).
 * - A retryable refine error (throttling, concurrent runs after the adapter's own backoff) fails
 *   the invocation once every record was tried, so Lambda's asynchronous retry replays the event;
 *   the Glue adapter's duplicate check makes the replay start nothing twice.
 * - Other refine errors are logged and reported in the summary.
 *
 * The runtime (the Glue job-run client) is built once per cold start.
 *
 * @since 0.1.0
 */
import * as GlueRefineJob from "@b3-pipeline/aws-adapter/GlueRefineJob"
import * as HttpGlueJobRuns from "@b3-pipeline/aws-adapter/HttpGlueJobRuns"
import { recordKey, S3Event } from "@b3-pipeline/core/ObjectStore"
import type { RefineJob, RefineJobError } from "@b3-pipeline/core/RefineJob"
import * as Tables from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { withSourceStack } from "./internal/stack.js"

/** @category models */
export interface Summary {
  readonly requestId: string
  readonly records: number
  readonly started: ReadonlyArray<{ readonly key: string; readonly runId: string; readonly refDate: string }>
  readonly skipped: ReadonlyArray<{
    readonly key: string
    readonly reason: "not-raw-parquet" | "not-object-created" | "already-running"
    readonly runId?: string
  }>
  readonly failed: ReadonlyArray<{ readonly key: string; readonly reason: string; readonly message: string }>
  /** Set when the event did not decode: what was wrong with it. */
  readonly malformed?: string
}

/** The minimal Lambda context this handler reads. @category models */
export interface LambdaContext {
  readonly awsRequestId?: string
}

/** The invocation failed on retryable errors (Lambda retries the event). @category errors */
export class RetryableRefineFailure extends Schema.TaggedError<RetryableRefineFailure>()("RetryableRefineFailure", {
  requestId: Schema.String,
  keys: Schema.Array(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    return `refine could not be started for ${this.keys.join(", ")} (request ${this.requestId}): ${this.detail}`
  }
}

/** The malformed-event error, logged (never thrown). @category errors */
export class MalformedEvent extends Schema.TaggedError<MalformedEvent>()("MalformedEvent", {
  requestId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `malformed S3 event (request ${this.requestId}): ${this.detail}`
  }
}

const decode = Schema.decodeUnknownEither(S3Event)

/**
 * The trigger rule, from core's `Trigger` (no codec or Parquet imports): a raw Parquet key starts
 * the refine of its date (`Some(runs)`), any other key is `None`. The handler has no `ObjectStore`,
 * so only the object's own date is refined (`Trigger.onRawObjectWithoutListing`, which carries no
 * listing code into the bundle); a backfill's effect on the next date is left to
 * `Trigger.reconcile` (its staleness test catches it).
 *
 * @category handlers
 */
export const onRawObject = Trigger.onRawObjectWithoutListing

/**
 * The handler's work as an Effect (tests provide a `RefineJob`).
 *
 * @category handlers
 */
export const handle = (
  event: unknown,
  requestId: string
): Effect.Effect<Summary, RetryableRefineFailure, RefineJob> =>
  Effect.gen(function*() {
    const decoded = decode(event, { onExcessProperty: "ignore" })
    if (Either.isLeft(decoded)) {
      const error = new MalformedEvent({
        requestId,
        detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left)
      })
      yield* Effect.logError(error.message).pipe(Effect.annotateLogs({ requestId, error: error._tag }))
      return { requestId, records: 0, started: [], skipped: [], failed: [], malformed: error.detail }
    }
    const records = decoded.right.Records
    const started: Array<Summary["started"][number]> = []
    const skipped: Array<Summary["skipped"][number]> = []
    const failed: Array<Summary["failed"][number]> = []
    const retryable: Array<{ key: string; error: RefineJobError }> = []
    for (const record of records) {
      const key = recordKey(record)
      if (!record.eventName.startsWith("ObjectCreated:")) {
        skipped.push({ key, reason: "not-object-created" })
        continue
      }
      const result = yield* Effect.either(onRawObject(record))
      if (Either.isLeft(result)) {
        const error = result.left
        yield* Effect.logError(error.message).pipe(
          Effect.annotateLogs({ requestId, key, reason: error.reason, retryable: error.retryable })
        )
        failed.push({ key, reason: error.reason, message: error.message })
        if (error.retryable) retryable.push({ key, error })
      } else if (Option.isNone(result.right)) {
        skipped.push({ key, reason: "not-raw-parquet" })
      } else {
        for (const run of result.right.value) {
          if (run.started) started.push({ key, runId: run.runId, refDate: run.refDate })
          else skipped.push({ key, reason: "already-running", runId: run.runId })
        }
      }
    }
    const summary: Summary = { requestId, records: records.length, started, skipped, failed }
    yield* Effect.logInfo("onRawObjectCreated").pipe(Effect.annotateLogs({ summary }))
    if (retryable.length > 0) {
      return yield* Effect.fail(
        new RetryableRefineFailure({
          requestId,
          keys: retryable.map((r) => r.key),
          detail: retryable.map((r) => r.error.message).join("; ")
        })
      )
    }
    return summary
  }).pipe(Effect.withSpan("lambda.onRawObjectCreated", { attributes: { requestId } }))

/**
 * A Lambda handler on a layer; the runtime is built on the first invocation and kept.
 *
 * @category handlers
 */
export const makeHandler = <E>(layer: Layer.Layer<RefineJob, E>) => {
  const runtime = ManagedRuntime.make(layer)
  return async (event: unknown, context?: LambdaContext): Promise<Summary> => {
    const exit = await runtime.runPromiseExit(handle(event, context?.awsRequestId ?? "local"))
    if (exit._tag === "Success") return exit.value
    // the error Lambda logs, with its stack in terms of the sources (maps read only now)
    throw withSourceStack(Cause.squash(exit.cause))
  }
}

/**
 * The deployed layer: the Glue job `B3_GLUE_JOB` (required) on bucket `B3_BUCKET`, database
 * `B3_DATABASE` (default `default`). Glue is called through `HttpGlueJobRuns` (signed JSON requests
 * with the runtime's credentials), not the SDK's `GlueClient`: the same adapter and retries at about
 * a third of the SDK client's load and first-call time, which is most of this function's cold start.
 *
 * @category layers
 */
export const layer: Layer.Layer<RefineJob, ConfigError.ConfigError> = GlueRefineJob.layerJobRunsConfig({
  jobName: Config.nonEmptyString("B3_GLUE_JOB"),
  bucket: Config.nonEmptyString("B3_BUCKET"),
  database: Config.nonEmptyString("B3_DATABASE").pipe(Config.withDefault(Tables.DATABASE))
}).pipe(Layer.provide(HttpGlueJobRuns.layerConfig()))

/** The deployed handler. @category handlers */
export const handler = makeHandler(layer)
