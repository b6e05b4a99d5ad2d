/**
 * The in-process trigger of the local adapter, a thin caller of core's `Trigger`: `flush` is
 * `Trigger.reconcile`, which refines exactly the stale dates (raw written or replaced since their
 * refine, a backfill before them, a refine cut off by a crash, a date marked by hand), one refine per
 * date, ascending. It needs no object events: staleness is read from the raw listing and the refine
 * manifests, so a lost event, a killed process or another process's writes are all healed by the
 * next flush.
 *
 * The CLI calls `flush` after a batch of ingests (under the warehouse's writer lock).
 *
 * @since 0.1.0
 */
import { Catalog } from "@b3-pipeline/core/Catalog"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { RefineJobError } from "@b3-pipeline/core/RefineJob"
import type { RefineJob, RefineRun } from "@b3-pipeline/core/RefineJob"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RawJournal from "./RawJournal.js"
import * as RawServing from "./RawServing.js"

/** @category tags */
export class LocalTrigger extends Context.Tag("@b3-pipeline/local-adapter/LocalTrigger")<LocalTrigger, {
  /** Dates a flush would refine now (stale or marked), in date order. */
  readonly pending: Effect.Effect<ReadonlyArray<RefDate>, RefineJobError>
  /** Marks a date to be refined by the next flush even if it is not stale. */
  readonly mark: (refDate: RefDate) => Effect.Effect<void>
  /** `Trigger.reconcile` (plus the marked dates), with its full result. */
  readonly reconcile: (
    options?: Trigger.ReconcileOptions
  ) => Effect.Effect<Trigger.ReconcileResult, RefineJobError>
  /**
   * Refines every stale or marked date once, in date order. Fails on the first failed refine (the
   * dates not reached stay stale), and with reason "Failed" when dates are still stale afterwards.
   */
  readonly flush: Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError>
}>() {}

/** The error of a reconcile that left dates stale. @category errors */
export const stillStaleError = (stale: ReadonlyArray<Trigger.StaleDate>): RefineJobError =>
  new RefineJobError({
    reason: "Failed",
    method: "reconcile",
    detail: `${stale.length} date(s) still stale after the refine: ${
      stale.slice(0, 5).map((s) => `${s.refDate} (${s.reason})`).join(", ")
    }${stale.length > 5 ? ", ..." : ""}`
  })

/**
 * Builds the trigger over the store, the refine job and (when present) the catalog.
 *
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const context = yield* Effect.context<ObjectStore | RefineJob>()
  const catalog = yield* Effect.serviceOption(Catalog)
  const journal = yield* Effect.serviceOption(RawJournal.RawJournal)
  const serving = yield* Effect.serviceOption(RawServing.RawServing)
  const marked = new Set<RefDate>()
  // the checkpoint as this process last read or wrote it: a day's flush does not decode it again
  const cache = Trigger.makeCheckpointCache()
  const lock = yield* Effect.makeSemaphore(1)
  const provide = <A, E>(effect: Effect.Effect<A, E, ObjectStore | RefineJob>): Effect.Effect<A, E> =>
    Option.isSome(catalog) ?
      effect.pipe(Effect.provide(context), Effect.provideService(Catalog, catalog.value)) :
      effect.pipe(Effect.provide(context))

  const journalError = (e: ObjectStoreError) =>
    new RefineJobError({
      reason: "Unknown",
      method: "reconcile",
      detail: `reading or clearing the raw-change journal: ${e.message}`,
      cause: e
    })
  // Once a reconcile left nothing stale: the raw serving copy takes the dates changed or refined,
  // then the journal's markers read before the reconcile are cleared (in that order: a date keeps
  // its marker until the copy holds its rows).
  const withJournal = (
    run: (pending: RawJournal.Pending) => Effect.Effect<Trigger.ReconcileResult, RefineJobError>
  ): Effect.Effect<Trigger.ReconcileResult, RefineJobError> =>
    Effect.gen(function*() {
      const pending = Option.isSome(journal) ?
        yield* journal.value.pending.pipe(Effect.mapError(journalError)) :
        { dates: [], markers: [] }
      const result = yield* run(pending)
      if (result.stillStale.length === 0) {
        if (Option.isSome(serving)) {
          yield* serving.value.update([...new Set([...pending.dates, ...result.runs.map((r) => r.refDate)])].sort())
        }
        if (Option.isSome(journal)) yield* journal.value.clear(pending).pipe(Effect.mapError(journalError))
      }
      return result
    })

  const full = (options: Trigger.ReconcileOptions, force: ReadonlyArray<RefDate>) =>
    provide(Trigger.reconcile({ checkpoint: true, ...options, force: [...force, ...(options.force ?? [])] }))

  const reconcile = (options: Trigger.ReconcileOptions = {}) =>
    lock.withPermits(1)(Effect.gen(function*() {
      const force = [...marked]
      const result = yield* withJournal(() => full(options, force))
      for (const d of force) marked.delete(d)
      return result
    })).pipe(Effect.withSpan("LocalTrigger.reconcile"))

  // With a journal: the dates it names (and those they imply), O(day); without one, or without a
  // checkpoint yet, a full reconcile.
  const daily = lock.withPermits(1)(Effect.gen(function*() {
    const force = [...marked]
    const result = yield* withJournal((pending) =>
      Option.isNone(journal) ?
        full({}, force) :
        Effect.flatMap(
          provide(Trigger.reconcileDates({ dates: pending.dates, force, cache })),
          Option.match({ onNone: () => full({}, force), onSome: Effect.succeed })
        )
    )
    for (const d of force) marked.delete(d)
    return result
  })).pipe(Effect.withSpan("LocalTrigger.flush"))

  const flush = Effect.flatMap(
    daily,
    (result) =>
      result.stillStale.length === 0 ? Effect.succeed(result.runs) : Effect.fail(stillStaleError(result.stillStale))
  )

  const pending = provide(
    Effect.flatMap(ObjectStore, () => Trigger.freshness).pipe(
      Effect.mapError((e) => new RefineJobError({ reason: "Unknown", method: "pending", detail: e.message, cause: e }))
    )
  ).pipe(Effect.map((f) => [...new Set([...f.stale.map((s) => s.refDate), ...marked])].sort()))

  return LocalTrigger.of({
    pending,
    mark: (refDate) => Effect.sync(() => void marked.add(refDate)),
    reconcile,
    flush
  })
})

/**
 * @category layers
 */
export const layer: Layer.Layer<LocalTrigger, never, ObjectStore | RefineJob> = Layer.effect(LocalTrigger, make)
