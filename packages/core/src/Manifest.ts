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
import { lastBelow } from "./internal/sorted.js"
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

/** The raw objects under `prefix` (the whole table, or one date's folder). */
/** @internal */
export const listRaw = (prefix: string): Effect.Effect<ReadonlyArray<ListedObject>, ObjectStoreError, ObjectStore> =>
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
  listRaw(RAW_PREFIX),
  rawStateOf
).pipe(Effect.withSpan("Trigger.readRawState"))

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
/** @internal */
export type CheckpointEntry = ManifestCheckpoint["entries"][string]

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

/**
 * Is `u` a `ManifestCheckpoint`? The same answer as `Schema.is(ManifestCheckpoint)` (a property test
 * holds them together), in plain loops: the checkpoint holds every refined date's inputs (~1.5 MB,
 * 9,000 inputs at a year), and the daily path reads it once per run, where the Schema walk cost
 * 10-30 ms at a year.
 *
 * @internal
 */
export const isCheckpoint = (u: unknown): u is ManifestCheckpoint => {
  if (!isObject(u) || u["version"] !== 1 || !isObject(u["entries"])) return false
  for (const entry of Object.values(u["entries"])) {
    if (!isObject(entry) || !isString(entry["etag"]) || !isState(entry["manifest"])) return false
  }
  return true
}

/** The checkpoint's bytes as a checkpoint, or `None` (not JSON, or not a checkpoint). */
const decodeCheckpoint = (bytes: Uint8Array): Option.Option<ManifestCheckpoint> => {
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes))
    return isCheckpoint(parsed) ? Option.some(parsed) : Option.none()
  } catch {
    return Option.none()
  }
}

/** The checkpoint, or `None` when absent, unreadable or not decodable (then every manifest is read). */
/** @internal */
export const readCheckpoint: Effect.Effect<Option.Option<ManifestCheckpoint>, never, ObjectStore> = Effect.flatMap(
  ObjectStore,
  (store) => store.get(CHECKPOINT_KEY)
).pipe(
  Effect.map(Option.flatMap(decodeCheckpoint)),
  Effect.orElseSucceed(() => Option.none<ManifestCheckpoint>())
)

/**
 * Writes the checkpoint (entries in date order). A failed write is ignored: the checkpoint is a
 * cache, and the next reader reads the manifests it lacks.
 */
/** @internal */
export const writeCheckpoint = (
  entries: ReadonlyMap<RefDate, CheckpointEntry>
): Effect.Effect<void, never, ObjectStore> =>
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
/** @internal */
export interface CheckpointedManifests {
  readonly manifests: Map<RefDate, ManifestState | undefined>
  readonly entries: Map<RefDate, CheckpointEntry>
  /** True when `entries` differ from the stored checkpoint (it should be rewritten). */
  readonly changed: boolean
}

/** Every manifest, through the checkpoint: one listing, one checkpoint read, and a read per manifest it lacks. */
/** @internal */
export const readManifestsCheckpointed: Effect.Effect<CheckpointedManifests, ObjectStoreError, ObjectStore> = Effect
  .gen(
    function*() {
      const [listed, cached] = yield* Effect.all([listManifests(MANIFEST_PREFIX), readCheckpoint], {
        concurrency: 2
      })
      const stored: ManifestCheckpoint["entries"] = Option.match(cached, {
        onNone: () => ({}),
        onSome: (c) => c.entries
      })
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
