/**
 * Stage 4, in one place: which refines a raw change implies, the refine manifest that commits a
 * refined date, the staleness test, and `reconcile` (refine exactly the stale dates). Every backend
 * calls this module: the memory layer (`Testing.runTriggers`), the local trigger and CLI, and the
 * Lambda (`onRawObjectCreated`). It imports no codec and no Parquet code, so the Lambda bundle can
 * carry it.
 *
 * The refined table is a function of the raw table. A refined date D is built from
 * - the raw objects of D (one per index), and
 * - for each index of D, the index's previous raw date (`days_since_previous_snapshot`).
 * The refine of D records exactly these in a manifest (`manifestKey(D)`), written LAST, atomically
 * (one `ObjectStore.put`), after the refined files and the catalog: the manifest is the date's
 * commit point. A date is stale when what the raw table implies differs from its manifest (or it has
 * none, or it has one but no raw data any more). A refine cut off at any step leaves the old (or no)
 * manifest, so its date stays stale until a refine completes; `reconcile` heals every such date,
 * whatever events were lost, duplicated or reordered.
 *
 * The manifest model (raw state, plans, manifests, their checkpoint) is `Manifest.ts`, re-exported
 * here. Manifests live under `_manifests/b3_portfolio_refined/`, outside both table folders, so Athena,
 * Spark and DuckDB never read them as table data.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Catalog } from "./Catalog.js"
import type { IndexCode, RefDate } from "./Domain.js"
import type { ListedObject, ObjectStoreError, S3EventRecord } from "./ObjectStore.js"
import { ObjectStore, recordKey } from "./ObjectStore.js"
import type { RefineRun } from "./RefineJob.js"
import { RefineJob, RefineJobError } from "./RefineJob.js"
import { parseRawParquetKey, RAW_PREFIX, REFINED_TABLE } from "./Tables.js"
// The manifest model moved to ./Manifest.js; re-exported here, where users of 0.1 found it.
export {
  CHECKPOINT_FOLD_EVERY,
  CHECKPOINT_KEY,
  CHECKPOINT_LOG_PREFIX,
  CheckpointDelta,
  commitManifest,
  decodeManifest,
  encodeManifest,
  MANIFEST_PREFIX,
  ManifestCheckpoint,
  manifestKey,
  manifestOf,
  ManifestState,
  parseManifestKey,
  planOf,
  RawInputSchema,
  rawStateOf,
  readManifest,
  readManifests,
  readRawState,
  RefineManifest,
  removeManifest,
  stateOfManifest
} from "./Manifest.js"
export type { RawInput, RawState, RefinePlan } from "./Manifest.js"
import {
  after,
  appendCheckpoint,
  checkpointListing,
  cmp,
  listManifests,
  listObjects,
  MANIFEST_PREFIX,
  manifestKey,
  planOf,
  rawDatePrefix,
  rawStateOf,
  readCheckpoint,
  readListed,
  readManifests,
  readManifestsCheckpointed,
  readRawState,
  replaceDates,
  stateOfManifest,
  writeCheckpoint
} from "./Manifest.js"
import type { CheckpointEntry, ManifestState, RawInput, RawState, StoredCheckpoint } from "./Manifest.js"

// ---------------------------------------------------------------------------------------------
// The rule: which refines a raw change implies
// ---------------------------------------------------------------------------------------------

/** A raw object written (or replaced): its date and index. @category models */
export interface RawChange {
  readonly refDate: RefDate
  readonly indexCode: IndexCode
}

/**
 * The rule: a raw change of `(D, index)` implies the refine of D, and of the index's next raw date
 * after D when there is one (a backfilled or replaced D changes that date's
 * `days_since_previous_snapshot`). Without `raw` (no listing available) only D.
 *
 * @category rule
 */
export const impliedDates = (change: RawChange, raw?: RawState): ReadonlyArray<RefDate> => {
  if (raw === undefined) return [change.refDate]
  const next = after(raw.byIndex.get(change.indexCode) ?? [], change.refDate)
  return next === null ? [change.refDate] : [change.refDate, next]
}

/** The raw change an object-created record names, if its key is a raw Parquet object. @category rule */
export const changeOfRecord = (record: S3EventRecord): RawChange | undefined => parseRawParquetKey(recordKey(record))

/**
 * Coalesces many changes into one refine per date, ascending (36 indices of one day: one refine).
 *
 * @category rule
 */
export const coalesce = (changes: Iterable<RawChange>, raw?: RawState): ReadonlyArray<RefDate> => {
  const dates = new Set<RefDate>()
  for (const change of changes) for (const d of impliedDates(change, raw)) dates.add(d)
  return [...dates].sort()
}

// ---------------------------------------------------------------------------------------------
// Staleness
// ---------------------------------------------------------------------------------------------

/** Why a date is stale. @category staleness */
export type StaleReason =
  /** Raw data, never refined (or the refine never committed). */
  | "NotRefined"
  /** A raw object was added, replaced or removed since the refine. */
  | "RawChanged"
  /** An index's previous raw date changed (a backfill or removal before this date). */
  | "PreviousChanged"
  /** Refined (manifest or catalog partitions) but no raw data any more. */
  | "NoRawData"
  /** The manifest exists but cannot be read. */
  | "BadManifest"

/** @category staleness */
export interface StaleDate {
  readonly refDate: RefDate
  readonly reason: StaleReason
}

const sameInputs = (
  a: ReadonlyArray<RawInput>,
  b: ReadonlyArray<{ readonly key: string; readonly etag?: string | undefined }>
) =>
  a.length === b.length && a.every((x, i) => {
    const y = b[i]
    return y !== undefined && x.key === y.key && x.etag === y.etag
  })

/**
 * The staleness test of one date: `undefined` when its manifest matches what `raw` implies.
 * `manifest` is `undefined` for none, `null` for an unreadable one.
 *
 * @category staleness
 */
export const staleness = (
  raw: RawState,
  refDate: RefDate,
  manifest: ManifestState | undefined | null
): StaleReason | undefined => {
  const plan = planOf(raw, refDate)
  if (plan.inputs.length === 0) return manifest === undefined ? undefined : "NoRawData"
  if (manifest === undefined) return "NotRefined"
  if (manifest === null) return "BadManifest"
  const inputs = [...manifest.inputs].sort((a, b) => cmp(a.indexCode, b.indexCode) || cmp(a.key, b.key))
  if (!sameInputs(plan.inputs, inputs)) return "RawChanged"
  for (const [code, prev] of Object.entries(plan.previous)) {
    if ((manifest.previous[code] ?? null) !== prev) return "PreviousChanged"
  }
  return undefined
}

/**
 * The stale dates, ascending: every raw date whose manifest does not match, every manifest without
 * raw data, and every date with refined catalog partitions but neither raw data nor a manifest.
 *
 * @category staleness
 */
export const staleDates = (
  raw: RawState,
  manifests: ReadonlyMap<RefDate, ManifestState | undefined>,
  catalogDates: Iterable<RefDate> = []
): ReadonlyArray<StaleDate> => {
  const dates = new Set<RefDate>([...raw.byDate.keys(), ...manifests.keys(), ...catalogDates])
  const out: Array<StaleDate> = []
  for (const refDate of [...dates].sort()) {
    const m = manifests.has(refDate) ? (manifests.get(refDate) ?? null) : undefined
    const reason = raw.byDate.has(refDate) || m !== undefined ? staleness(raw, refDate, m) : "NoRawData"
    if (reason !== undefined) out.push({ refDate, reason })
  }
  return out
}

/** Dates with refined partitions in the catalog (none when the table is not registered yet). */
const catalogRefinedDates = Effect.flatMap(
  Effect.serviceOption(Catalog),
  (catalog) =>
    Option.isNone(catalog) ?
      Effect.succeed([] as ReadonlyArray<RefDate>) :
      catalog.value.listPartitions(REFINED_TABLE).pipe(
        Effect.map((ps) => [...new Set(ps.map((p) => p.values[0] as RefDate))]),
        Effect.orElseSucceed(() => [] as ReadonlyArray<RefDate>)
      )
)

/** What the warehouse's refined table lags behind, with the raw state read. @category staleness */
export interface Freshness {
  readonly raw: RawState
  readonly manifests: ReadonlyMap<RefDate, ManifestState | undefined>
  readonly stale: ReadonlyArray<StaleDate>
}

/**
 * Reads the raw listing and the manifests and runs the staleness test over every date. With
 * `catalog: true` (and a `Catalog` in context) it also reads the refined partitions, to find dates
 * refined without raw data or a manifest (left by an old version, or a refine cut off between its
 * catalog update and its manifest on a date whose raw data was then removed): slower on a long
 * history, so `b3 status`, `b3 refine` and `reconcile({ all })` use it, a flush does not.
 * Takes no lock: readers may call it.
 *
 * @category staleness
 */
export const freshnessWith = (
  options: { readonly catalog?: boolean; readonly checkpoint?: boolean } = {}
): Effect.Effect<Freshness, ObjectStoreError, ObjectStore> => Effect.map(readFreshness(options), (f) => f.fresh)

/** `freshnessWith`, with the raw listing and (with `checkpoint`) the checkpoint's entries. */
const readFreshness = (options: { readonly catalog?: boolean; readonly checkpoint?: boolean }) =>
  Effect.gen(function*() {
    const listed = yield* listObjects(RAW_PREFIX).pipe(Effect.withSpan("Trigger.readRawState"))
    const raw = rawStateOf(listed)
    const checkpointed = options.checkpoint === true ? yield* readManifestsCheckpointed : undefined
    const manifests = checkpointed?.manifests ?? (yield* readManifests)
    const catalogDates = options.catalog === true ?
      (yield* catalogRefinedDates).filter((d) => !raw.byDate.has(d) && !manifests.has(d)) :
      []
    const fresh: Freshness = { raw, manifests, stale: staleDates(raw, manifests, catalogDates) }
    return { fresh, checkpointed }
  })

/** `freshnessWith({ catalog: true })`. @category staleness */
export const freshness: Effect.Effect<Freshness, ObjectStoreError, ObjectStore> = freshnessWith({ catalog: true })

// ---------------------------------------------------------------------------------------------
// Refining: events and reconcile
// ---------------------------------------------------------------------------------------------

/** A failed read of the raw listing or the manifests, as the refine error it causes. */
const readFailure = (method: string) => (e: ObjectStoreError): RefineJobError =>
  new RefineJobError({
    reason: e.reason === "Throttled" || e.reason === "AccessDenied" ? e.reason : "Unknown",
    method,
    detail: `reading the raw listing or the refine manifests: ${e.message}`,
    cause: e
  })

/** The refine of one date, with its plan (`RefineJob.start`). */
const startDate = (raw: RawState, refDate: RefDate, source?: { key: string; indexCode: IndexCode }) =>
  Effect.flatMap(RefineJob, (job) =>
    job.start({
      refDate,
      plan: planOf(raw, refDate),
      ...(source !== undefined ? { indexCode: source.indexCode, sourceKey: source.key } : {})
    }))

/** The raw Parquet records of a batch, by key (a key named twice counts once). */
const changesOf = (records: Iterable<S3EventRecord>): Map<string, RawChange & { key: string }> => {
  const changes = new Map<string, RawChange & { key: string }>()
  for (const record of records) {
    const key = recordKey(record)
    const change = parseRawParquetKey(key)
    if (change !== undefined) changes.set(key, { ...change, key })
  }
  return changes
}

/** One refine per implied date, ascending; with `raw`, each with its plan. */
const startChanges = (
  changes: Map<string, RawChange & { key: string }>,
  raw: RawState | undefined
): Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob> =>
  Effect.gen(function*() {
    const dates = coalesce(changes.values(), raw)
    const firstSource = new Map<RefDate, RawChange & { key: string }>()
    for (const c of changes.values()) if (!firstSource.has(c.refDate)) firstSource.set(c.refDate, c)
    const runs: Array<RefineRun> = []
    for (const refDate of dates) {
      const source = firstSource.get(refDate)
      if (raw === undefined) {
        runs.push(
          yield* Effect.flatMap(RefineJob, (job) =>
            job.start({
              refDate,
              ...(source !== undefined ? { indexCode: source.indexCode, sourceKey: source.key } : {})
            }))
        )
      } else {
        runs.push(yield* startDate(raw, refDate, source))
      }
    }
    return runs
  })

/**
 * The trigger for a batch of object-created records (an S3 notification, the local store's events,
 * the memory queue): the raw records' implied dates, coalesced, one refine each, ascending. With an
 * `ObjectStore` in context the raw table is listed once for the successor rule and the plans;
 * without one (a Lambda that may only start jobs) only the records' own dates are refined
 * (`onRawObjectsWithoutListing`). A failed refine fails the batch (later dates are not started):
 * the date stays stale.
 *
 * @category trigger
 */
export const onRawObjects = (
  records: Iterable<S3EventRecord>
): Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob> =>
  Effect.gen(function*() {
    const changes = changesOf(records)
    if (changes.size === 0) return []
    const store = yield* Effect.serviceOption(ObjectStore)
    const raw = Option.isSome(store) ?
      yield* readRawState.pipe(
        Effect.provideService(ObjectStore, store.value),
        Effect.mapError(readFailure("trigger"))
      ) :
      undefined
    return yield* startChanges(changes, raw)
  })

/**
 * `onRawObjects` without an `ObjectStore`, whatever the context holds: only the records' own dates
 * are refined, and nothing is listed or read. For a caller that may only start jobs (the trigger
 * Lambda): it references none of the listing code, so a bundle of it carries no Stream code.
 *
 * @category trigger
 */
export const onRawObjectsWithoutListing = (
  records: Iterable<S3EventRecord>
): Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob> =>
  Effect.suspend(() => {
    const changes = changesOf(records)
    return changes.size === 0 ? Effect.succeed([]) : startChanges(changes, undefined)
  })

/** One record through a batch trigger: `None` when its key is not a raw Parquet object. */
const oneRecord = (
  record: S3EventRecord,
  batch: (records: Iterable<S3EventRecord>) => Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob>
): Effect.Effect<Option.Option<ReadonlyArray<RefineRun>>, RefineJobError, RefineJob> =>
  changeOfRecord(record) === undefined ? Effect.succeedNone : Effect.map(batch([record]), Option.some)

/**
 * The trigger for one record: `None` when its key is not a raw Parquet object, else the refines it
 * implies (`onRawObjects`).
 *
 * @category trigger
 */
export const onRawObject = (
  record: S3EventRecord
): Effect.Effect<Option.Option<ReadonlyArray<RefineRun>>, RefineJobError, RefineJob> => oneRecord(record, onRawObjects)

/**
 * `onRawObject` without an `ObjectStore` (`onRawObjectsWithoutListing`): `None` when the key is not
 * a raw Parquet object, else the refine of the record's own date.
 *
 * @category trigger
 */
export const onRawObjectWithoutListing = (
  record: S3EventRecord
): Effect.Effect<Option.Option<ReadonlyArray<RefineRun>>, RefineJobError, RefineJob> =>
  oneRecord(record, onRawObjectsWithoutListing)

/** @category reconcile */
export interface ReconcileOptions {
  /** Refine every date with raw data (and clear every orphan), stale or not. */
  readonly all?: boolean
  /** Also look for refined catalog partitions without raw data or manifest (`freshnessWith`); implied by `all`. */
  readonly deep?: boolean
  /** Refine these dates too, stale or not. */
  readonly force?: Iterable<RefDate>
  /**
   * Read the manifests through the checkpoint (`CHECKPOINT_KEY`) and rewrite it afterwards: one
   * object read instead of one per date. For a writer that may write it (the local trigger); a
   * backend whose role may not read or write it leaves this off.
   */
  readonly checkpoint?: boolean
  /** Called after each date (progress output). */
  readonly onDate?: (done: number, total: number, refDate: RefDate) => void
}

/** @category reconcile */
export interface ReconcileResult {
  /** The dates found stale before refining. */
  readonly found: ReadonlyArray<StaleDate>
  readonly runs: ReadonlyArray<RefineRun>
  /**
   * Dates still stale afterwards: a backend that refines asynchronously (Glue) commits later; an
   * in-process backend leaves none unless raw changed meanwhile. Without `all` or `deep`, only the
   * dates refined are checked again (their raw folders and manifests), not the whole history.
   */
  readonly stillStale: ReadonlyArray<StaleDate>
}

/**
 * Refines exactly the stale dates (plus `force` / every date with `all`), ascending, each with its
 * plan, then runs the staleness test again on the dates refined (on every date with `all` or
 * `deep`). A date without raw data is refined too: the job clears its refined data and manifest.
 * The first failed refine fails the reconcile; the dates not reached stay stale and the next
 * reconcile takes them.
 *
 * @category reconcile
 */
export const reconcile = (
  options: ReconcileOptions = {}
): Effect.Effect<ReconcileResult, RefineJobError, ObjectStore | RefineJob> =>
  Effect.gen(function*() {
    const deep = options.all === true || options.deep === true
    const checkpoint = options.checkpoint === true
    const read = readFreshness({ catalog: deep, checkpoint }).pipe(Effect.mapError(readFailure("reconcile")))
    const before = yield* read
    const dates = new Set<RefDate>(before.fresh.stale.map((s) => s.refDate))
    if (options.all === true) { for (const d of before.fresh.raw.byDate.keys()) dates.add(d) }
    for (const d of options.force ?? []) dates.add(d)
    const todo = [...dates].sort()
    const runs = yield* refineDates(before.fresh.raw, todo, options.onDate)
    if (todo.length === 0) {
      if (before.checkpointed?.changed === true) {
        yield* writeCheckpoint(before.checkpointed.entries, before.checkpointed.after)
      }
      return { found: before.fresh.stale, runs, stillStale: before.fresh.stale }
    }
    if (deep) {
      const after = yield* read
      if (after.checkpointed?.changed === true) {
        yield* writeCheckpoint(after.checkpointed.entries, after.checkpointed.after)
      }
      return { found: before.fresh.stale, runs, stillStale: after.fresh.stale }
    }
    const after = yield* recheck(before.fresh.raw, todo).pipe(
      Effect.mapError(readFailure("reconcile"))
    )
    if (before.checkpointed !== undefined) {
      const entries = new Map(before.checkpointed.entries)
      for (const d of todo) {
        const m = after.manifests.get(d)
        if (m === undefined) entries.delete(d)
        else entries.set(d, m)
      }
      yield* writeCheckpoint(entries, before.checkpointed.after)
    }
    return { found: before.fresh.stale, runs, stillStale: after.stale }
  }).pipe(Effect.withSpan("Trigger.reconcile"))

/**
 * Refines `todo` (ascending), each with its plan in `raw`: in one pass when the job has `startMany`
 * and there is more than one date (each date still commits its own manifest), else date by date.
 */
const refineDates = (
  raw: RawState,
  todo: ReadonlyArray<RefDate>,
  onDate?: (done: number, total: number, refDate: RefDate) => void
): Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob> =>
  Effect.gen(function*() {
    const runs: Array<RefineRun> = []
    let done = 0
    const job = yield* RefineJob
    if (job.startMany !== undefined && todo.length > 1) {
      // a backend that refines many dates in one pass (each date still commits its own manifest)
      runs.push(
        ...yield* job.startMany(
          todo.map((refDate) => ({ refDate, plan: planOf(raw, refDate) })),
          (run) => onDate?.(++done, todo.length, run.refDate)
        )
      )
    } else {
      for (const refDate of todo) {
        runs.push(yield* startDate(raw, refDate))
        onDate?.(++done, todo.length, refDate)
      }
    }
    return runs
  })

/**
 * The staleness test again on `dates` only: their raw folders listed again (the rest of the raw
 * state `raw` kept), their manifests read again. O(dates), not O(history).
 */
const recheck = (raw: RawState, dates: ReadonlyArray<RefDate>) =>
  Effect.gen(function*() {
    const wanted = new Set<string>(dates)
    const isWanted = (key: string) => {
      const p = parseRawParquetKey(key)
      return p !== undefined && wanted.has(p.refDate)
    }
    // A few dates: each date's folder and manifest. Most of the history (a backfill): one listing of
    // each, which walks every folder once where a listing per date walks the table's folder again
    // for each date (at a year, 250 dates: ~0.4 s instead of ~1.5 s here).
    const whole = dates.length > 8 && dates.length * 2 >= raw.byDate.size
    const [fresh, manifests] = yield* Effect.all([
      whole ?
        Effect.map(listObjects(RAW_PREFIX), (all) => [all.filter((info) => isWanted(info.key))]) :
        Effect.forEach(dates, (d) => listObjects(rawDatePrefix(d)), { concurrency: 8 }),
      whole ?
        Effect.flatMap(listManifests(MANIFEST_PREFIX), (all) =>
          Effect.map(readListed(all.filter(([d]) => wanted.has(d))), (read) => [read])) :
        Effect.forEach(dates, (d) =>
          Effect.flatMap(listManifests(manifestKey(d)), readListed), { concurrency: 8 })
    ], { concurrency: 2 })
    const now = replaceDates(raw, dates, fresh.flat())
    const byDate = new Map<RefDate, CheckpointEntry>()
    const unreadable = new Set<RefDate>()
    for (const [refDate, info, manifest] of manifests.flat()) {
      if (manifest === undefined) unreadable.add(refDate)
      else byDate.set(refDate, { etag: info.etag, manifest: stateOfManifest(manifest) })
    }
    const stale: Array<StaleDate> = []
    for (const refDate of dates) {
      const entry = byDate.get(refDate)
      const reason = staleness(now, refDate, entry?.manifest ?? (unreadable.has(refDate) ? null : undefined))
      if (reason !== undefined) stale.push({ refDate, reason })
    }
    return { stale, manifests: byDate }
  })

/**
 * A process's copy of the manifest checkpoint it last read or wrote, with the raw state its entries
 * imply. A long-lived trigger (the local adapter's) passes the same cache to every `reconcileDates`:
 * before each use it lists the checkpoint's base and log (keys and etags, no bytes) and keeps its
 * copy while they are the ones it read or wrote. So a day neither decodes the whole checkpoint
 * (~1.5 MB at a year) nor rebuilds the raw state of every date from it: its work is the day's. Any
 * other writer of the checkpoint (a full reconcile, another process) changes the listing, and the
 * next reconcile reads the checkpoint again.
 *
 * @category reconcile
 */
export interface CheckpointCache {
  readonly _tag: "CheckpointCache"
}

/** The checkpoint as stored, with the raw objects its entries' refines read (`committedRaw`). */
interface Committed {
  readonly stored: StoredCheckpoint
  readonly raw: RawState
}

interface CacheCell extends CheckpointCache {
  current: Committed | undefined
}

/** An empty `CheckpointCache`. @category reconcile */
export const makeCheckpointCache = (): CheckpointCache => {
  const cell: CacheCell = { _tag: "CheckpointCache", current: undefined }
  return cell
}

/** The raw objects a checkpoint entry's refine read, those of its own date only. */
const entryInfos = (refDate: RefDate, entry: CheckpointEntry | undefined) => {
  const out: Array<{ readonly key: string; readonly etag: string }> = []
  for (const input of entry?.manifest.inputs ?? []) {
    if (parseRawParquetKey(input.key)?.refDate === refDate) out.push({ key: input.key, etag: input.etag ?? "" })
  }
  return out
}

/** The raw state the checkpoint's refines committed: every entry's inputs. */
const committedRaw = (entries: ReadonlyMap<RefDate, CheckpointEntry>): RawState =>
  rawStateOf([...entries].flatMap(([d, entry]) => entryInfos(d, entry)))

/** The stored checkpoint, from `cache` while its listing is the stored one. `None` when there is none. */
const loadCommitted = (cache: CacheCell | undefined): Effect.Effect<Option.Option<Committed>, never, ObjectStore> =>
  Effect.gen(function*() {
    if (cache?.current !== undefined) {
      const listing = yield* checkpointListing
      if (listing !== undefined && listing === cache.current.stored.listing) return Option.some(cache.current)
    }
    const read = yield* readCheckpoint
    const committed = Option.map(read, (stored): Committed => ({ stored, raw: committedRaw(stored.entries) }))
    if (cache !== undefined) cache.current = Option.getOrUndefined(committed)
    return committed
  })

/**
 * The daily path: the staleness test and refine of the `dates` changed (from a journal of raw
 * writes, such as the local adapter's `RawJournal`) and of the dates they imply, in O(changed dates)
 * reads, not O(history): it lists the raw folders of those dates and their successors only, and
 * takes every other date's raw objects from the manifest checkpoint (the raw objects each refine
 * read). So it is exact when every raw change since the last reconcile is in `dates`; a change made
 * outside the journal is found by a full `reconcile` (`b3 status`, `b3 refine`). With a `cache`
 * (`makeCheckpointCache`) kept across calls, the checkpoint is decoded once per process, and each
 * call's bookkeeping is O(changed dates) too.
 *
 * `None` when there is no readable checkpoint (a warehouse never reconciled with `checkpoint`, or
 * one written by an older version): the caller runs a full `reconcile({ checkpoint: true })`.
 *
 * @category reconcile
 */
export const reconcileDates = (
  options: {
    readonly dates: Iterable<RefDate>
    readonly force?: Iterable<RefDate>
    readonly onDate?: (done: number, total: number, refDate: RefDate) => void
    readonly cache?: CheckpointCache
  }
): Effect.Effect<Option.Option<ReconcileResult>, RefineJobError, ObjectStore | RefineJob> =>
  Effect.gen(function*() {
    const cache = options.cache as CacheCell | undefined
    const loaded = yield* loadCommitted(cache)
    if (Option.isNone(loaded)) return Option.none()
    const committed = loaded.value
    const entries = new Map(committed.stored.entries)
    const force = new Set(options.force ?? [])
    const changed = new Set<RefDate>([...options.dates, ...force])
    const scanned = new Map<RefDate, Scan>()
    const scanAll = (dates: Iterable<RefDate>) =>
      Effect.forEach([...dates].filter((d) => !scanned.has(d)), (d) =>
        Effect.map(scanDate(d), (s) => {
          scanned.set(d, s)
        }), { concurrency: 8, discard: true }).pipe(Effect.mapError(readFailure("reconcile")))
    // The raw table as the refines committed it, with the scanned dates as they are now.
    const state = () => replaceDates(committed.raw, scanned.keys(), [...scanned.values()].flatMap((s) => s.raw))
    yield* scanAll(changed)
    // the successors of every index a changed date had or has (their previous snapshot may change)
    const first = state()
    const successors = new Set<RefDate>()
    for (const d of changed) {
      const codes = new Set<string>((first.byDate.get(d) ?? []).map((i) => i.indexCode))
      for (const i of entries.get(d)?.manifest.inputs ?? []) codes.add(i.indexCode)
      for (const code of codes) {
        const next = after(first.byIndex.get(code as IndexCode) ?? [], d)
        if (next !== null) successors.add(next)
      }
    }
    yield* scanAll(successors)
    const raw = state()
    let dirty = false
    for (const [d, s] of scanned) {
      if (entries.get(d)?.etag !== s.manifest?.etag) dirty = true
      if (s.manifest === undefined) entries.delete(d)
      else entries.set(d, s.manifest)
    }
    const found: Array<StaleDate> = []
    for (const d of [...scanned.keys()].sort()) {
      const s = scanned.get(d)
      const reason = staleness(raw, d, s?.manifest?.manifest ?? (s?.unreadable === true ? null : undefined))
      if (reason !== undefined) found.push({ refDate: d, reason })
    }
    const todo = [...new Set([...found.map((s) => s.refDate), ...force])].sort()
    const runs = yield* refineDates(raw, todo, options.onDate)
    // one delta of the checkpoint's log (a new base every CHECKPOINT_FOLD_EVERY commits)
    const commit = (touched: Iterable<RefDate>) => {
      const dates = [...new Set(touched)]
      return Effect.map(appendCheckpoint(committed.stored, entries, dates), (stored) => {
        if (cache === undefined) return
        cache.current = Option.isNone(stored) ? undefined : {
          stored: stored.value,
          raw: replaceDates(committed.raw, dates, dates.flatMap((d) => entryInfos(d, entries.get(d))))
        }
      })
    }
    if (todo.length === 0) {
      if (dirty) yield* commit(scanned.keys())
      return Option.some({ found, runs, stillStale: [] })
    }
    const again = yield* recheck(raw, todo).pipe(Effect.mapError(readFailure("reconcile")))
    for (const d of todo) {
      const m = again.manifests.get(d)
      if (m === undefined) entries.delete(d)
      else entries.set(d, m)
    }
    yield* commit([...scanned.keys(), ...todo])
    return Option.some({ found, runs, stillStale: again.stale })
  }).pipe(Effect.withSpan("Trigger.reconcileDates"))

/** One date as stored now: its raw objects and its manifest. */
interface Scan {
  readonly raw: ReadonlyArray<ListedObject>
  readonly manifest: CheckpointEntry | undefined
  readonly unreadable: boolean
}

const scanDate = (refDate: RefDate): Effect.Effect<Scan, ObjectStoreError, ObjectStore> =>
  Effect.map(
    Effect.all([listObjects(rawDatePrefix(refDate)), Effect.flatMap(listManifests(manifestKey(refDate)), readListed)], {
      concurrency: 2
    }),
    ([raw, manifests]) => {
      const found = manifests.find(([d]) => d === refDate)
      const manifest = found?.[2]
      return {
        raw,
        manifest: found !== undefined && manifest !== undefined
          ? { etag: found[1].etag, manifest: stateOfManifest(manifest) }
          : undefined,
        unreadable: found !== undefined && manifest === undefined
      }
    }
  )
