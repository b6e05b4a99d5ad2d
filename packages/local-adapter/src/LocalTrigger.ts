/**
 * The in-process trigger of the local adapter: it subscribes to the object store's S3-shaped
 * events, remembers the date of every raw Parquet object written, and `flush` refines each of those
 * dates ONCE through `Pipeline.onRawObject` (the same trigger code the Lambda runs, with the date's
 * last raw record). A run of 37 indices for one date is one refine.
 *
 * The CLI calls `flush` after a batch of ingests. Events are consumed by a fiber of this layer,
 * subscribed before the layer is returned, so no write made after the layer is built is missed.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore, recordKey } from "@b3-pipeline/core/ObjectStore"
import type { S3EventRecord } from "@b3-pipeline/core/ObjectStore"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import { RefineJob, RefineJobError } from "@b3-pipeline/core/RefineJob"
import type { RefineRequest, RefineRun } from "@b3-pipeline/core/RefineJob"
import { parseRawParquetKey, RAW_PREFIX } from "@b3-pipeline/core/Tables"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** @category tags */
export class LocalTrigger extends Context.Tag("@b3-pipeline/local-adapter/LocalTrigger")<LocalTrigger, {
  /** Dates with raw writes not yet refined, in date order. */
  readonly pending: Effect.Effect<ReadonlyArray<RefDate>>
  /** Marks a date dirty by hand (e.g. a re-refine requested by a user). */
  readonly mark: (refDate: RefDate) => Effect.Effect<void>
  /**
   * Refines every dirty date once, in date order. A date whose refine fails stays dirty and the
   * first error fails the flush (later dates are not attempted).
   */
  readonly flush: Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError>
}>() {}

/**
 * Builds the trigger; its event fiber lives as long as the layer's scope.
 *
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const store = yield* ObjectStore
  const job = yield* RefineJob
  const dirty = new Map<RefDate, S3EventRecord | RefineRequest>()
  const lock = yield* Effect.makeSemaphore(1)

  // Subscribe now (inside the layer's scope) and consume in a fiber.
  const pull = yield* Stream.toPull(store.events)
  const consume = pull.pipe(
    Effect.tap((records) =>
      Effect.sync(() => {
        for (const record of records) {
          const key = recordKey(record)
          const parsed = parseRawParquetKey(key)
          if (parsed !== undefined) {
            dirty.set(parsed.refDate, record)
          }
        }
      })
    ),
    Effect.forever,
    Effect.catchAll(() => Effect.void)
  )
  yield* Effect.forkScoped(consume)

  /** Lets the event fiber catch up with events already published (it was scheduled before us). */
  const settle = Effect.repeatN(Effect.yieldNow(), 3)

  /**
   * A date written before later, already refined dates (a backfill) changes the
   * `days_since_previous_snapshot` of each index's next date: those successors are refined again.
   */
  const addSuccessors = Effect.gen(function*() {
    const dates = [...dirty.keys()]
    if (dates.length === 0) return
    const infos = yield* Stream.runCollect(store.list(RAW_PREFIX)).pipe(
      Effect.mapError((e) =>
        new RefineJobError({
          reason: "Unknown",
          method: "flush",
          detail: `listing raw partitions: ${e.message}`,
          cause: e
        })
      )
    )
    const byIndex = new Map<string, Array<RefDate>>()
    for (const info of infos) {
      const p = parseRawParquetKey(info.key)
      if (p !== undefined) byIndex.set(p.indexCode, [...(byIndex.get(p.indexCode) ?? []), p.refDate])
    }
    for (const indexDates of byIndex.values()) {
      indexDates.sort()
      for (const d of dates) {
        const i = indexDates.indexOf(d)
        const next = i === -1 ? undefined : indexDates[i + 1]
        if (next !== undefined && !dirty.has(next)) dirty.set(next, { refDate: next })
      }
    }
  })

  const flush = lock.withPermits(1)(Effect.gen(function*() {
    yield* settle
    yield* addSuccessors
    const runs: Array<RefineRun> = []
    for (const refDate of [...dirty.keys()].sort()) {
      const source = dirty.get(refDate)!
      dirty.delete(refDate)
      const started = "s3" in source ?
        Pipeline.onRawObject(source).pipe(Effect.provideService(RefineJob, job)) :
        Effect.map(job.start(source), Option.some)
      const run = yield* started.pipe(Effect.tapError(() => Effect.sync(() => dirty.set(refDate, source))))
      if (Option.isSome(run)) runs.push(run.value)
    }
    return runs
  })).pipe(Effect.withSpan("LocalTrigger.flush"))

  return LocalTrigger.of({
    pending: Effect.zipRight(settle, Effect.sync(() => [...dirty.keys()].sort())),
    mark: (refDate) =>
      Effect.sync(() => {
        if (!dirty.has(refDate)) dirty.set(refDate, { refDate })
      }),
    flush
  })
})

/**
 * @category layers
 */
export const layer: Layer.Layer<LocalTrigger, never, ObjectStore | RefineJob> = Layer.scoped(LocalTrigger, make)
