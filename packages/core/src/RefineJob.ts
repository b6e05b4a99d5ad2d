/**
 * The `RefineJob` port (stage 4, trigger): start the refine of a date after a raw object lands, and
 * report how a run went. On AWS this is a Glue job run; locally, DuckDB running the same SQL; in
 * memory, the TypeScript reference refine (`Refine.ts`).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Partition } from "./Catalog.js"
import { Catalog, CatalogError } from "./Catalog.js"
import type { IndexCode, RefDate } from "./Domain.js"
import * as Manifest from "./Manifest.js"
import type { RawInput, RefinePlan } from "./Manifest.js"
import type { ObjectKey } from "./ObjectStore.js"
import { ObjectStore, ObjectStoreError, unsafeKey } from "./ObjectStore.js"
import type { RawDate, RawRow, RefinedRow } from "./Refine.js"
import {
  RAW_PREFIX,
  RAW_TABLE,
  rawPartitionPrefix,
  rawTable,
  REFINED_PREFIX,
  REFINED_TABLE,
  refinedPartitionPrefix,
  refinedTable
} from "./Tables.js"

/** What to refine: one B3 date (every index of that date is rebuilt). @category models */
export interface RefineRequest {
  readonly refDate: RefDate
  /** The index whose raw object triggered the run, when there is one. */
  readonly indexCode?: IndexCode
  /** The raw object that triggered the run, when there is one. */
  readonly sourceKey?: string
  /**
   * What to read (`Manifest.planOf`, from a raw listing made BEFORE this call): the date's raw
   * objects and each index's previous raw date. A backend given a plan needs no listing of history,
   * and commits it in the date's manifest; without one it lists the raw table itself.
   */
  readonly plan?: RefinePlan
}

/** @category models */
export const RunState = Schema.Literal("STARTING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT")
/** @category models */
export type RunState = typeof RunState.Type

/** @category models */
export interface RefineRun {
  readonly runId: string
  readonly refDate: RefDate
  readonly state: RunState
  /** `false` when an identical run was already going (a duplicate event) and none was started. */
  readonly started: boolean
  readonly startedAt?: string
  readonly completedAt?: string
  /** Rows written to the refined table, when the backend knows. */
  readonly rows?: number
  readonly errorMessage?: string
}

/** @category errors */
export class RefineJobError extends Schema.TaggedError<RefineJobError>()("RefineJobError", {
  reason: Schema.Literal("NotFound", "NoRawData", "ConcurrentRuns", "Throttled", "Failed", "AccessDenied", "Unknown"),
  method: Schema.String,
  refDate: Schema.optional(Schema.String),
  runId: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `RefineJob.${this.method} failed (${this.reason})${
      this.refDate !== undefined ? ` for ${this.refDate}` : ""
    }${this.runId !== undefined ? ` run ${this.runId}` : ""}${this.detail !== undefined ? `: ${this.detail}` : ""}`
  }
  /**
   * The port error this one wraps, typed: the store's or the catalog's (`undefined` when the cause is
   * a backend's own failure, kept untyped in `cause`).
   */
  get portCause(): ObjectStoreError | CatalogError | undefined {
    return this.cause instanceof ObjectStoreError || this.cause instanceof CatalogError ? this.cause : undefined
  }
  /** Concurrent runs and throttling, or a wrapped port error that is itself retryable. */
  get retryable(): boolean {
    return this.reason === "ConcurrentRuns" || this.reason === "Throttled" || this.portCause?.retryable === true
  }
}

/** @category tags */
export class RefineJob extends Context.Tag("@b3-pipeline/core/RefineJob")<RefineJob, {
  /** Starts (or, for an in-process backend, runs to completion) the refine of a date. */
  readonly start: (request: RefineRequest) => Effect.Effect<RefineRun, RefineJobError>
  /**
   * Optional, for in-process backends: refines many dates in one pass (a backfill), with the same
   * result as `start` of each request in order. Each date still commits its own manifest after its
   * data, so a pass cut off anywhere leaves the uncommitted dates stale. `onDate` is called as each
   * date commits. A backend without it is called date by date (`Trigger.reconcile`).
   */
  readonly startMany?: (
    requests: ReadonlyArray<RefineRequest>,
    onDate?: (run: RefineRun) => void
  ) => Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError>
  readonly status: (runId: string) => Effect.Effect<RefineRun, RefineJobError>
}>() {}

// ---------------------------------------------------------------------------------------------
// In memory: the reference refine (Refine.ts) over any ObjectStore and Catalog
// ---------------------------------------------------------------------------------------------

const portError = (method: string, refDate: string, runId: string) => (cause: ObjectStoreError | CatalogError) =>
  new RefineJobError({
    reason: cause.reason === "Throttled" ? "Throttled" : cause.reason === "AccessDenied" ? "AccessDenied" : "Failed",
    method,
    refDate,
    runId,
    detail: cause.message,
    cause
  })

/** The key of a refined partition's one file. @category keys */
export const refinedFileKey = (refDate: RefDate, ticker: string): ObjectKey =>
  unsafeKey(`${refinedPartitionPrefix(refDate, ticker)}part-00000.parquet`)

/**
 * Bookkeeping shared by the in-process refine jobs (memory, DuckDB): `record` runs one attempt and
 * keeps it as SUCCEEDED (with its row count) or FAILED (with the error's message); `status` answers
 * from what was recorded.
 *
 * @category constructors
 */
export const makeRunLog = () => {
  const runs = new Map<string, RefineRun>()
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
  const record = <E extends { readonly message: string }, R>(
    request: RefineRequest,
    runId: string,
    attempt: Effect.Effect<number, E, R>
  ): Effect.Effect<RefineRun, E, R> =>
    Effect.gen(function*() {
      const startedAt = yield* now
      const result = yield* Effect.either(attempt)
      const base = { runId, refDate: request.refDate, started: true, startedAt, completedAt: yield* now }
      if (result._tag === "Left") {
        runs.set(runId, { ...base, state: "FAILED", errorMessage: result.left.message })
        return yield* Effect.fail(result.left)
      }
      const done: RefineRun = { ...base, state: "SUCCEEDED", rows: result.right }
      runs.set(runId, done)
      return done
    })
  const status = (runId: string): Effect.Effect<RefineRun, RefineJobError> => {
    const found = runs.get(runId)
    return found === undefined ?
      Effect.fail(new RefineJobError({ reason: "NotFound", method: "status", runId, detail: "no such run" })) :
      Effect.succeed(found)
  }
  return { record, status }
}

/**
 * A refine job that runs in-process, to completion, inside `start`: it reads the date's raw
 * Parquet files (those of `request.plan`, else of a raw listing, with each index's previous raw
 * date), runs `Refine.refine`, writes one refined Parquet per `(ref_date, ticker)` (replacing that
 * date's partitions only, deleting the ones that vanished), registers both tables and their
 * partitions in the catalog and, last, commits the date's manifest (`Manifest.commitManifest`). A
 * date without raw data but with refined data or a manifest is cleared (files, partitions, then
 * manifest); one with neither fails with `NoRawData`.
 *
 * Works on any store and catalog (the filesystem ones too): it is the TypeScript refine.
 *
 * @category constructors
 */
export const makeMemory: Effect.Effect<Context.Tag.Service<RefineJob>, never, ObjectStore | Catalog> = Effect.gen(
  function*() {
    const store = yield* ObjectStore
    const catalog = yield* Catalog
    const log = makeRunLog()
    let counter = 0

    const run = (request: RefineRequest, runId: string) =>
      Effect.gen(function*() {
        // The Parquet codecs and the refine load with the first run: a program that only needs this
        // module's error and tag (an adapter, `b3 query`) loads neither Arrow nor the Parquet writer.
        const [{ decodeRawParquet }, { encodeRefinedParquet, refine }] = yield* Effect.promise(() =>
          Promise.all([import("./RawParquet.js"), import("./Refine.js")])
        )
        const refDate = request.refDate
        const fail = portError("start", refDate, runId)
        /** A Parquet file that cannot be read or written, named in the error. */
        const codecFailure = (key: string) => (cause: unknown) =>
          new RefineJobError({
            reason: "Failed",
            method: "start",
            refDate,
            runId,
            detail: `${key}: ${String(cause)}`,
            cause
          })
        const plan = request.plan ??
          Manifest.planOf(
            yield* Manifest.readRawState.pipe(Effect.provideService(ObjectStore, store), Effect.mapError(fail)),
            refDate
          )
        if (plan.inputs.length === 0) return yield* clearDate(refDate, runId)
        const raw: Array<RawRow> = []
        const inputs: Array<RawInput> = []
        for (const input of plan.inputs) {
          const bytes = yield* store.get(unsafeKey(input.key)).pipe(Effect.mapError(fail))
          if (Option.isNone(bytes)) continue // deleted since the listing: the manifest says so (stale)
          inputs.push(input)
          const rows = yield* Effect.try({ try: () => decodeRawParquet(bytes.value), catch: codecFailure(input.key) })
          for (const r of rows) raw.push({ ...r, ref_date: refDate, index_code: input.indexCode })
        }
        // the previous snapshot of each index is all `refine` needs of the other dates
        const rawDates: Array<RawDate> = []
        for (const input of inputs) {
          rawDates.push({ indexCode: input.indexCode, refDate })
          const previous = plan.previous[input.indexCode]
          if (previous !== undefined && previous !== null) {
            rawDates.push({ indexCode: input.indexCode, refDate: previous })
          }
        }
        const refined = refine(raw, rawDates)

        const byTicker = new Map<string, Array<RefinedRow>>()
        for (const r of refined) {
          const list = byTicker.get(r.ticker)
          if (list === undefined) {
            byTicker.set(r.ticker, [r])
          } else list.push(r)
        }
        const written = new Set<string>()
        for (const [ticker, rows] of byTicker) {
          const key = refinedFileKey(refDate, ticker)
          const bytes = yield* Effect.try({ try: () => encodeRefinedParquet(rows), catch: codecFailure(key) })
          yield* store.put(key, bytes, { contentType: "application/vnd.apache.parquet" }).pipe(Effect.mapError(fail))
          written.add(key)
        }
        // the date's partitions that no longer exist
        const datePrefix = `${REFINED_PREFIX}ref_date=${refDate}/`
        const existing = yield* Stream.runCollect(store.list(datePrefix)).pipe(Effect.mapError(fail))
        const staleTickers = new Set<string>()
        for (const info of existing) {
          if (written.has(info.key)) continue
          yield* store.delete(info.key).pipe(Effect.mapError(fail))
          const m = /\/ticker=([^/]+)\//.exec(info.key)
          const ticker = m?.[1]
          if (ticker !== undefined && !byTicker.has(ticker)) staleTickers.add(ticker)
        }

        yield* catalog.upsertTable(rawTable).pipe(Effect.mapError(fail))
        yield* catalog.upsertTable(refinedTable).pipe(Effect.mapError(fail))
        const rawPartitions: Array<Partition> = inputs.map((d) => ({
          values: [refDate, d.indexCode],
          location: rawPartitionPrefix(refDate, d.indexCode)
        }))
        yield* catalog.upsertPartitions(RAW_TABLE, rawPartitions).pipe(Effect.mapError(fail))
        if (staleTickers.size > 0) {
          yield* catalog.dropPartitions(REFINED_TABLE, [...staleTickers].map((t) => [refDate, t]))
            .pipe(Effect.mapError(fail))
        }
        yield* catalog.upsertPartitions(
          REFINED_TABLE,
          [...byTicker.keys()].map((t) => ({ values: [refDate, t], location: refinedPartitionPrefix(refDate, t) }))
        ).pipe(Effect.mapError(fail))
        // the commit point: last, one atomic put
        yield* Manifest.commitManifest(
          Manifest.manifestOf(
            { ...plan, inputs },
            { rows: refined.length, tickers: [...byTicker.keys()], runId },
            new Date(yield* Clock.currentTimeMillis)
          )
        ).pipe(Effect.provideService(ObjectStore, store), Effect.mapError(fail))
        return refined.length
      })

    /** A date without raw data: its refined files, catalog partitions, then manifest go. */
    const clearDate = (refDate: RefDate, runId: string) =>
      Effect.gen(function*() {
        const fail = portError("start", refDate, runId)
        const datePrefix = `${REFINED_PREFIX}ref_date=${refDate}/`
        const existing = yield* Stream.runCollect(store.list(datePrefix)).pipe(Effect.mapError(fail))
        const partitions = yield* catalog.listPartitions(REFINED_TABLE).pipe(
          Effect.map((ps) => ps.filter((p) => p.values[0] === refDate)),
          Effect.orElseSucceed(() => [] as ReadonlyArray<Partition>)
        )
        const manifestThere = Option.isSome(
          yield* store.head(Manifest.manifestKey(refDate)).pipe(Effect.mapError(fail))
        )
        if (existing.length === 0 && partitions.length === 0 && !manifestThere) {
          return yield* new RefineJobError({
            reason: "NoRawData",
            method: "start",
            refDate,
            runId,
            detail: `no raw Parquet under ${RAW_PREFIX}ref_date=${refDate}/`
          })
        }
        for (const info of existing) yield* store.delete(info.key).pipe(Effect.mapError(fail))
        if (partitions.length > 0) {
          yield* catalog.dropPartitions(REFINED_TABLE, partitions.map((p) => p.values)).pipe(Effect.mapError(fail))
        }
        yield* Manifest.removeManifest(refDate).pipe(Effect.provideService(ObjectStore, store), Effect.mapError(fail))
        return 0
      })

    const start = Effect.fn("RefineJob.start")(function*(request: RefineRequest) {
      counter += 1
      const runId = `memory-${request.refDate}-${String(counter).padStart(4, "0")}`
      return yield* log.record(request, runId, run(request, runId))
    })
    const status = log.status

    return RefineJob.of({ start, status })
  }
)

/**
 * The in-process TypeScript refine (needs an `ObjectStore` and a `Catalog`).
 *
 * @category layers
 */
export const layerMemory: Layer.Layer<RefineJob, never, ObjectStore | Catalog> = Layer.effect(RefineJob, makeMemory)
