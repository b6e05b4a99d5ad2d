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
 * Manifests live under `_manifests/b3_portfolio_refined/`, outside both table folders, so Athena,
 * Spark and DuckDB never read them as table data.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Catalog } from "./Catalog.js"
import type { IndexCode, RefDate } from "./Domain.js"
import { lastBelow } from "./internal/sorted.js"
import type { ListedObject, ObjectKey, ObjectStoreError, S3EventRecord } from "./ObjectStore.js"
import { ObjectStore, recordKey, unsafeKey } from "./ObjectStore.js"
import type { RefineRun } from "./RefineJob.js"
import { RefineJob, RefineJobError } from "./RefineJob.js"
import { parseRawParquetKey, RAW_PREFIX, REFINED_TABLE } from "./Tables.js"

// ---------------------------------------------------------------------------------------------
// The raw table as the refine sees it
// ---------------------------------------------------------------------------------------------

/** One raw object (one index on one date) with its version identity. @category models */
export interface RawInput {
  readonly indexCode: IndexCode
  readonly key: string
  /**
   * The stored version's identity from the listing (`ListedObject.etag`: S3's ETag, the filesystem
   * store's stat identity): it changes when the object is rewritten with other bytes, and costs no
   * read of the object.
   */
  readonly etag: string
}

/** The raw table's objects, by date and by index (from one listing). @category models */
export interface RawState {
  /** date -> its raw objects, ordered by index code. */
  readonly byDate: ReadonlyMap<RefDate, ReadonlyArray<RawInput>>
  /** index -> its dates, ascending. */
  readonly byIndex: ReadonlyMap<IndexCode, ReadonlyArray<RefDate>>
}

/** The raw state of a listing of `raw/b3_portfolio_raw/` (other keys are ignored). @category raw */
export const rawStateOf = (infos: Iterable<{ readonly key: string; readonly etag: string }>): RawState => {
  const byDate = new Map<RefDate, Array<RawInput>>()
  const byIndex = new Map<IndexCode, Array<RefDate>>()
  for (const info of infos) {
    const p = parseRawParquetKey(info.key)
    if (p === undefined) continue
    const list = byDate.get(p.refDate)
    const input: RawInput = { indexCode: p.indexCode, key: info.key, etag: info.etag }
    if (list === undefined) byDate.set(p.refDate, [input])
    else list.push(input)
    const dates = byIndex.get(p.indexCode)
    if (dates === undefined) byIndex.set(p.indexCode, [p.refDate])
    else dates.push(p.refDate)
  }
  for (const list of byDate.values()) list.sort((a, b) => cmp(a.indexCode, b.indexCode) || cmp(a.key, b.key))
  for (const dates of byIndex.values()) {
    dates.sort()
    // an index has one object per date by the key layout; keep it unique anyway
    for (let i = dates.length - 1; i > 0; i--) if (dates[i] === dates[i - 1]) dates.splice(i, 1)
  }
  return { byDate, byIndex }
}

/** The raw objects under `prefix` (the whole table, or one date's folder). */
const listRaw = (prefix: string): Effect.Effect<ReadonlyArray<ListedObject>, ObjectStoreError, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => Stream.runCollect(store.list(prefix))).pipe(Effect.map(Chunk.toReadonlyArray))

/** The prefix of one date's raw objects. */
const rawDatePrefix = (refDate: RefDate): string => `${RAW_PREFIX}ref_date=${refDate}/`

/**
 * Lists the raw table once: keys and version identities (`etag`) come with the listing, so no
 * object is read or HEADed (one ListObjectsV2 page per 1,000 objects on S3, a stat per file locally).
 *
 * @category raw
 */
export const readRawState: Effect.Effect<RawState, ObjectStoreError, ObjectStore> = Effect.map(
  listRaw(RAW_PREFIX),
  rawStateOf
).pipe(Effect.withSpan("Trigger.readRawState"))

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Smallest date of the ascending `dates` strictly after `d`. */
const after = (dates: ReadonlyArray<RefDate>, d: RefDate): RefDate | null => {
  let lo = 0
  let hi = dates.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const at = dates[mid]
    if (at !== undefined && at <= d) lo = mid + 1
    else hi = mid
  }
  return dates[lo] ?? null
}

/**
 * What the refine of a date must read: its raw objects, and each of its indices' previous raw date
 * (`null` for an index's first date). A refine given a plan needs no listing of history: the
 * previous dates are all `days_since_previous_snapshot` needs.
 *
 * @category models
 */
export interface RefinePlan {
  readonly refDate: RefDate
  readonly inputs: ReadonlyArray<RawInput>
  /** index code -> previous raw date of that index, for every index of `inputs`. */
  readonly previous: Readonly<Record<string, RefDate | null>>
}

/** The plan of `refDate` in `raw` (empty `inputs` when the date has no raw data). @category raw */
export const planOf = (raw: RawState, refDate: RefDate): RefinePlan => {
  const inputs = raw.byDate.get(refDate) ?? []
  const previous: Record<string, RefDate | null> = {}
  for (const input of inputs) {
    previous[input.indexCode] = lastBelow(raw.byIndex.get(input.indexCode) ?? [], refDate) ?? null
  }
  return { refDate, inputs, previous }
}

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
// Refine manifests: the commit point of a refined date
// ---------------------------------------------------------------------------------------------

/** Prefix of the refine manifests (outside the table folders). @category manifests */
export const MANIFEST_PREFIX = `_manifests/${REFINED_TABLE}/`

/** The manifest of a refined date: `_manifests/b3_portfolio_refined/ref_date=YYYY-MM-DD.json`. @category manifests */
export const manifestKey = (refDate: RefDate): ObjectKey => unsafeKey(`${MANIFEST_PREFIX}ref_date=${refDate}.json`)

/** The date of a manifest key, or `undefined`. @category manifests */
export const parseManifestKey = (key: string): RefDate | undefined => {
  const m = /^_manifests\/b3_portfolio_refined\/ref_date=(\d{4}-\d{2}-\d{2})\.json$/.exec(key)
  return m === null ? undefined : (m[1] as RefDate)
}

/** @category manifests */
export const RawInputSchema = Schema.Struct({
  indexCode: Schema.String,
  key: Schema.String,
  /** The raw object's `ListedObject.etag` when it was read. */
  etag: Schema.optional(Schema.String),
  /** Manifests written before `etag` recorded a content digest instead: such a date reads as RawChanged once. */
  sha256: Schema.optional(Schema.String)
})

/**
 * What a refined date was built from (JSON, version 1).
 *
 * @category manifests
 */
export const RefineManifest = Schema.Struct({
  version: Schema.Literal(1),
  refDate: Schema.String,
  /** The raw objects read, ordered by index code. */
  inputs: Schema.Array(RawInputSchema),
  /** index code -> the previous raw date used for that index (null: its first date). */
  previous: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) }),
  /** Refined rows written for the date. */
  rows: Schema.Number,
  /** The refined partitions (tickers) of the date. */
  tickers: Schema.Array(Schema.String),
  runId: Schema.String,
  committedAt: Schema.String
})
/** @category manifests */
export type RefineManifest = typeof RefineManifest.Type

/**
 * What the staleness test reads of a manifest: all of it but the tickers (the manifest checkpoint
 * keeps only this, about half the bytes).
 *
 * @category manifests
 */
export const ManifestState = RefineManifest.pipe(Schema.omit("tickers"))
/** @category manifests */
export type ManifestState = typeof ManifestState.Type

/** A manifest's `ManifestState`. @category manifests */
export const stateOfManifest = (manifest: RefineManifest): ManifestState => {
  const { tickers: _tickers, ...state } = manifest
  return state
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The manifest's bytes (pretty JSON, stable key order). @category manifests */
export const encodeManifest = (manifest: RefineManifest): Uint8Array =>
  encoder.encode(JSON.stringify(manifest, null, 2) + "\n")

const decodeManifestJson = Schema.decodeUnknownEither(Schema.parseJson(RefineManifest))

/** Reads a manifest's bytes; `Left` names what is wrong. @category manifests */
export const decodeManifest = (bytes: Uint8Array): Either.Either<RefineManifest, string> =>
  Either.mapLeft(decodeManifestJson(decoder.decode(bytes)), (e) => ParseResult.TreeFormatter.formatErrorSync(e))

/** The manifest a refine of `plan` commits at `committedAt` (the caller's `Clock`). @category manifests */
export const manifestOf = (
  plan: RefinePlan,
  result: { readonly rows: number; readonly tickers: ReadonlyArray<string>; readonly runId: string },
  committedAt: Date
): RefineManifest => ({
  version: 1,
  refDate: plan.refDate,
  inputs: plan.inputs.map((i) => ({ indexCode: i.indexCode, key: i.key, etag: i.etag })),
  previous: plan.previous,
  rows: result.rows,
  tickers: [...result.tickers].sort(),
  runId: result.runId,
  committedAt: committedAt.toISOString()
})

/** Writes a manifest (one atomic put): the commit of its date. Call it last. @category manifests */
export const commitManifest = (manifest: RefineManifest): Effect.Effect<void, ObjectStoreError, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) =>
    store.put(manifestKey(manifest.refDate as RefDate), encodeManifest(manifest), {
      contentType: "application/json"
    })).pipe(Effect.asVoid)

/** Removes a date's manifest (its refined data was removed: no raw data any more). @category manifests */
export const removeManifest = (refDate: RefDate): Effect.Effect<void, ObjectStoreError, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => store.delete(manifestKey(refDate)))

/** Reads one date's manifest: `None` when absent or unreadable (an unreadable one is stale). @category manifests */
export const readManifest = (
  refDate: RefDate
): Effect.Effect<Option.Option<RefineManifest>, ObjectStoreError, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => store.get(manifestKey(refDate))).pipe(
    Effect.map(Option.flatMap((bytes) => Either.getRight(decodeManifest(bytes))))
  )

/** Reads the manifests listed in `infos` (concurrently); an unreadable one is `undefined`. */
const readListed = (infos: ReadonlyArray<readonly [RefDate, ListedObject]>) =>
  Effect.flatMap(ObjectStore, (store) =>
    Effect.forEach(
      infos,
      ([refDate, info]) =>
        Effect.map(store.get(info.key), (bytes) =>
          [
            refDate,
            info,
            Option.isSome(bytes) ? Either.getOrUndefined(decodeManifest(bytes.value)) : undefined
          ] as const),
      { concurrency: 16 }
    ))

/** The manifests under `prefix` (every one, or one date's), from the listing. */
const listManifests = (prefix: string) =>
  Effect.map(
    Effect.flatMap(ObjectStore, (store) => Stream.runCollect(store.list(prefix))),
    (infos) => {
      const out: Array<readonly [RefDate, ListedObject]> = []
      for (const info of infos) {
        const refDate = parseManifestKey(info.key)
        if (refDate !== undefined) out.push([refDate, info])
      }
      return out
    }
  )

/**
 * Every manifest, by date. An unreadable manifest is kept as `undefined` (its date is stale).
 *
 * @category manifests
 */
export const readManifests: Effect.Effect<
  ReadonlyMap<RefDate, RefineManifest | undefined>,
  ObjectStoreError,
  ObjectStore
> = Effect.gen(function*() {
  const out = new Map<RefDate, RefineManifest | undefined>()
  for (const [refDate, , manifest] of yield* readListed(yield* listManifests(MANIFEST_PREFIX))) {
    out.set(refDate, manifest)
  }
  return out
}).pipe(Effect.withSpan("Trigger.readManifests"))

// ---------------------------------------------------------------------------------------------
// The manifest checkpoint: every manifest in one object (a cache, verified by the listing)
// ---------------------------------------------------------------------------------------------

/**
 * The manifest checkpoint: `_manifests/_checkpoint/b3_portfolio_refined.json`, one object holding
 * every readable manifest with the `ListedObject.etag` it was read at (like a table format's
 * checkpoint of its commit log). It is a cache, never the truth: the per-date manifests stay the
 * commit points. A reader lists the manifests (keys and etags, no bytes), takes from the checkpoint
 * each manifest whose etag matches, and reads only the others (those committed since the
 * checkpoint was written: a day's). A missing, unreadable or out-of-date checkpoint costs reads,
 * never a wrong answer. `reconcile({ checkpoint: true })` rewrites it when it disagreed or after it
 * refined dates; it lives outside `_manifests/b3_portfolio_refined/`.
 *
 * @category manifests
 */
export const CHECKPOINT_KEY: ObjectKey = unsafeKey(`_manifests/_checkpoint/${REFINED_TABLE}.json`)

/** @category manifests */
export const ManifestCheckpoint = Schema.Struct({
  version: Schema.Literal(1),
  /** date -> the manifest and the etag of the stored version it was read from. */
  entries: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ etag: Schema.String, manifest: ManifestState })
  })
})
/** @category manifests */
export type ManifestCheckpoint = typeof ManifestCheckpoint.Type
type CheckpointEntry = ManifestCheckpoint["entries"][string]

const decodeCheckpointJson = Schema.decodeUnknownEither(Schema.parseJson(ManifestCheckpoint))

/** The checkpoint, or `None` when absent, unreadable or not decodable (then every manifest is read). */
const readCheckpoint: Effect.Effect<Option.Option<ManifestCheckpoint>, never, ObjectStore> = Effect.flatMap(
  ObjectStore,
  (store) => store.get(CHECKPOINT_KEY)
).pipe(
  Effect.map(Option.flatMap((bytes) => Either.getRight(decodeCheckpointJson(decoder.decode(bytes))))),
  Effect.orElseSucceed(() => Option.none<ManifestCheckpoint>())
)

/**
 * Writes the checkpoint (entries in date order). A failed write is ignored: the checkpoint is a
 * cache, and the next reader reads the manifests it lacks.
 */
const writeCheckpoint = (entries: ReadonlyMap<RefDate, CheckpointEntry>): Effect.Effect<void, never, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => {
    const sorted: Record<string, CheckpointEntry> = {}
    for (const d of [...entries.keys()].sort()) {
      const entry = entries.get(d)
      if (entry !== undefined) sorted[d] = entry
    }
    const body = encoder.encode(JSON.stringify({ version: 1, entries: sorted } satisfies ManifestCheckpoint))
    return store.put(CHECKPOINT_KEY, body, { contentType: "application/json" })
  }).pipe(Effect.ignore, Effect.withSpan("Trigger.writeCheckpoint"))

/** The manifests read through the checkpoint, and the checkpoint's entries as they should now be. */
interface CheckpointedManifests {
  readonly manifests: Map<RefDate, ManifestState | undefined>
  readonly entries: Map<RefDate, CheckpointEntry>
  /** True when `entries` differ from the stored checkpoint (it should be rewritten). */
  readonly changed: boolean
}

/** Every manifest, through the checkpoint: one listing, one checkpoint read, and a read per manifest it lacks. */
const readManifestsCheckpointed: Effect.Effect<CheckpointedManifests, ObjectStoreError, ObjectStore> = Effect.gen(
  function*() {
    const [listed, cached] = yield* Effect.all([listManifests(MANIFEST_PREFIX), readCheckpoint], {
      concurrency: 2
    })
    const stored: ManifestCheckpoint["entries"] = Option.match(cached, { onNone: () => ({}), onSome: (c) => c.entries })
    const manifests = new Map<RefDate, ManifestState | undefined>()
    const entries = new Map<RefDate, CheckpointEntry>()
    const missing: Array<readonly [RefDate, ListedObject]> = []
    for (const [refDate, info] of listed) {
      const hit = stored[refDate]
      if (hit !== undefined && hit.etag === info.etag) {
        manifests.set(refDate, hit.manifest)
        entries.set(refDate, hit)
      } else {
        missing.push([refDate, info])
      }
    }
    let changed = Option.isNone(cached) || Object.keys(stored).length !== entries.size
    for (const [refDate, info, manifest] of yield* readListed(missing)) {
      manifests.set(refDate, manifest)
      if (manifest !== undefined) {
        entries.set(refDate, { etag: info.etag, manifest: stateOfManifest(manifest) })
        changed = true
      }
    }
    return { manifests, entries, changed }
  }
).pipe(Effect.withSpan("Trigger.readManifestsCheckpointed"))

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
    const listed = yield* listRaw(RAW_PREFIX).pipe(Effect.withSpan("Trigger.readRawState"))
    const raw = rawStateOf(listed)
    const checkpointed = options.checkpoint === true ? yield* readManifestsCheckpointed : undefined
    const manifests = checkpointed?.manifests ?? (yield* readManifests)
    const catalogDates = options.catalog === true ?
      (yield* catalogRefinedDates).filter((d) => !raw.byDate.has(d) && !manifests.has(d)) :
      []
    const fresh: Freshness = { raw, manifests, stale: staleDates(raw, manifests, catalogDates) }
    return { fresh, listed, checkpointed }
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

/**
 * The trigger for a batch of object-created records (an S3 notification, the local store's events,
 * the memory queue): the raw records' implied dates, coalesced, one refine each, ascending. With an
 * `ObjectStore` in context the raw table is listed once for the successor rule and the plans;
 * without one (a Lambda that may only start jobs) only the records' own dates are refined.
 * A failed refine fails the batch (later dates are not started): the date stays stale.
 *
 * @category trigger
 */
export const onRawObjects = (
  records: Iterable<S3EventRecord>
): Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, RefineJob> =>
  Effect.gen(function*() {
    const changes = new Map<string, RawChange & { key: string }>()
    for (const record of records) {
      const key = recordKey(record)
      const change = parseRawParquetKey(key)
      if (change !== undefined) changes.set(key, { ...change, key })
    }
    if (changes.size === 0) return []
    const store = yield* Effect.serviceOption(ObjectStore)
    const raw = Option.isSome(store) ?
      yield* readRawState.pipe(
        Effect.provideService(ObjectStore, store.value),
        Effect.mapError(readFailure("trigger"))
      ) :
      undefined
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
 * The trigger for one record: `None` when its key is not a raw Parquet object, else the refines it
 * implies (`onRawObjects`).
 *
 * @category trigger
 */
export const onRawObject = (
  record: S3EventRecord
): Effect.Effect<Option.Option<ReadonlyArray<RefineRun>>, RefineJobError, RefineJob> =>
  changeOfRecord(record) === undefined ?
    Effect.succeedNone :
    Effect.map(onRawObjects([record]), Option.some)

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
      if (before.checkpointed?.changed === true) yield* writeCheckpoint(before.checkpointed.entries)
      return { found: before.fresh.stale, runs, stillStale: before.fresh.stale }
    }
    if (deep) {
      const after = yield* read
      if (after.checkpointed?.changed === true) yield* writeCheckpoint(after.checkpointed.entries)
      return { found: before.fresh.stale, runs, stillStale: after.fresh.stale }
    }
    const after = yield* recheck(before.listed, todo).pipe(Effect.mapError(readFailure("reconcile")))
    if (before.checkpointed !== undefined) {
      const entries = new Map(before.checkpointed.entries)
      for (const d of todo) {
        const m = after.manifests.get(d)
        if (m === undefined) entries.delete(d)
        else entries.set(d, m)
      }
      yield* writeCheckpoint(entries)
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
 * The staleness test again on `dates` only: their raw folders listed again (the rest of the
 * listing `listed` kept), their manifests read again. O(dates), not O(history).
 */
const recheck = (
  listed: ReadonlyArray<{ readonly key: string; readonly etag: string }>,
  dates: ReadonlyArray<RefDate>
) =>
  Effect.gen(function*() {
    const wanted = new Set<string>(dates)
    const [fresh, manifests] = yield* Effect.all([
      Effect.forEach(dates, (d) => listRaw(rawDatePrefix(d)), { concurrency: 8 }),
      Effect.forEach(dates, (d) => Effect.flatMap(listManifests(manifestKey(d)), readListed), { concurrency: 8 })
    ], { concurrency: 2 })
    const kept = listed.filter((info) => {
      const p = parseRawParquetKey(info.key)
      return p === undefined || !wanted.has(p.refDate)
    })
    const raw = rawStateOf([...kept, ...fresh.flat()])
    const byDate = new Map<RefDate, CheckpointEntry>()
    const unreadable = new Set<RefDate>()
    for (const [refDate, info, manifest] of manifests.flat()) {
      if (manifest === undefined) unreadable.add(refDate)
      else byDate.set(refDate, { etag: info.etag, manifest: stateOfManifest(manifest) })
    }
    const stale: Array<StaleDate> = []
    for (const refDate of dates) {
      const entry = byDate.get(refDate)
      const reason = staleness(raw, refDate, entry?.manifest ?? (unreadable.has(refDate) ? null : undefined))
      if (reason !== undefined) stale.push({ refDate, reason })
    }
    return { stale, manifests: byDate }
  })

/**
 * The daily path: the staleness test and refine of the `dates` changed (from a journal of raw
 * writes, such as the local adapter's `RawJournal`) and of the dates they imply, in O(changed dates)
 * reads, not O(history): it lists the raw folders of those dates and their successors only, and
 * takes every other date's raw objects from the manifest checkpoint (the raw objects each refine
 * read). So it is exact when every raw change since the last reconcile is in `dates`; a change made
 * outside the journal is found by a full `reconcile` (`b3 status`, `b3 refine`).
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
  }
): Effect.Effect<Option.Option<ReconcileResult>, RefineJobError, ObjectStore | RefineJob> =>
  Effect.gen(function*() {
    const cached = yield* readCheckpoint
    if (Option.isNone(cached)) return Option.none()
    const entries = new Map(Object.entries(cached.value.entries) as Array<[RefDate, CheckpointEntry]>)
    const force = new Set(options.force ?? [])
    const changed = new Set<RefDate>([...options.dates, ...force])
    const scanned = new Map<RefDate, Scan>()
    const scanAll = (dates: Iterable<RefDate>) =>
      Effect.forEach([...dates].filter((d) => !scanned.has(d)), (d) =>
        Effect.map(scanDate(d), (s) => {
          scanned.set(d, s)
        }), { concurrency: 8, discard: true }).pipe(Effect.mapError(readFailure("reconcile")))
    // The raw table as the refines committed it, with the scanned dates as they are now.
    const state = () => {
      const infos: Array<{ readonly key: string; readonly etag: string }> = []
      for (const [d, entry] of entries) {
        if (scanned.has(d)) continue
        for (const i of entry.manifest.inputs) infos.push({ key: i.key, etag: i.etag ?? "" })
      }
      for (const s of scanned.values()) infos.push(...s.raw)
      return { infos, raw: rawStateOf(infos) }
    }
    yield* scanAll(changed)
    // the successors of every index a changed date had or has (their previous snapshot may change)
    const { raw: first } = state()
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
    const { infos, raw } = state()
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
    if (todo.length === 0) {
      if (dirty) yield* writeCheckpoint(entries)
      return Option.some({ found, runs, stillStale: [] })
    }
    const again = yield* recheck(infos, todo).pipe(Effect.mapError(readFailure("reconcile")))
    for (const d of todo) {
      const m = again.manifests.get(d)
      if (m === undefined) entries.delete(d)
      else entries.set(d, m)
    }
    yield* writeCheckpoint(entries)
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
    Effect.all([listRaw(rawDatePrefix(refDate)), Effect.flatMap(listManifests(manifestKey(refDate)), readListed)], {
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
