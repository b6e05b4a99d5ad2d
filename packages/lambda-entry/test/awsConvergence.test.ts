/**
 * The AWS path under AWS's conditions, in process: raw writes (36 index codes, replacements,
 * backfills on a few dates) whose S3 events are delivered at least once, duplicated, reordered or
 * dropped, and Lambda invocations that time out (Lambda retries them), handled by the real
 * `onRawObjectCreated.handle` and `GlueRefineJob` against the Glue fake (one run at a time, queued;
 * each run lists raw when it starts and runs the TypeScript refine on exactly that). Then the
 * scheduled reconcile (`Trigger.reconcile` with the Glue job) and the queue drained.
 *
 * Property: the refined table equals the spec refine of the final raw (a fresh store with the same
 * raw objects, each date refined by core's TypeScript job); no two runs were ever active at once;
 * and during the event phase a date got at most 1 + (runs of that date that started listing)
 * starts: a burst with no run progressing starts one run per date, not one per index.
 */
import * as AwsClients from "@b3-pipeline/aws-adapter/AwsClients"
import * as GlueRefineJob from "@b3-pipeline/aws-adapter/GlueRefineJob"
import * as GlueFake from "@b3-pipeline/aws-adapter/testing/GlueFake"
import * as Catalog from "@b3-pipeline/core/Catalog"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { decodeRefinedParquet } from "@b3-pipeline/core/Refine"
import * as RefineJob from "@b3-pipeline/core/RefineJob"
import { payloadOf } from "@b3-pipeline/core/Testing"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import { handle } from "../src/onRawObjectCreated.js"

const BUCKET = "b3-lake"
const DATES = ["2025-04-07", "2025-04-08", "2025-04-09"] as unknown as ReadonlyArray<RefDate>

type Op =
  | { readonly _tag: "write"; readonly index: number; readonly date: number; readonly variant: number }
  | { readonly _tag: "deliver"; readonly pick: number; readonly duplicate: boolean }
  | { readonly _tag: "drop"; readonly pick: number }
  | { readonly _tag: "timeout"; readonly pick: number }
  | { readonly _tag: "step" }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("write" as const),
      index: fc.nat(35),
      date: fc.nat(2),
      variant: fc.nat(2)
    })
  },
  {
    weight: 5,
    arbitrary: fc.record({ _tag: fc.constant("deliver" as const), pick: fc.nat(), duplicate: fc.boolean() })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("drop" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("timeout" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ _tag: "step" as const }) }
)

/** The refined table of a store: key -> decoded rows (as JSON text, for a deep comparison). */
const refinedOf = (store: ObjectStore.ObjectStore["Type"]) =>
  Effect.gen(function*() {
    const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("refined/")))
    const out: Record<string, string> = {}
    for (const o of listed) {
      const bytes = Option.getOrThrow(yield* store.get(o.key))
      out[o.key] = JSON.stringify(decodeRefinedParquet(bytes), (_, v) => (typeof v === "bigint" ? v.toString() : v))
    }
    return out
  })

const portfolio = (index: number, date: number, variant: number) =>
  generatePortfolio({
    indexCode: ALL_INDEX_CODES[index]! as IndexCode,
    refDate: DATES[date]!,
    size: 4,
    seed: variant
  })

/** A store, its catalog, core's TypeScript refine on them, and the Glue fake running that refine. */
const world = Effect.gen(function*() {
  const store = yield* ObjectStore.makeMemory(BUCKET)
  const catalog = yield* Catalog.makeMemory()
  const job = yield* RefineJob.makeMemory.pipe(
    Effect.provideService(ObjectStore.ObjectStore, store),
    Effect.provideService(Catalog.Catalog, catalog)
  )
  const fake = GlueFake.makeGlueFake({ refine: { job, store } })
  const glue = yield* Layer.build(
    GlueRefineJob.layer({ jobName: "b3-refine", bucket: BUCKET }).pipe(
      Layer.provide(Layer.succeed(AwsClients.Glue, fake.client))
    )
  )
  const raw = yield* RawLayer.make.pipe(Effect.provideService(ObjectStore.ObjectStore, store))
  return { store, catalog, fake, glue, raw }
})

/** The spec: the same raw objects in a fresh store, every date refined by core's TypeScript job. */
const specRefine = (source: ObjectStore.ObjectStore["Type"]) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore.makeMemory(BUCKET)
    const catalog = yield* Catalog.makeMemory()
    for (const o of Chunk.toReadonlyArray(yield* Stream.runCollect(source.list("raw/b3_portfolio_raw/")))) {
      yield* store.put(o.key, Option.getOrThrow(yield* source.get(o.key)))
    }
    const job = yield* RefineJob.makeMemory.pipe(
      Effect.provideService(ObjectStore.ObjectStore, store),
      Effect.provideService(Catalog.Catalog, catalog)
    )
    const raw = yield* Trigger.readRawState.pipe(Effect.provideService(ObjectStore.ObjectStore, store))
    for (const d of [...raw.byDate.keys()].sort()) yield* job.start({ refDate: d })
    return yield* refinedOf(store)
  })

const scenario = (ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    const { fake, glue, raw, store } = yield* world
    const pending: Array<ObjectStore.S3EventRecord> = []
    const pick = (n: number) => pending.splice(n % pending.length, 1)[0]!
    const invoke = (record: ObjectStore.S3EventRecord) =>
      handle({ Records: [record] }, "req").pipe(Effect.provide(glue), Effect.ignore)
    for (const op of ops) {
      switch (op._tag) {
        case "write": {
          const p = portfolio(op.index, op.date, op.variant)
          const w = yield* raw.write(payloadOf(p), p)
          if (w.outcome !== "unchanged") {
            pending.push(ObjectStore.makeCreatedRecord(BUCKET, { key: w.parquetKey, size: 1, etag: "" }, new Date()))
          }
          break
        }
        case "deliver": {
          if (pending.length === 0) break
          const record = pick(op.pick)
          yield* invoke(record)
          if (op.duplicate) pending.push(record) // at least once: S3 may deliver it again
          break
        }
        case "drop": {
          if (pending.length > 0) pick(op.pick) // lost (or parked in the on-failure queue)
          break
        }
        case "timeout": {
          // the invocation ran (maybe started a run) but timed out: Lambda retries the event
          if (pending.length === 0) break
          const record = pick(op.pick)
          yield* invoke(record)
          pending.push(record)
          break
        }
        case "step":
          yield* fake.step
          break
      }
    }
    // Run bound of the event phase, before the reconcile adds its own runs.
    for (const [date, starts] of fake.startsByDate) {
      assert.isAtMost(starts, 1 + (fake.listingsByDate.get(date) ?? 0), `starts of ${date}`)
    }
    // The rest of the events may or may not arrive; Glue finishes what it has.
    yield* fake.drain
    // The scheduled reconcile: starts refines (Glue runs) for the stale dates; then the queue drains.
    const provided = <A, E>(e: Effect.Effect<A, E, ObjectStore.ObjectStore | RefineJob.RefineJob>) =>
      e.pipe(Effect.provide(glue), Effect.provideService(ObjectStore.ObjectStore, store))
    yield* provided(Trigger.reconcile())
    yield* fake.drain
    const after = yield* provided(Trigger.freshness)
    assert.deepStrictEqual(after.stale, [])
    assert.isAtMost(fake.maxActive(), 1)
    assert.deepStrictEqual(yield* refinedOf(store), yield* specRefine(store))
  }).pipe(Effect.scoped)

describe("AWS path: coalesced, serialized Glue runs + reconcile converge to the spec refine", () => {
  it.effect(
    "36 indices of one day in one burst: one run, reads all 36; a late replacement: one more run",
    () =>
      Effect.gen(function*() {
        const { fake, glue, raw, store } = yield* world
        const records: Array<ObjectStore.S3EventRecord> = []
        for (let i = 0; i < 36; i++) {
          const p = portfolio(i, 0, 0)
          const w = yield* raw.write(payloadOf(p), p)
          records.push(ObjectStore.makeCreatedRecord(BUCKET, { key: w.parquetKey, size: 1, etag: "" }, new Date()))
        }
        for (const r of records) yield* handle({ Records: [r] }, "req").pipe(Effect.provide(glue))
        assert.strictEqual(fake.startsByDate.get(DATES[0]!), 1)
        yield* fake.step // STARTING -> RUNNING: lists raw
        const p = portfolio(5, 0, 1)
        const w = yield* raw.write(payloadOf(p), p)
        const late = ObjectStore.makeCreatedRecord(BUCKET, { key: w.parquetKey, size: 1, etag: "" }, new Date())
        yield* handle({ Records: [late, late] }, "req").pipe(Effect.provide(glue))
        assert.strictEqual(fake.startsByDate.get(DATES[0]!), 2) // <= 2 per date per burst, not 36
        yield* fake.drain
        assert.strictEqual(fake.runs[0]!.plan!.inputs.length, 36)
        assert.isAtMost(fake.maxActive(), 1)
        const fresh = yield* Trigger.freshness.pipe(Effect.provideService(ObjectStore.ObjectStore, store))
        assert.deepStrictEqual(fresh.stale, [])
        const refined = yield* refinedOf(store)
        assert.isAbove(Object.keys(refined).length, 36) // tickers of 36 indices
        assert.deepStrictEqual(refined, yield* specRefine(store))
      }).pipe(Effect.scoped),
    { timeout: 120_000 }
  )

  it.effect(
    "any interleaving of writes, replacements, backfills, duplicated/reordered/dropped events, timeouts",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => Effect.runPromise(scenario(ops))),
          { numRuns: 25 }
        )
      ),
    { timeout: 600_000 }
  )
})
