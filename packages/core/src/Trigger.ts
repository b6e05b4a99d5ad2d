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
export const rawStateOf = (infos: Iterable<Pick<ListedObject, "key" | "etag">>): RawState => {
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

/**
 * Lists the raw table once: keys and version identities (`etag`) come with the listing, so no
 * object is read or HEADed (one ListObjectsV2 page per 1,000 objects on S3, a stat per file locally).
 *
 * @category raw
 */
export const readRawState: Effect.Effect<RawState, ObjectStoreError, ObjectStore> = Effect.gen(function*() {
  const store = yield* ObjectStore
  return rawStateOf(Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(RAW_PREFIX))))
})

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Smallest date of the ascending `dates` strictly after `d`. */
const after = (dates: ReadonlyArray<RefDate>, d: RefDate): RefDate | null => {
  let lo = 0
  let hi = dates.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (dates[mid]! <= d) lo = mid + 1
    else hi = mid
  }
  return lo === dates.length ? null : dates[lo]!
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

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The manifest's bytes (pretty JSON, stable key order). @category manifests */
export const encodeManifest = (manifest: RefineManifest): Uint8Array =>
  encoder.encode(JSON.stringify(manifest, null, 2) + "\n")

const decodeManifestJson = Schema.decodeUnknownEither(Schema.parseJson(RefineManifest))

/** Reads a manifest's bytes; `Left` names what is wrong. @category manifests */
export const decodeManifest = (bytes: Uint8Array): Either.Either<RefineManifest, string> =>
  Either.mapLeft(decodeManifestJson(decoder.decode(bytes)), (e) => ParseResult.TreeFormatter.formatErrorSync(e))

/** The manifest a refine of `plan` commits. @category manifests */
export const manifestOf = (
  plan: RefinePlan,
  result: { readonly rows: number; readonly tickers: ReadonlyArray<string>; readonly runId: string },
  committedAt: Date = new Date()
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
  const store = yield* ObjectStore
  const infos = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(MANIFEST_PREFIX)))
  const out = new Map<RefDate, RefineManifest | undefined>()
  yield* Effect.forEach(infos, (info) => {
    const refDate = parseManifestKey(info.key)
    if (refDate === undefined) return Effect.void
    return Effect.map(store.get(info.key), (bytes) => {
      out.set(
        refDate,
        Option.isSome(bytes) ? Either.getOrUndefined(decodeManifest(bytes.value)) : undefined
      )
    })
  }, { concurrency: 16, discard: true })
  return out
})

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
) => a.length === b.length && a.every((x, i) => x.key === b[i]!.key && x.etag === b[i]!.etag)

/**
 * The staleness test of one date: `undefined` when its manifest matches what `raw` implies.
 * `manifest` is `undefined` for none, `null` for an unreadable one.
 *
 * @category staleness
 */
export const staleness = (
  raw: RawState,
  refDate: RefDate,
  manifest: RefineManifest | undefined | null
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
  manifests: ReadonlyMap<RefDate, RefineManifest | undefined>,
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
  readonly manifests: ReadonlyMap<RefDate, RefineManifest | undefined>
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
  options: { readonly catalog?: boolean } = {}
): Effect.Effect<Freshness, ObjectStoreError, ObjectStore> =>
  Effect.gen(function*() {
    const raw = yield* readRawState
    const manifests = yield* readManifests
    const catalogDates = options.catalog === true ?
      (yield* catalogRefinedDates).filter((d) => !raw.byDate.has(d) && !manifests.has(d)) :
      []
    return { raw, manifests, stale: staleDates(raw, manifests, catalogDates) }
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
   * in-process backend leaves none unless raw changed meanwhile.
   */
  readonly stillStale: ReadonlyArray<StaleDate>
}

/**
 * Refines exactly the stale dates (plus `force` / every date with `all`), ascending, each with its
 * plan, then runs the staleness test again. A date without raw data is refined too: the job clears
 * its refined data and manifest. The first failed refine fails the reconcile; the dates not reached
 * stay stale and the next reconcile takes them.
 *
 * @category reconcile
 */
export const reconcile = (
  options: ReconcileOptions = {}
): Effect.Effect<ReconcileResult, RefineJobError, ObjectStore | RefineJob> =>
  Effect.gen(function*() {
    const fresh = freshnessWith({ catalog: options.all === true || options.deep === true }).pipe(
      Effect.mapError(readFailure("reconcile"))
    )
    const before = yield* fresh
    const dates = new Set<RefDate>(before.stale.map((s) => s.refDate))
    if (options.all === true) { for (const d of before.raw.byDate.keys()) dates.add(d) }
    for (const d of options.force ?? []) dates.add(d)
    const todo = [...dates].sort()
    const runs: Array<RefineRun> = []
    let done = 0
    const job = yield* RefineJob
    if (job.startMany !== undefined && todo.length > 1) {
      // a backend that refines many dates in one pass (each date still commits its own manifest)
      runs.push(
        ...yield* job.startMany(
          todo.map((refDate) => ({ refDate, plan: planOf(before.raw, refDate) })),
          (run) => options.onDate?.(++done, todo.length, run.refDate)
        )
      )
    } else {
      for (const refDate of todo) {
        runs.push(yield* startDate(before.raw, refDate))
        options.onDate?.(++done, todo.length, refDate)
      }
    }
    const after = todo.length === 0 ? before : yield* fresh
    return { found: before.stale, runs, stillStale: after.stale }
  }).pipe(Effect.withSpan("Trigger.reconcile"))
