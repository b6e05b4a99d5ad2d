/**
 * Lambda: EventBridge "Scheduled Event" -> fetch the day's portfolio of each configured index
 * from B3 (core's `B3HttpSource`) and write it raw to S3 (`Pipeline.ingest`). The raw Parquet
 * write is what fires the bucket notification that starts the refine (`onRawObjectCreated`).
 *
 * - Indices: `B3_INDICES` (comma-separated B3 codes), default `IBOV`; fetched one after the other
 *   (B3 is a public site: one request at a time).
 * - Each index gets its own result: a failure of one never loses the others. A payload that does
 *   not parse is quarantined by the pipeline (exact bytes + error) and reported.
 * - If any index failed with a retryable error (B3 unavailable, rate limited, S3 throttled: a
 *   `RawLayerError` is retryable when its cause is), the invocation fails after every index was
 *   tried, so Lambda retries it (and, past its retries, the event goes to the on-failure queue).
 * - It runs several times on a trading day (every 30 minutes in the morning, Sao Paulo time) until
 *   the day is archived: an index whose raw Parquet for the day (the Sao Paulo date of the event's
 *   time) already exists is `archived` and not fetched again, so a later run does nothing.
 * - Freshness: from the cutoff (`B3_FRESHNESS_CUTOFF`, HH:MM Sao Paulo time) on, each run on a
 *   weekday prints the CloudWatch metric `MissingIndices` (Embedded Metric Format, namespace
 *   `B3_METRICS_NAMESPACE`, dimension `Environment` = `B3_ENVIRONMENT`): the configured indices
 *   with no archived payload for the day. An alarm fires on it.
 * - Reconcile, as the last step (when a Glue job is configured, `B3_GLUE_JOB`): `Trigger.reconcile`
 *   compares every raw date with its refine manifest (S3) and starts a Glue run for each stale
 *   date, so an S3 event that was lost (or a run that failed) heals by itself at the next scheduled
 *   run. A retryable reconcile failure fails the invocation (the ingest part is idempotent).
 * - B3's trading calendar (`B3Calendar`): on a weekday that is a B3 holiday the run fetches nothing
 *   and reports no freshness (the schedule itself only knows weekdays).
 * - An event that is not a scheduled event is logged as a typed error and nothing is fetched.
 * - A payload for an index outside B3's list is quarantined (`UnknownIndex`) unless
 *   `B3_ALLOW_UNKNOWN_INDEX=true` (the CLI's `--allow-unknown-index`).
 *
 * @since 0.1.0
 */
import * as AwsLive from "@b3-pipeline/aws-adapter/AwsLive"
import * as B3Calendar from "@b3-pipeline/core/B3Calendar"
import * as B3HttpSource from "@b3-pipeline/core/B3HttpSource"
import type * as B3Wire from "@b3-pipeline/core/B3Wire"
import { IndexCode } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import type { PortfolioSource } from "@b3-pipeline/core/PortfolioSource"
import { request } from "@b3-pipeline/core/PortfolioSource"
import type { RawLayer } from "@b3-pipeline/core/RawLayer"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import type { RefineJobError } from "@b3-pipeline/core/RefineJob"
import { rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { withSourceStack } from "./internal/stack.js"

/** The EventBridge scheduled event, the fields this handler reads. @category models */
export const ScheduledEvent = Schema.Struct({
  id: Schema.String,
  "detail-type": Schema.Literal("Scheduled Event"),
  source: Schema.String,
  time: Schema.String
})

/** One index's outcome. @category models */
export type IndexResult =
  | {
    readonly indexCode: string
    readonly ok: true
    /** The day's raw Parquet was already there: nothing fetched. */
    readonly outcome: "archived"
    readonly refDate: string
    readonly parquetKey: string
  }
  | {
    readonly indexCode: string
    readonly ok: true
    readonly outcome: "created" | "replaced" | "unchanged"
    readonly refDate: string
    readonly rows: number
    readonly parquetKey: string
  }
  | {
    readonly indexCode: string
    readonly ok: false
    readonly error: "FetchError" | "B3ParseError" | "RawLayerError"
    readonly reason: string
    readonly retryable: boolean
    readonly message: string
  }

/** @category models */
export interface IngestSummary {
  readonly requestId: string
  readonly eventId?: string
  readonly scheduledTime?: string
  readonly results: ReadonlyArray<IndexResult>
  /** Set when the event was not a scheduled event: what was wrong with it. */
  readonly malformed?: string
  /** The reconcile's outcome: the stale dates found and the runs started (absent: no Glue job configured). */
  readonly reconcile?: {
    readonly stale: ReadonlyArray<string>
    readonly started: ReadonlyArray<{ readonly refDate: string; readonly runId: string; readonly started: boolean }>
    readonly error?: string
  }
  /** `false` when the day is not a B3 trading day (nothing was fetched). */
  readonly tradingDay?: boolean
  /** Set after the freshness cutoff on a trading day: configured indices without the day's payload. */
  readonly missing?: ReadonlyArray<string>
}

/** The freshness check's settings (absent: no check). @category models */
export interface FreshnessOptions {
  /** HH:MM, Sao Paulo wall-clock time. */
  readonly cutoff: string
  readonly namespace: string
  readonly environment: string
}

/** The Sao Paulo calendar date, time and weekday of an instant. @category freshness */
export const saoPaulo = (at: Date): { readonly date: RefDate; readonly time: string; readonly weekday: boolean } => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: "America/Sao_Paulo",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      weekday: "short"
    }).formatToParts(at).map((p) => [p.type, p.value])
  )
  return {
    date: `${parts["year"]}-${parts["month"]}-${parts["day"]}` as RefDate,
    time: `${parts["hour"]}:${parts["minute"]}`,
    weekday: parts["weekday"] !== "Sat" && parts["weekday"] !== "Sun"
  }
}

/** A B3 trading day in Sao Paulo at that instant (weekday, not a B3 holiday). @category freshness */
export const tradingDayAt = (at: Date): boolean => {
  const local = saoPaulo(at)
  return local.weekday && B3Calendar.isTradingDay(local.date)
}

/** The Embedded Metric Format line of the freshness metric. @category freshness */
export const freshnessMetric = (options: FreshnessOptions, missing: number, at: Date): string =>
  JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [{
        Namespace: options.namespace,
        Dimensions: [["Environment"]],
        Metrics: [{ Name: "MissingIndices", Unit: "Count" }]
      }]
    },
    Environment: options.environment,
    MissingIndices: missing
  })

/** The minimal Lambda context this handler reads. @category models */
export interface LambdaContext {
  readonly awsRequestId?: string
}

/** Some indices failed with retryable errors; EventBridge retries the invocation. @category errors */
export class RetryableIngestFailure extends Schema.TaggedError<RetryableIngestFailure>()("RetryableIngestFailure", {
  requestId: Schema.String,
  indices: Schema.Array(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    return `ingest failed for ${this.indices.join(", ")} (request ${this.requestId}): ${this.detail}`
  }
}

/** The malformed-event error, logged (never thrown). @category errors */
export class MalformedEvent extends Schema.TaggedError<MalformedEvent>()("MalformedEvent", {
  requestId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `not an EventBridge scheduled event (request ${this.requestId}): ${this.detail}`
  }
}

/** `B3_INDICES`: comma-separated index codes, default `IBOV`. @category config */
export const indices: Config.Config<ReadonlyArray<IndexCode>> = Config.string(AwsLive.EnvVar.indices).pipe(
  Config.withDefault("IBOV"),
  Config.mapOrFail((text) => {
    const codes = text.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== "")
    const decoded = Schema.decodeUnknownEither(Schema.NonEmptyArray(IndexCode))(codes)
    return Either.mapLeft(
      decoded,
      (e) => ConfigError.InvalidData([AwsLive.EnvVar.indices], ParseResult.TreeFormatter.formatErrorSync(e))
    )
  })
)

/** `B3_ALLOW_UNKNOWN_INDEX`: accept index codes outside B3's list (default false). @category config */
export const allowUnknownIndex: Config.Config<boolean> = Config.boolean("B3_ALLOW_UNKNOWN_INDEX").pipe(
  Config.withDefault(false)
)

/**
 * `B3_FRESHNESS_CUTOFF` (HH:MM; absent: no freshness check), `B3_METRICS_NAMESPACE` (default
 * `B3Pipeline`), `B3_ENVIRONMENT` (default `default`).
 *
 * @category config
 */
export const freshnessConfig: Config.Config<Option.Option<FreshnessOptions>> = Config.option(
  Config.all({
    cutoff: Config.string(AwsLive.EnvVar.freshnessCutoff).pipe(
      Config.validate({ message: "HH:MM (Sao Paulo time)", validation: (s) => /^([01]\d|2[0-3]):[0-5]\d$/.test(s) })
    ),
    namespace: Config.string(AwsLive.EnvVar.metricsNamespace).pipe(Config.withDefault("B3Pipeline")),
    environment: Config.string(AwsLive.EnvVar.environment).pipe(Config.withDefault("default"))
  })
)

const decode = Schema.decodeUnknownEither(ScheduledEvent)

/**
 * The handler's work as an Effect (tests provide the source and the raw layer).
 *
 * @category handlers
 */
export const handle = (
  event: unknown,
  requestId: string,
  codes: ReadonlyArray<IndexCode>,
  freshness?: FreshnessOptions,
  options: B3Wire.IngestOptions = {}
): Effect.Effect<IngestSummary, RetryableIngestFailure, PortfolioSource | RawLayer> =>
  Effect.gen(function*() {
    const decoded = decode(event, { onExcessProperty: "ignore" })
    if (Either.isLeft(decoded)) {
      const error = new MalformedEvent({ requestId, detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
      yield* Effect.logError(error.message).pipe(Effect.annotateLogs({ requestId, error: error._tag }))
      return { requestId, results: [], malformed: error.detail }
    }
    const results: Array<IndexResult> = []
    const parsedAt = new Date(decoded.right.time)
    const at = Number.isNaN(parsedAt.getTime()) ? new Date(yield* Clock.currentTimeMillis) : parsedAt
    const local = saoPaulo(at)
    if (!tradingDayAt(at)) {
      yield* Effect.logInfo(`${local.date} is not a B3 trading day: nothing fetched`).pipe(
        Effect.annotateLogs({ requestId })
      )
      return { requestId, eventId: decoded.right.id, scheduledTime: decoded.right.time, results, tradingDay: false }
    }
    // With the store in context (the deployed layer), a day already archived is not fetched again.
    const store = yield* Effect.serviceOption(ObjectStore)
    const archived = (indexCode: IndexCode) =>
      Option.isNone(store) ?
        Effect.succeed(false) :
        store.value.head(rawParquetKey(local.date, indexCode)).pipe(
          Effect.map(Option.isSome),
          // unknown: fetch (the write is idempotent anyway)
          Effect.orElseSucceed(() => false)
        )
    for (const indexCode of codes) {
      if (yield* archived(indexCode)) {
        results.push({
          indexCode,
          ok: true,
          outcome: "archived",
          refDate: local.date,
          parquetKey: rawParquetKey(local.date, indexCode)
        })
        continue
      }
      const result = yield* Effect.either(Pipeline.ingest(request(indexCode), options))
      if (Either.isRight(result)) {
        const w = result.right
        results.push({
          indexCode,
          ok: true,
          outcome: w.outcome,
          refDate: w.refDate,
          rows: w.rows,
          parquetKey: w.parquetKey
        })
      } else {
        const e = result.left
        yield* Effect.logError(e.message).pipe(
          Effect.annotateLogs({ requestId, indexCode, error: e._tag, reason: e.reason })
        )
        results.push({
          indexCode,
          ok: false,
          error: e._tag,
          reason: e.reason,
          retryable: e.retryable,
          message: e.message
        })
      }
    }
    let missing: ReadonlyArray<string> | undefined
    if (freshness !== undefined && local.time >= freshness.cutoff) {
      const late = codes.filter((c) => !results.some((r) => r.indexCode === c && r.ok && r.refDate === local.date))
      missing = late
      const now = new Date(yield* Clock.currentTimeMillis)
      // Embedded Metric Format: CloudWatch turns this stdout line into the metric the alarm watches.
      yield* Effect.sync(() => process.stdout.write(`${freshnessMetric(freshness, late.length, now)}\n`))
    }
    // Last step: refine every stale date (lost events, failed runs), when a refine job is configured.
    const job = yield* Effect.serviceOption(RefineJob)
    let reconcile: IngestSummary["reconcile"]
    let reconcileRetryable: RefineJobError | undefined
    if (Option.isSome(job) && Option.isSome(store)) {
      const outcome = yield* Effect.either(
        Trigger.reconcile().pipe(
          Effect.provideService(RefineJob, job.value),
          Effect.provideService(ObjectStore, store.value)
        )
      )
      if (Either.isRight(outcome)) {
        reconcile = {
          stale: outcome.right.found.map((s) => s.refDate),
          started: outcome.right.runs.map((r) => ({ refDate: r.refDate, runId: r.runId, started: r.started }))
        }
      } else {
        yield* Effect.logError(outcome.left.message).pipe(Effect.annotateLogs({ requestId, step: "reconcile" }))
        reconcile = { stale: [], started: [], error: outcome.left.message }
        if (outcome.left.retryable) reconcileRetryable = outcome.left
      }
    }
    const summary: IngestSummary = {
      requestId,
      eventId: decoded.right.id,
      scheduledTime: decoded.right.time,
      results,
      ...(missing !== undefined ? { missing } : {}),
      ...(reconcile !== undefined ? { reconcile } : {})
    }
    yield* Effect.logInfo("scheduledIngest").pipe(Effect.annotateLogs({ summary }))
    const retry = results.filter((r) => !r.ok && r.retryable)
    if (retry.length > 0 || reconcileRetryable !== undefined) {
      return yield* Effect.fail(
        new RetryableIngestFailure({
          requestId,
          indices: retry.map((r) => r.indexCode),
          detail: [
            ...retry.map((r) => (r.ok ? "" : r.message)),
            ...(reconcileRetryable ? [reconcileRetryable.message] : [])
          ]
            .join("; ")
        })
      )
    }
    return summary
  }).pipe(Effect.withSpan("lambda.scheduledIngest", { attributes: { requestId } }))

/**
 * A Lambda handler on a layer; the runtime is built on the first invocation and kept.
 *
 * @category handlers
 */
export const makeHandler = <E>(
  layer: Layer.Layer<PortfolioSource | RawLayer, E>,
  codes: Config.Config<ReadonlyArray<IndexCode>> = indices
) => {
  const runtime = ManagedRuntime.make(layer)
  return async (event: unknown, context?: LambdaContext): Promise<IngestSummary> => {
    const exit = await runtime.runPromiseExit(
      Effect.flatMap(
        Config.all([codes, freshnessConfig, allowUnknownIndex]),
        ([list, fresh, allow]) =>
          handle(event, context?.awsRequestId ?? "local", list, Option.getOrUndefined(fresh), {
            allowUnknownIndex: allow
          })
      )
    )
    if (exit._tag === "Success") return exit.value
    // the error Lambda logs, with its stack in terms of the sources (maps read only now)
    throw withSourceStack(Cause.squash(exit.cause))
  }
}

/**
 * The reconcile's refine job: the Glue job `B3_GLUE_JOB` when set (else none: no reconcile).
 *
 * @category layers
 */
export const layerReconcileJob: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.option(Config.nonEmptyString(AwsLive.EnvVar.glueJob)),
    (job) => Option.isNone(job) ? Layer.empty : (AwsLive.layerRefineJob as Layer.Layer<never, ConfigError.ConfigError>)
  )
)

/** B3 over HTTP (fetch), raw layer on S3 `B3_BUCKET`, and the reconcile's Glue job. @category layers */
export const layer = Layer.mergeAll(
  B3HttpSource.layerConfig(B3HttpSource.config).pipe(Layer.provide(FetchHttpClient.layer)),
  AwsLive.layerRawLayer,
  layerReconcileJob
)

/** The deployed handler. @category handlers */
export const handler = makeHandler(layer)
