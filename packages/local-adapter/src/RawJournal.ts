/**
 * The raw-change journal of a warehouse folder: which raw dates were written or removed since the
 * trigger last refined them, kept in the warehouse itself so that the daily flush can refine those
 * dates without listing the whole raw table (O(day), not O(history)).
 *
 * `layer` wraps the warehouse's `ObjectStore`: before a raw Parquet object is written or removed,
 * a marker `_manifests/_journal/b3_portfolio_raw/ref_date=D_index_code=X.json` is written (intent
 * first: a process killed between the marker and the raw write leaves a marker for an unchanged
 * date, which the next flush finds fresh; never a raw change without its marker). Every writer
 * through this layer shares the journal (it is in the warehouse, not in the process), so a change
 * made by a process that crashed or whose refine failed is refined by the next flush of any process.
 * `LocalTrigger` reads the markers (`pending`), refines, and removes the markers it read once their
 * dates are fresh (`clear`). Raw files changed behind the store's back are not journaled: `b3
 * status` and `b3 refine` (a full reconcile) find those.
 *
 * @since 0.1.0
 */
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import type { ObjectKey, ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { parseRawParquetKey } from "@b3-pipeline/core/Tables"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { JOURNAL_PREFIX, parseMarkerKey } from "./ServingLayout.js"

/** The journal's folder and marker names live in `ServingLayout` (the query engine reads them). @category constants */
export { JOURNAL_PREFIX, parseMarkerKey } from "./ServingLayout.js"

/** The marker of a raw change of `(refDate, indexCode)` (one flat folder: no empty folders left behind). @category constants */
export const markerKey = (refDate: RefDate, indexCode: IndexCode): ObjectKey =>
  unsafeKey(`${JOURNAL_PREFIX}ref_date=${refDate}_index_code=${indexCode}.json`)

/** The journal's markers now. @category models */
export interface Pending {
  /** The dates with a marker, ascending. */
  readonly dates: ReadonlyArray<RefDate>
  /** The markers read (what `clear` removes once their dates are fresh). */
  readonly markers: ReadonlyArray<{ readonly key: ObjectKey; readonly etag: string }>
}

/** @category tags */
export class RawJournal extends Context.Tag("@b3-pipeline/local-adapter/RawJournal")<RawJournal, {
  /** The markers and their dates (one listing of the journal: O(changes), not O(history)). */
  readonly pending: Effect.Effect<Pending, ObjectStoreError>
  /**
   * Removes the markers of `pending` whose version is still the one read (a marker rewritten since
   * stands for a newer change and stays).
   */
  readonly clear: (pending: Pending) => Effect.Effect<void, ObjectStoreError>
}>() {}

const encoder = new TextEncoder()

/**
 * The journal over `inner`, and `inner` wrapped so that raw writes and removals are journaled.
 *
 * @category constructors
 */
export const make = (inner: Context.Tag.Service<typeof ObjectStore>) => {
  const mark = (key: string) => {
    const raw = parseRawParquetKey(key)
    if (raw === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (ms) => {
      // the marker's bytes differ per change, so a rewritten marker has a new etag
      const at = new Date(ms).toISOString()
      const body = encoder.encode(`${JSON.stringify({ key, at, nonce: randomUUID() })}\n`)
      return Effect.asVoid(inner.put(markerKey(raw.refDate, raw.indexCode), body, { contentType: "application/json" }))
    })
  }
  const store = ObjectStore.of({
    ...inner,
    put: (key, body, options) => Effect.zipRight(mark(key), inner.put(key, body, options)),
    delete: (key) => Effect.zipRight(mark(key), inner.delete(key))
  })
  const pending: Effect.Effect<Pending, ObjectStoreError> = Effect.map(
    Stream.runCollect(inner.list(JOURNAL_PREFIX)),
    (infos) => {
      const dates = new Set<RefDate>()
      const markers: Array<{ key: ObjectKey; etag: string }> = []
      for (const info of Chunk.toReadonlyArray(infos)) {
        const refDate = parseMarkerKey(info.key)
        if (refDate === undefined) continue
        dates.add(refDate)
        markers.push({ key: info.key, etag: info.etag })
      }
      return { dates: [...dates].sort(), markers }
    }
  ).pipe(Effect.withSpan("RawJournal.pending"))
  const clear = (p: Pending): Effect.Effect<void, ObjectStoreError> =>
    Effect.gen(function*() {
      if (p.markers.length === 0) return
      const now = new Map<string, string>()
      for (const info of Chunk.toReadonlyArray(yield* Stream.runCollect(inner.list(JOURNAL_PREFIX)))) {
        now.set(info.key, info.etag)
      }
      yield* Effect.forEach(
        p.markers.filter((m) => now.get(m.key) === m.etag),
        (m) => inner.delete(m.key),
        { concurrency: 8, discard: true }
      )
    }).pipe(Effect.withSpan("RawJournal.clear"))
  return { store, journal: RawJournal.of({ pending, clear }) }
}

/**
 * Journals raw writes of the `ObjectStore` below it: provides the wrapped `ObjectStore` (use it for
 * every write) and the `RawJournal`.
 *
 * @category layers
 */
export const layer: Layer.Layer<ObjectStore | RawJournal, never, ObjectStore> = Layer.effectContext(
  Effect.map(ObjectStore, (inner) => {
    const { journal, store } = make(inner)
    return Context.make(ObjectStore, store).pipe(Context.add(RawJournal, journal))
  })
)
