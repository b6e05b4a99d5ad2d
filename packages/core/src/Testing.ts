/**
 * Every port wired to its in-memory backend, for tests, property tests and the `memory` adapter:
 * `Testing.layerMemory(source)`. The refine trigger is explicit and deterministic: the store's
 * object-created events are queued from the moment the layer is built, and `runTriggers` feeds
 * them to `Trigger.onRawObjects` (as S3 -> Lambda does on AWS) until none are left;
 * `Trigger.reconcile` then heals whatever events were lost.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as B3Encode from "./B3Encode.js"
import * as Catalog from "./Catalog.js"
import type { Language, Portfolio } from "./Domain.js"
import * as ObjectStore from "./ObjectStore.js"
import type * as PortfolioSource from "./PortfolioSource.js"
import * as QueryEngine from "./QueryEngine.js"
import * as RawLayer from "./RawLayer.js"
import * as RefineJob from "./RefineJob.js"
import * as Trigger from "./Trigger.js"

/**
 * The object-created events of the memory store not yet handed to the trigger.
 *
 * @category tags
 */
export class PendingEvents extends Context.Tag("@b3-pipeline/core/Testing/PendingEvents")<
  PendingEvents,
  Queue.Queue<ObjectStore.S3EventRecord>
>() {}

/**
 * A memory `ObjectStore` whose writes also queue their event in `PendingEvents` (synchronously, at
 * the write: no subscription race).
 *
 * @category layers
 */
export const layerStore: Layer.Layer<ObjectStore.ObjectStore | PendingEvents> = Layer.effectContext(
  Effect.gen(function*() {
    const inner = yield* ObjectStore.makeMemory()
    const pending = yield* Queue.unbounded<ObjectStore.S3EventRecord>()
    const store = ObjectStore.ObjectStore.of({
      ...inner,
      put: (key, body, options) =>
        inner.put(key, body, options).pipe(
          Effect.tap((result) =>
            result.written ?
              Effect.flatMap(
                Clock.currentTimeMillis,
                (ms) => Queue.offer(pending, ObjectStore.makeCreatedRecord(inner.bucket, result, new Date(ms)))
              ) :
              Effect.void
          )
        )
    })
    return Context.make(ObjectStore.ObjectStore, store).pipe(Context.add(PendingEvents, pending))
  })
)

/** Every port but the source, in memory. @category layers */
export type MemoryPorts =
  | ObjectStore.ObjectStore
  | Catalog.Catalog
  | RawLayer.RawLayer
  | RefineJob.RefineJob
  | QueryEngine.QueryEngine
  | PendingEvents

/**
 * Every port but the source, in memory (one fresh store and catalog per build).
 *
 * @category layers
 */
export const layerPorts: Layer.Layer<MemoryPorts> = Layer.mergeAll(
  RawLayer.layer,
  RefineJob.layerMemory,
  QueryEngine.layerMemory
).pipe(Layer.provideMerge(Layer.merge(layerStore, Catalog.layerMemory)))

/**
 * Every port in memory, with the caller's `PortfolioSource` (for example
 * `PortfolioSource.layerMemory(payloads)`).
 *
 * @category layers
 */
export const layerMemory = <E, R>(
  source: Layer.Layer<PortfolioSource.PortfolioSource, E, R>
): Layer.Layer<MemoryPorts | PortfolioSource.PortfolioSource, E, R> => Layer.merge(layerPorts, source)

/**
 * Hands the queued object-created events to the trigger (`Trigger.onRawObjects`: each batch's
 * implied dates, coalesced, one refine each), including the events the refine itself causes, until
 * the queue is empty. Returns the refine runs started.
 *
 * @category triggers
 */
export const runTriggers = Effect.gen(function*() {
  const pending = yield* PendingEvents
  const runs: Array<RefineJob.RefineRun> = []
  for (;;) {
    const batch = Chunk.toReadonlyArray(yield* Queue.takeAll(pending))
    if (batch.length === 0) return runs
    runs.push(...(yield* Trigger.onRawObjects(batch)))
  }
})

/**
 * Takes the queued events without running them (for tests of the trigger itself).
 *
 * @category triggers
 */
export const takePending: Effect.Effect<ReadonlyArray<ObjectStore.S3EventRecord>, never, PendingEvents> = Effect
  .flatMap(PendingEvents, (q) => Effect.map(Queue.takeAll(q), Chunk.toReadonlyArray))

/**
 * A portfolio as the `GetPortfolioDay` payload B3 would send for it (tests, benchmarks, demos): the
 * encoded pages with a plausible request record each.
 *
 * @category fixtures
 */
export const payloadOf = (
  p: Portfolio,
  options: {
    readonly language?: Language
    readonly fetchedAt?: string
    readonly origin?: string
    readonly pageSize?: number
  } = {}
): PortfolioSource.Payload => {
  const language = options.language ?? "pt-br"
  const fetchedAt = options.fetchedAt ?? `${p.refDate}T08:00:01.000Z`
  const pages = B3Encode.encodePortfolioDay(p, {
    language,
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {})
  })
  return {
    request: { indexCode: p.indexCode, method: "GetPortfolioDay", language, segment: p.segment },
    pages: pages.map((bytes, i) => ({
      bytes,
      request: {
        method: "GET",
        url: `simulated://GetPortfolioDay/${p.indexCode}/${i + 1}`,
        params: { index: p.indexCode, language, pageNumber: i + 1, segment: p.segment },
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        startedAt: fetchedAt,
        durationMs: 1,
        attempt: 1
      }
    })),
    fetchedAt,
    origin: options.origin ?? "simulated"
  }
}
