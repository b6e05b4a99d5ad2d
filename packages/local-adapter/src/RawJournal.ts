/**
 * The raw-change journal of a warehouse folder: which raw dates were written or removed since the
 * trigger last refined them, kept in the warehouse itself so that the daily flush can refine those
 * dates without listing the whole raw table (O(day), not O(history)).
 *
 * `layer` wraps the warehouse's `ObjectStore`: before a raw Parquet object is written or removed,
 * its date's marker `_manifests/_journal/b3_portfolio_raw/ref_date=D.json` is written (intent
 * first: a process killed between the marker and the raw write leaves a marker for an unchanged
 * date, which the next flush finds fresh; never a raw change without its marker). One marker per
 * date, written once per date between two reads of the journal: the other writes of that date find
 * the marker this journal wrote still in place (one stat) and write none, so a backfill writes 250
 * markers a year instead of one per raw object (9,000). Raw writes and the journal's reads and
 * clears exclude each other within a process (a write holds a shared permit from its marker check
 * to the end of its raw write; `pending` and `clear` take them all), so no write can fall between
 * a read of the markers and their removal. Across processes, the CLI's writer lock does the same.
 * Markers of older versions (`ref_date=D_index_code=X.json`) are read and cleared too. Every writer
 * through this layer shares the journal (it is in the warehouse, not in the process), so a change
 * made by a process that crashed or whose refine failed is refined by the next flush of any process.
 * `LocalTrigger` reads the markers (`pending`), refines, and removes the markers it read once their
 * dates are fresh (`clear`). Raw files changed behind the store's back are not journaled: `b3
 * status` and `b3 refine` (a full reconcile) find those.
 *
 * @since 0.1.0
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import type { ObjectKey, ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { parseRawParquetKey } from "@b3-pipeline/core/Tables"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { JOURNAL_PREFIX, parseMarkerKey } from "./ServingLayout.js"

/** The journal's folder and marker names live in `ServingLayout` (the query engine reads them). @category constants */
export { JOURNAL_PREFIX, parseMarkerKey } from "./ServingLayout.js"

/** The marker of raw changes of `refDate` (one flat folder: no empty folders left behind). @category constants */
export const markerKey = (refDate: RefDate): ObjectKey => unsafeKey(`${JOURNAL_PREFIX}ref_date=${refDate}.json`)

/** Permits of the gate between raw writes (one each) and the journal's reads and clears (all). */
const GATE = 1 << 20

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
  const gate = Effect.unsafeMakeSemaphore(GATE)
  // marker key -> the etag of the marker this journal wrote since its last read of the journal
  const written = new Map<ObjectKey, string>()
  const mark = (key: string) =>
    Effect.gen(function*() {
      const raw = parseRawParquetKey(key)
      if (raw === undefined) return
      const marker = markerKey(raw.refDate)
      const ours = written.get(marker)
      // still the marker this journal wrote since the last read: it stands for this change too
      if (ours !== undefined && Option.exists(yield* inner.head(marker), (info) => info.etag === ours)) return
      // the marker's bytes differ per write, so a rewritten marker has a new etag
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      const body = encoder.encode(`${JSON.stringify({ key, at, nonce: randomUUID() })}\n`)
      const put = yield* inner.put(marker, body, { contentType: "application/json" })
      written.set(marker, put.etag)
    })
  const journaled = <A>(key: string, write: Effect.Effect<A, ObjectStoreError>) =>
    gate.withPermits(1)(Effect.zipRight(mark(key), write))
  const store = ObjectStore.of({
    ...inner,
    put: (key, body, options) => journaled(key, inner.put(key, body, options)),
    delete: (key) => journaled(key, inner.delete(key))
  })
  const pending: Effect.Effect<Pending, ObjectStoreError> = Effect.map(
    // a write after this read marks its date again, so that `clear` leaves its marker
    Effect.zipRight(Effect.sync(() => written.clear()), Stream.runCollect(inner.list(JOURNAL_PREFIX))),
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
  ).pipe(gate.withPermits(GATE), Effect.withSpan("RawJournal.pending"))
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
    }).pipe(gate.withPermits(GATE), Effect.withSpan("RawJournal.clear"))
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
