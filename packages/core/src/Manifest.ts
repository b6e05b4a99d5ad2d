/**
 * What the refine of a date reads and commits, as data: the raw table seen as versioned objects
 * (`RawState`), a date's plan (its raw objects and each index's previous raw date), and the refine
 * manifest that commits a refined date (written last, atomically), with the checkpoint that caches
 * every manifest in one object. `Trigger` decides from these which dates are stale and refines them;
 * every `RefineJob` backend commits a date by writing its manifest here. Kept apart from `Trigger`
 * so that the refine jobs and the trigger both import it, and neither imports the other.
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
import type { IndexCode, RefDate } from "./Domain.js"
import { lastBelow, lowerBound } from "./internal/sorted.js"
import type { ListedObject, ObjectKey, ObjectStoreError } from "./ObjectStore.js"
import { ObjectStore, unsafeKey } from "./ObjectStore.js"
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

/** Every object under `prefix` (the raw table, a date's folder, the manifests, the checkpoint), keys and etags. */
/** @internal */
export const listObjects = (
  prefix: string
): Effect.Effect<ReadonlyArray<ListedObject>, ObjectStoreError, ObjectStore> =>
  Effect.flatMap(ObjectStore, (store) => Stream.runCollect(store.list(prefix))).pipe(Effect.map(Chunk.toReadonlyArray))

/** The prefix of one date's raw objects. */
/** @internal */
export const rawDatePrefix = (refDate: RefDate): string => `${RAW_PREFIX}ref_date=${refDate}/`

/**
 * Lists the raw table once: keys and version identities (`etag`) come with the listing, so no
 * object is read or HEADed (one ListObjectsV2 page per 1,000 objects on S3, a stat per file locally).
 *
 * @category raw
 */
export const readRawState: Effect.Effect<RawState, ObjectStoreError, ObjectStore> = Effect.map(
  listObjects(RAW_PREFIX),
  rawStateOf
).pipe(Effect.withSpan("Trigger.readRawState"))

/**
 * `raw` with the objects of `dates` replaced by those of `infos` (a listing of those dates' folders;
 * keys of other dates are ignored): the state `rawStateOf` gives for the whole listing with those
 * dates swapped, in O(dates x indices) instead of O(history). `raw` is not changed; the lists of the
 * indices not touched are shared with it. The daily path's staleness test, refine plans and re-check
 * build their states this way, so a day costs the same at any history (a property test holds this
 * equal to `rawStateOf`).
 *
 * @category raw
 */
export const replaceDates = (
  raw: RawState,
  dates: Iterable<RefDate>,
  infos: Iterable<{ readonly key: string; readonly etag: string }>
): RawState => {
  const fresh = rawStateOf(infos)
  const byDate = new Map(raw.byDate)
  const byIndex = new Map(raw.byIndex)
  const copied = new Map<IndexCode, Array<RefDate>>()
  const datesOf = (code: IndexCode): Array<RefDate> => {
    let list = copied.get(code)
    if (list === undefined) {
      list = [...(byIndex.get(code) ?? [])]
      copied.set(code, list)
      byIndex.set(code, list)
    }
    return list
  }
  for (const d of new Set(dates)) {
    for (const input of raw.byDate.get(d) ?? []) {
      const list = datesOf(input.indexCode)
      const at = lowerBound(list, d)
      if (list[at] === d) list.splice(at, 1)
    }
    byDate.delete(d)
    const inputs = fresh.byDate.get(d)
    if (inputs === undefined) continue
    byDate.set(d, inputs)
    for (const input of inputs) {
      const list = datesOf(input.indexCode)
      const at = lowerBound(list, d)
      if (list[at] !== d) list.splice(at, 0, d)
    }
  }
  for (const [code, list] of copied) if (list.length === 0) byIndex.delete(code)
  return { byDate, byIndex }
}

/** @internal */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Smallest date of the ascending `dates` strictly after `d`. */
/** @internal */
export const after = (dates: ReadonlyArray<RefDate>, d: RefDate): RefDate | null => {
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
/** @internal */
export const readListed = (infos: ReadonlyArray<readonly [RefDate, ListedObject]>) =>
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
/** @internal */
export const listManifests = (prefix: string) =>
  Effect.map(
    listObjects(prefix),
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
 * checkpoint of its commit log), plus a log of small deltas after it (`CHECKPOINT_LOG_PREFIX`). It
 * is a cache, never the truth: the per-date manifests stay the commit points. A reader lists the
 * manifests (keys and etags, no bytes), takes from the checkpoint each manifest whose etag matches,
 * and reads only the others (those committed since the checkpoint was written: a day's). A missing,
 * unreadable or out-of-date checkpoint costs reads, never a wrong answer.
 * `reconcile({ checkpoint: true })` rewrites it whole when it disagreed or after it refined dates;
 * the daily path (`Trigger.reconcileDates`) appends a delta instead. Both live outside
 * `_manifests/b3_portfolio_refined/`.
 *
 * @category manifests
 */
export const CHECKPOINT_KEY: ObjectKey = unsafeKey(`_manifests/_checkpoint/${REFINED_TABLE}.json`)

/**
 * The checkpoint's log: `_manifests/_checkpoint/b3_portfolio_refined_log/NNNNNNNN.json`, one delta
 * per daily commit (the entries of the dates it refined or found changed), numbered from 1 and
 * never reused. A base (version 2) covers the deltas up to its `upTo`; a reader applies the ones
 * after it, in order, and takes the checkpoint as unreadable when one is missing or unreadable. So
 * a daily commit writes a day's entries (a few KB) instead of the whole checkpoint (~1.5 MB at a
 * year); every `CHECKPOINT_FOLD_EVERY` deltas, the commit writes a new base and removes the deltas
 * it covers. A crash between the two leaves deltas the base already covers: they are skipped.
 *
 * @category manifests
 */
export const CHECKPOINT_LOG_PREFIX = `_manifests/_checkpoint/${REFINED_TABLE}_log/`

/** How many deltas follow a base before the next commit folds them into a new one. @category manifests */
export const CHECKPOINT_FOLD_EVERY = 32

const CHECKPOINT_PREFIX = "_manifests/_checkpoint/"

const deltaKey = (seq: number): ObjectKey => unsafeKey(`${CHECKPOINT_LOG_PREFIX}${String(seq).padStart(8, "0")}.json`)

const seqOf = (key: string): number | undefined => {
  if (!key.startsWith(CHECKPOINT_LOG_PREFIX)) return undefined
  const m = /^(\d{8})\.json$/.exec(key.slice(CHECKPOINT_LOG_PREFIX.length))
  return m === null ? undefined : Number(m[1])
}

const CheckpointEntrySchema = Schema.Struct({ etag: Schema.String, manifest: ManifestState })

/** @category manifests */
export const ManifestCheckpoint = Schema.Struct({
  /** 1: a base without a log (written before the log existed: its readers ignore any delta); 2: with one. */
  version: Schema.Literal(1, 2),
  /** Version 2: the last delta this base already holds (0 when none); the deltas after it apply. */
  upTo: Schema.optional(Schema.Int),
  /** date -> the manifest and the etag of the stored version it was read from. */
  entries: Schema.Record({ key: Schema.String, value: CheckpointEntrySchema })
})
/** @category manifests */
export type ManifestCheckpoint = typeof ManifestCheckpoint.Type
/** @internal */
export type CheckpointEntry = ManifestCheckpoint["entries"][string]

/** One delta of the checkpoint's log. @category manifests */
export const CheckpointDelta = Schema.Struct({
  version: Schema.Literal(2),
  seq: Schema.Int,
  /** date -> its entry as of this commit, `null` when the date's manifest was removed. */
  entries: Schema.Record({ key: Schema.String, value: Schema.NullOr(CheckpointEntrySchema) })
})
/** @category manifests */
export type CheckpointDelta = typeof CheckpointDelta.Type

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isString = (u: unknown): u is string => typeof u === "string"
const isInput = (u: unknown): boolean =>
  isObject(u) && isString(u["indexCode"]) && isString(u["key"]) &&
  (u["etag"] === undefined || isString(u["etag"])) && (u["sha256"] === undefined || isString(u["sha256"]))
const isState = (u: unknown): boolean => {
  if (
    !isObject(u) || u["version"] !== 1 || !isString(u["refDate"]) || typeof u["rows"] !== "number" ||
    !isString(u["runId"]) || !isString(u["committedAt"]) || !Array.isArray(u["inputs"]) || !isObject(u["previous"])
  ) return false
  for (const input of u["inputs"]) if (!isInput(input)) return false
  for (const value of Object.values(u["previous"])) if (value !== null && !isString(value)) return false
  return true
}
const isEntry = (u: unknown): boolean => isObject(u) && isString(u["etag"]) && isState(u["manifest"])

/**
 * Is `u` a `ManifestCheckpoint`? The same answer as `Schema.is(ManifestCheckpoint)` (a property test
 * holds them together), in plain loops: the checkpoint holds every refined date's inputs (~1.5 MB,
 * 9,000 inputs at a year), and the daily path reads it once per run, where the Schema walk cost
 * 10-30 ms at a year.
 *
 * @internal
 */
export const isCheckpoint = (u: unknown): u is ManifestCheckpoint => {
  if (!isObject(u) || (u["version"] !== 1 && u["version"] !== 2) || !isObject(u["entries"])) return false
  if (u["upTo"] !== undefined && !Number.isSafeInteger(u["upTo"])) return false
  for (const entry of Object.values(u["entries"])) if (!isEntry(entry)) return false
  return true
}

/** Is `u` a `CheckpointDelta`? `Schema.is(CheckpointDelta)` in plain loops, like `isCheckpoint`. @internal */
export const isCheckpointDelta = (u: unknown): u is CheckpointDelta => {
  if (!isObject(u) || u["version"] !== 2 || !Number.isSafeInteger(u["seq"]) || !isObject(u["entries"])) return false
  for (const entry of Object.values(u["entries"])) if (entry !== null && !isEntry(entry)) return false
  return true
}

/** `bytes` as JSON checked by `is`, or `None`. */
const decodeJson = <A>(bytes: Uint8Array, is: (u: unknown) => u is A): Option.Option<A> => {
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes))
    return is(parsed) ? Option.some(parsed) : Option.none()
  } catch {
    return Option.none()
  }
}

/** The checkpoint as read: its base with the log's deltas applied. @internal */
export interface StoredCheckpoint {
  readonly entries: ReadonlyMap<RefDate, CheckpointEntry>
  /** The base's `upTo`; `undefined` for a version 1 base (the next commit writes a new base). */
  readonly upTo: number | undefined
  /** How many deltas were applied on top of the base. */
  readonly deltas: number
  /** The number the next delta takes (above every delta listed). */
  readonly nextSeq: number
  /** The base's and the log's keys and etags as listed (`checkpointListing`): equal while nothing was rewritten. */
  readonly listing: string
}

const listingOf = (infos: ReadonlyArray<ListedObject>): string =>
  infos.map((i) => `${i.key}=${i.etag}`).sort().join("\n")

const listCheckpoint = listObjects(CHECKPOINT_PREFIX)

/** The numbers of the log's deltas in a listing of the checkpoint, ascending. */
const loggedSeqs = (listed: ReadonlyArray<ListedObject>): Array<number> =>
  listed.flatMap((info) => {
    const seq = seqOf(info.key)
    return seq === undefined ? [] : [seq]
  }).sort((a, b) => a - b)

/**
 * The checkpoint's base and log as listed (keys and etags, no bytes): what a cache of the checkpoint
 * compares with the `listing` it read or wrote. `undefined` when the listing fails.
 *
 * @internal
 */
export const checkpointListing: Effect.Effect<string | undefined, never, ObjectStore> = listCheckpoint.pipe(
  Effect.map(listingOf),
  Effect.orElseSucceed(() => undefined)
)

/**
 * The checkpoint: its base, then each delta after the base's `upTo` in order. `None` when the base
 * is absent, unreadable or not decodable, or a delta it needs is missing or unreadable (then every
 * manifest is read, and the next commit writes a new base).
 *
 * @internal
 */
export const readCheckpoint: Effect.Effect<Option.Option<StoredCheckpoint>, never, ObjectStore> = Effect.gen(
  function*() {
    const store = yield* ObjectStore
    const listed = yield* listCheckpoint
    if (!listed.some((info) => info.key === CHECKPOINT_KEY)) return Option.none()
    const base = Option.flatMap(yield* store.get(CHECKPOINT_KEY), (bytes) => decodeJson(bytes, isCheckpoint))
    if (Option.isNone(base)) return Option.none()
    const entries = new Map(Object.entries(base.value.entries) as Array<[RefDate, CheckpointEntry]>)
    const logged = loggedSeqs(listed)
    const upTo = base.value.version === 2 ? base.value.upTo ?? 0 : undefined
    let deltas = 0
    if (upTo !== undefined) {
      for (const seq of logged) {
        if (seq <= upTo) continue
        // deltas apply in an unbroken run after the base
        if (seq !== upTo + deltas + 1) return Option.none()
        const delta = Option.flatMap(yield* store.get(deltaKey(seq)), (bytes) => decodeJson(bytes, isCheckpointDelta))
        if (Option.isNone(delta) || delta.value.seq !== seq) return Option.none()
        for (const [d, entry] of Object.entries(delta.value.entries)) {
          if (entry === null) entries.delete(d as RefDate)
          else entries.set(d as RefDate, entry)
        }
        deltas++
      }
    }
    const nextSeq = Math.max(upTo ?? 0, logged.at(-1) ?? 0) + 1
    return Option.some({ entries, upTo, deltas, nextSeq, listing: listingOf(listed) })
  }
).pipe(Effect.orElseSucceed(() => Option.none<StoredCheckpoint>()))

const putJson = (key: ObjectKey, value: unknown) =>
  Effect.flatMap(
    ObjectStore,
    (store) => store.put(key, encoder.encode(JSON.stringify(value)), { contentType: "application/json" })
  )

/**
 * Writes the whole checkpoint as a new base (entries in date order) covering every delta listed
 * and `after`, then removes those deltas. Returns the checkpoint as now stored. A failed write is
 * ignored (`None`): the checkpoint is a cache, and the next reader reads the manifests it lacks.
 *
 * @internal
 */
export const writeCheckpoint = (
  entries: ReadonlyMap<RefDate, CheckpointEntry>,
  after = 0
): Effect.Effect<Option.Option<StoredCheckpoint>, never, ObjectStore> =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const logged = loggedSeqs(yield* listCheckpoint)
    const upTo = Math.max(after, ...logged)
    const sorted: Record<string, CheckpointEntry> = {}
    for (const d of [...entries.keys()].sort()) {
      const entry = entries.get(d)
      if (entry !== undefined) sorted[d] = entry
    }
    yield* putJson(CHECKPOINT_KEY, { version: 2, upTo, entries: sorted } satisfies ManifestCheckpoint)
    // the deltas the base covers: a crash before their removal leaves them, skipped by every reader
    yield* Effect.forEach(logged, (seq) => Effect.ignore(store.delete(deltaKey(seq))), {
      concurrency: 8,
      discard: true
    })
    const listing = yield* listCheckpoint
    return Option.some<StoredCheckpoint>({
      entries,
      upTo,
      deltas: 0,
      nextSeq: upTo + 1,
      listing: listingOf(listing)
    })
  }).pipe(
    Effect.orElseSucceed(() => Option.none<StoredCheckpoint>()),
    Effect.withSpan("Trigger.writeCheckpoint")
  )

/**
 * Commits `entries` (the checkpoint `stored` with the entries of `dates` changed) as one delta of
 * the log, or as a new base when `stored` has no log (version 1), has `CHECKPOINT_FOLD_EVERY` deltas
 * already, or `dates` are most of the entries (a backfill). O(dates) but for the fold, once every `CHECKPOINT_FOLD_EVERY` commits. Returns the
 * checkpoint as now stored; `None` when the write failed (ignored, as in `writeCheckpoint`).
 *
 * @internal
 */
export const appendCheckpoint = (
  stored: StoredCheckpoint,
  entries: ReadonlyMap<RefDate, CheckpointEntry>,
  dates: Iterable<RefDate>
): Effect.Effect<Option.Option<StoredCheckpoint>, never, ObjectStore> => {
  const changed = [...new Set(dates)].sort()
  // a commit of most of the history (a backfill) is a base already
  if (stored.upTo === undefined || stored.deltas >= CHECKPOINT_FOLD_EVERY || changed.length * 2 > entries.size) {
    return writeCheckpoint(entries, stored.nextSeq - 1)
  }
  const changes: Record<string, CheckpointEntry | null> = {}
  for (const d of changed) changes[d] = entries.get(d) ?? null
  const seq = stored.nextSeq
  const key = deltaKey(seq)
  return putJson(key, { version: 2, seq, entries: changes } satisfies CheckpointDelta).pipe(
    Effect.map((put) =>
      Option.some<StoredCheckpoint>({
        entries,
        upTo: stored.upTo,
        deltas: stored.deltas + 1,
        nextSeq: seq + 1,
        listing: [...stored.listing.split("\n").filter((line) => line !== ""), `${key}=${put.etag}`].sort().join("\n")
      })
    ),
    Effect.orElseSucceed(() => Option.none<StoredCheckpoint>()),
    Effect.withSpan("Trigger.appendCheckpoint")
  )
}

/** The manifests read through the checkpoint, and the checkpoint's entries as they should now be. */
/** @internal */
export interface CheckpointedManifests {
  readonly manifests: Map<RefDate, ManifestState | undefined>
  readonly entries: Map<RefDate, CheckpointEntry>
  /** True when `entries` differ from the stored checkpoint (it should be rewritten). */
  readonly changed: boolean
  /** The number of the last delta read (the new base covers it). */
  readonly after: number
}

/** Every manifest, through the checkpoint: one listing, one checkpoint read, and a read per manifest it lacks. */
/** @internal */
export const readManifestsCheckpointed: Effect.Effect<CheckpointedManifests, ObjectStoreError, ObjectStore> = Effect
  .gen(
    function*() {
      const [listed, cached] = yield* Effect.all([listManifests(MANIFEST_PREFIX), readCheckpoint], {
        concurrency: 2
      })
      const stored: ReadonlyMap<RefDate, CheckpointEntry> = Option.match(cached, {
        onNone: () => new Map(),
        onSome: (c) => c.entries
      })
      const manifests = new Map<RefDate, ManifestState | undefined>()
      const entries = new Map<RefDate, CheckpointEntry>()
      const missing: Array<readonly [RefDate, ListedObject]> = []
      for (const [refDate, info] of listed) {
        const hit = stored.get(refDate)
        if (hit !== undefined && hit.etag === info.etag) {
          manifests.set(refDate, hit.manifest)
          entries.set(refDate, hit)
        } else {
          missing.push([refDate, info])
        }
      }
      // a version 1 base or a log is rewritten as one new base
      let changed = Option.isNone(cached) || stored.size !== entries.size || cached.value.upTo === undefined ||
        cached.value.deltas > 0
      for (const [refDate, info, manifest] of yield* readListed(missing)) {
        manifests.set(refDate, manifest)
        if (manifest !== undefined) {
          entries.set(refDate, { etag: info.etag, manifest: stateOfManifest(manifest) })
          changed = true
        }
      }
      const after = Option.match(cached, { onNone: () => 0, onSome: (c) => c.nextSeq - 1 })
      return { manifests, entries, changed, after }
    }
  ).pipe(Effect.withSpan("Trigger.readManifestsCheckpointed"))
