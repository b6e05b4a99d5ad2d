import * as Catalog from "@b3-pipeline/core/Catalog"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as Manifest from "@b3-pipeline/core/Manifest"
import type { ObjectKey, S3EventRecord } from "@b3-pipeline/core/ObjectStore"
import { makeCreatedRecord, ObjectStore, ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { decodeRawParquet, encodeRawParquet } from "@b3-pipeline/core/RawParquet"
import type { RawDate, RawRow, RefinedRow } from "@b3-pipeline/core/Refine"
import { decodeRefinedParquet, refine } from "@b3-pipeline/core/Refine"
import * as RefineJob from "@b3-pipeline/core/RefineJob"
import { parseRawParquetKey, RAW_PREFIX, rawParquetKey, REFINED_PREFIX } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FC from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

const d = (s: string) => s as RefDate
const i = (s: string) => s as IndexCode

const strs = (xs: ReadonlyArray<string>): Array<string> => [...xs]
const obj = (x: object): object => ({ ...x })
const stale = (xs: ReadonlyArray<Trigger.StaleDate>) =>
  xs.map((x) => ({ refDate: x.refDate as string, reason: x.reason }))

const stateOf = (pairs: ReadonlyArray<readonly [string, string, string?]>) =>
  Trigger.rawStateOf(pairs.map(([date, code, sha]) => ({ key: rawParquetKey(d(date), i(code)), etag: sha ?? "aa" })))

describe("Trigger rule", () => {
  const raw = stateOf([["2025-01-02", "IBOV"], ["2025-01-03", "IBOV"], ["2025-01-06", "IBOV"], [
    "2025-01-03",
    "SMLL"
  ]])

  it("a change implies its date, and the index's next date when there is one", () => {
    assert.deepStrictEqual(strs(Trigger.impliedDates({ refDate: d("2025-01-03"), indexCode: i("IBOV") }, raw)), [
      "2025-01-03",
      "2025-01-06"
    ])
    assert.deepStrictEqual(strs(Trigger.impliedDates({ refDate: d("2025-01-06"), indexCode: i("IBOV") }, raw)), [
      "2025-01-06"
    ])
    // SMLL has no later date: its own only; without a listing: its own only
    assert.deepStrictEqual(strs(Trigger.impliedDates({ refDate: d("2025-01-03"), indexCode: i("SMLL") }, raw)), [
      "2025-01-03"
    ])
    assert.deepStrictEqual(strs(Trigger.impliedDates({ refDate: d("2025-01-02"), indexCode: i("IBOV") })), [
      "2025-01-02"
    ])
  })

  it("coalesces many changes into one refine per date, ascending", () => {
    assert.deepStrictEqual(
      strs(Trigger.coalesce([
        { refDate: d("2025-01-03"), indexCode: i("SMLL") },
        { refDate: d("2025-01-02"), indexCode: i("IBOV") },
        { refDate: d("2025-01-03"), indexCode: i("IBOV") },
        { refDate: d("2025-01-02"), indexCode: i("IBOV") }
      ], raw)),
      ["2025-01-02", "2025-01-03", "2025-01-06"]
    )
  })

  it("plans a date with each index's previous raw date", () => {
    const plan = Trigger.planOf(raw, d("2025-01-06"))
    assert.deepStrictEqual(plan.inputs.map((x) => x.indexCode), ["IBOV"])
    assert.deepStrictEqual(obj(plan.previous), { IBOV: "2025-01-03" })
    assert.deepStrictEqual(obj(Trigger.planOf(raw, d("2025-01-03")).previous), { IBOV: "2025-01-02", SMLL: null })
  })

  it("the staleness test names why a date is stale", () => {
    const m = (refDate: string) =>
      Trigger.manifestOf(Trigger.planOf(raw, d(refDate)), { rows: 1, tickers: ["X"], runId: "r" }, new Date(0))
    const manifests = new Map<RefDate, Trigger.RefineManifest | undefined>([
      [d("2025-01-02"), m("2025-01-02")],
      [d("2025-01-03"), m("2025-01-03")],
      [d("2025-01-06"), m("2025-01-06")]
    ])
    assert.deepStrictEqual(stale(Trigger.staleDates(raw, manifests)), [])
    // a replaced raw object
    const replaced = stateOf([["2025-01-02", "IBOV"], ["2025-01-03", "IBOV", "bb"], ["2025-01-06", "IBOV"], [
      "2025-01-03",
      "SMLL"
    ]])
    assert.deepStrictEqual(stale(Trigger.staleDates(replaced, manifests)), [{
      refDate: "2025-01-03",
      reason: "RawChanged"
    }])
    // a backfill: 2025-01-05 is new, and the previous snapshot of 2025-01-06 changed
    const backfilled = stateOf([["2025-01-02", "IBOV"], ["2025-01-03", "IBOV"], ["2025-01-05", "IBOV"], [
      "2025-01-06",
      "IBOV"
    ], ["2025-01-03", "SMLL"]])
    assert.deepStrictEqual(stale(Trigger.staleDates(backfilled, manifests)), [
      { refDate: "2025-01-05", reason: "NotRefined" },
      { refDate: "2025-01-06", reason: "PreviousChanged" }
    ])
    // raw gone, manifest left; an unreadable manifest; refined partitions without either
    const gone = stateOf([["2025-01-02", "IBOV"], ["2025-01-03", "IBOV"], ["2025-01-03", "SMLL"]])
    const withBad = new Map(manifests).set(d("2025-01-03"), undefined)
    assert.deepStrictEqual(stale(Trigger.staleDates(gone, withBad, [d("2024-12-30")])), [
      { refDate: "2024-12-30", reason: "NoRawData" },
      { refDate: "2025-01-03", reason: "BadManifest" },
      { refDate: "2025-01-06", reason: "NoRawData" }
    ])
  })

  it("manifests round-trip through their JSON and keys", () => {
    const manifest = Trigger.manifestOf(Trigger.planOf(raw, d("2025-01-03")), {
      rows: 12,
      tickers: ["VALE3", "PETR4"],
      runId: "r1"
    }, new Date(0))
    const back = Trigger.decodeManifest(Trigger.encodeManifest(manifest))
    assert.deepStrictEqual(back._tag === "Right" ? back.right : back.left, { ...manifest, tickers: ["PETR4", "VALE3"] })
    assert.strictEqual(Trigger.parseManifestKey(Trigger.manifestKey(d("2025-01-03"))), "2025-01-03")
    assert.isFalse(Trigger.manifestKey(d("2025-01-03")).startsWith(RAW_PREFIX))
    assert.isFalse(Trigger.manifestKey(d("2025-01-03")).startsWith(REFINED_PREFIX))
    assert.strictEqual(Trigger.decodeManifest(new TextEncoder().encode("{\"version\":2}"))._tag, "Left")
  })
})

// ---------------------------------------------------------------------------------------------
// Convergence: any history of raw writes, events and interrupted refines, then reconcile
// ---------------------------------------------------------------------------------------------

const DATES = ["2025-04-28", "2025-04-29", "2025-04-30", "2025-05-02", "2025-05-05"] as const
const CODES = ["IBOV", "SMLL", "IDIV"] as const

/** One step of a history. */
type Step =
  | { readonly _tag: "Write"; readonly date: number; readonly code: number; readonly seed: number }
  | {
    readonly _tag: "Deliver"
    readonly take: number
    readonly drop: ReadonlyArray<boolean>
    readonly duplicate: ReadonlyArray<boolean>
    readonly reverse: boolean
  }
  | { readonly _tag: "Interrupted"; readonly date: number; readonly budget: number }

const step: FC.Arbitrary<Step> = FC.oneof(
  {
    arbitrary: FC.record({
      _tag: FC.constant("Write" as const),
      date: FC.nat(DATES.length - 1),
      code: FC.nat(CODES.length - 1),
      seed: FC.nat(2)
    }),
    weight: 5
  },
  {
    arbitrary: FC.record({
      _tag: FC.constant("Deliver" as const),
      take: FC.integer({ min: 1, max: 6 }),
      drop: FC.array(FC.boolean(), { maxLength: 6 }),
      duplicate: FC.array(FC.boolean(), { maxLength: 6 }),
      reverse: FC.boolean()
    }),
    weight: 2
  },
  {
    arbitrary: FC.record({
      _tag: FC.constant("Interrupted" as const),
      date: FC.nat(DATES.length - 1),
      budget: FC.nat(12)
    }),
    weight: 2
  }
)

const writeRaw = (date: string, code: string, seed: number) =>
  Effect.flatMap(ObjectStore, (store) => {
    const p = generatePortfolio({ indexCode: i(code), refDate: d(date), seed, size: 3 + seed })
    const bytes = encodeRawParquet(p, { payloadSha256: "0".repeat(64), fetchedAt: `${date}T08:00:00.000Z` })
    return store.put(rawParquetKey(d(date), i(code)), bytes)
  })

/** The refine job over a store and catalog whose writes fail once `budget` of them were made. */
const interruptedJob = (budget: number) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const catalog = yield* Catalog.Catalog
    let left = budget
    const spend = <A, E>(method: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E | ObjectStoreError> =>
      Effect.suspend((): Effect.Effect<A, E | ObjectStoreError> =>
        left-- <= 0 ?
          Effect.fail(new ObjectStoreError({ reason: "Unavailable", method, detail: "interrupted" })) :
          effect
      )
    const faultyStore = ObjectStore.of({
      ...store,
      put: (key, body, options) => spend("put", store.put(key, body, options)),
      delete: (key) => spend("delete", store.delete(key))
    })
    const faultyCatalog = Catalog.Catalog.of({
      ...catalog,
      upsertTable: (t) => spend("upsertTable", catalog.upsertTable(t)) as never,
      upsertPartitions: (t, ps) => spend("upsertPartitions", catalog.upsertPartitions(t, ps)) as never,
      dropPartitions: (t, vs) => spend("dropPartitions", catalog.dropPartitions(t, vs)) as never
    })
    return yield* RefineJob.makeMemory.pipe(
      Effect.provideService(ObjectStore, faultyStore),
      Effect.provideService(Catalog.Catalog, faultyCatalog)
    )
  })

/** The refined table as stored: every refined file, decoded, in the spec's order. */
const storedRefined = Effect.gen(function*() {
  const store = yield* ObjectStore
  const out: Array<RefinedRow> = []
  for (const info of Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(REFINED_PREFIX)))) {
    const m = /ref_date=([^/]+)\/ticker=([^/]+)\//.exec(info.key)!
    const bytes = Option.getOrThrow(yield* store.get(info.key))
    for (const r of decodeRefinedParquet(bytes)) out.push({ ...r, ref_date: d(m[1]!), ticker: m[2]! })
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return out.sort((a, b) => cmp(a.ref_date, b.ref_date) || cmp(a.ticker, b.ticker) || cmp(a.index_code, b.index_code))
})

/** What the spec says the refined table is, from the final raw table. */
const specRefined = Effect.gen(function*() {
  const store = yield* ObjectStore
  const rows: Array<RawRow> = []
  const dates: Array<RawDate> = []
  for (const info of Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(RAW_PREFIX)))) {
    const p = parseRawParquetKey(info.key)!
    dates.push(p)
    const bytes = Option.getOrThrow(yield* store.get(info.key))
    for (const r of decodeRawParquet(bytes)) rows.push({ ...r, ref_date: p.refDate, index_code: p.indexCode })
  }
  return refine(rows, dates)
})

const perturb = (events: ReadonlyArray<S3EventRecord>, s: Extract<Step, { _tag: "Deliver" }>) => {
  const out: Array<S3EventRecord> = []
  events.forEach((e, k) => {
    if (s.drop[k] === true) return
    out.push(e)
    if (s.duplicate[k] === true) out.push(e)
  })
  return s.reverse ? out.reverse() : out
}

describe("Trigger re-check after refining", () => {
  // After its refines, a reconcile reads the raw state and the manifests of the dates it refined
  // again: per date when they are few, in one listing of each when they are most of the history (a
  // backfill). Both must name a date whose raw data changed while it was being refined.
  const days = Array.from({ length: 12 }, (_, k) => `2025-06-${String(k + 2).padStart(2, "0")}`)
  const changedDuring = d(days[4]!)
  /** The memory job, which writes a new version of one date's raw object right after refining it once. */
  const racingJob = Effect.gen(function*() {
    const inner = yield* RefineJob.makeMemory
    const store = yield* ObjectStore
    let raced = false
    return RefineJob.RefineJob.of({
      ...inner,
      start: (request) =>
        Effect.tap(inner.start(request), () =>
          request.refDate === changedDuring && !raced ?
            Effect.zipRight(
              Effect.sync(() => (raced = true)),
              Effect.orDie(Effect.provideService(writeRaw(changedDuring, "IBOV", 99), ObjectStore, store))
            ) :
            Effect.void)
    })
  })

  for (const [name, before] of [["most of the history (one listing)", 0], ["a few dates (per date)", 9]] as const) {
    it.effect(`names the date whose raw changed during its refine: ${name}`, () =>
      Effect.gen(function*() {
        for (const [k, day] of days.entries()) if (k < before) yield* writeRaw(day, "IBOV", k)
        if (before > 0) assert.deepStrictEqual((yield* Trigger.reconcile()).stillStale, [])
        for (const [k, day] of days.entries()) {
          if (k >= before || day === changedDuring) yield* writeRaw(day, "IBOV", k + 20)
        }
        const job = yield* racingJob
        const result = yield* Trigger.reconcile().pipe(Effect.provideService(RefineJob.RefineJob, job))
        assert.deepStrictEqual(stale(result.stillStale), [{ refDate: changedDuring, reason: "RawChanged" }])
        // the dates refined, ascending, once each
        assert.deepStrictEqual(
          result.runs.map((r) => r.refDate as string),
          days.filter((day, k) => k >= before || day === changedDuring)
        )
        // the next reconcile takes it, and converges
        assert.deepStrictEqual((yield* Trigger.reconcile()).stillStale, [])
        assert.deepStrictEqual(yield* storedRefined, yield* specRefined)
      }).pipe(Effect.provide(Testing.layerPorts)))
  }
})

/**
 * A last daily reconcile leaves nothing stale and the refined table as the spec says; the full
 * staleness test agrees (nothing stale anywhere), and one more daily reconcile has nothing to do.
 */
const convergedDaily = <E, R>(daily: Effect.Effect<Trigger.ReconcileResult, E, R>) =>
  Effect.gen(function*() {
    const result = yield* daily
    assert.deepStrictEqual(result.stillStale, [])
    assert.deepStrictEqual(yield* storedRefined, yield* specRefined)
    assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
    assert.deepStrictEqual((yield* daily).runs, [])
  })

describe("Trigger convergence (memory backend)", () => {
  it.effect.prop(
    "after any writes, lost/duplicated/reordered events and interrupted refines, reconcile makes refined == spec",
    { steps: FC.array(step, { minLength: 1, maxLength: 14 }) },
    ({ steps }) =>
      Effect.gen(function*() {
        let backlog: Array<S3EventRecord> = []
        for (const s of steps) {
          if (s._tag === "Write") {
            yield* writeRaw(DATES[s.date]!, CODES[s.code]!, s.seed)
          } else if (s._tag === "Deliver") {
            backlog = [...backlog, ...(yield* Testing.takePending)]
            const now = backlog.slice(0, s.take)
            backlog = backlog.slice(s.take)
            yield* Trigger.onRawObjects(perturb(now, s)).pipe(
              Effect.catchTag("RefineJobError", (e) => e.reason === "NoRawData" ? Effect.succeed([]) : Effect.fail(e))
            )
          } else {
            const job = yield* interruptedJob(s.budget)
            const raw = yield* Trigger.readRawState
            const refDate = d(DATES[s.date]!)
            yield* Effect.ignore(job.start({ refDate, plan: Trigger.planOf(raw, refDate) }))
          }
        }
        const result = yield* Trigger.reconcile()
        assert.deepStrictEqual(result.stillStale, [])
        assert.deepStrictEqual(yield* storedRefined, yield* specRefined)
        // converged: a second reconcile finds nothing to do
        assert.deepStrictEqual((yield* Trigger.reconcile()).runs, [])
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect.prop(
    "the daily path (reconcileDates over a journal of written dates, manifest checkpoint) converges like reconcile",
    { steps: FC.array(step, { minLength: 1, maxLength: 14 }) },
    ({ steps }) =>
      Effect.gen(function*() {
        // the first reconcile writes the checkpoint; before it, the daily path declines
        assert.isTrue(Option.isNone(yield* Trigger.reconcileDates({ dates: [] })))
        yield* Trigger.reconcile({ checkpoint: true })
        // the journal: dates written and not yet refined by a daily reconcile that left nothing stale
        const journal = new Set<RefDate>()
        const daily = Effect.gen(function*() {
          const result = Option.getOrThrow(yield* Trigger.reconcileDates({ dates: journal }))
          if (result.stillStale.length === 0) journal.clear()
          return result
        })
        for (const s of steps) {
          if (s._tag === "Write") {
            yield* writeRaw(DATES[s.date]!, CODES[s.code]!, s.seed)
            journal.add(d(DATES[s.date]!))
          } else if (s._tag === "Deliver") {
            yield* daily
          } else {
            // a refine cut off inside a daily reconcile: that reconcile failed, so its journal stays
            const job = yield* interruptedJob(s.budget)
            const raw = yield* Trigger.readRawState
            const refDate = d(DATES[s.date]!)
            journal.add(refDate)
            yield* Effect.ignore(job.start({ refDate, plan: Trigger.planOf(raw, refDate) }))
          }
        }
        yield* convergedDaily(daily)
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect.prop(
    "the daily path with a checkpoint cache kept across calls stays exact while another writer refines in between",
    {
      steps: FC.array(
        FC.record({
          _tag: FC.constantFrom("Write", "Daily", "Other", "OtherDelete"),
          date: FC.nat(DATES.length - 1),
          code: FC.nat(CODES.length - 1),
          seed: FC.nat(2)
        }),
        { minLength: 1, maxLength: 16 }
      )
    },
    ({ steps }) =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        yield* Trigger.reconcile({ checkpoint: true })
        // this process: a journal and a cache that live across its daily reconciles
        const cache = Trigger.makeCheckpointCache()
        const journal = new Set<RefDate>()
        const daily = Effect.gen(function*() {
          const result = Option.getOrThrow(yield* Trigger.reconcileDates({ dates: journal, cache }))
          if (result.stillStale.length === 0) journal.clear()
          return result
        })
        for (const s of steps) {
          const date = DATES[s.date]!
          if (s._tag === "Write") {
            yield* writeRaw(date, CODES[s.code]!, s.seed)
            journal.add(d(date))
          } else if (s._tag === "Daily") {
            yield* daily
          } else {
            // another process: its raw change is not in this journal; its full reconcile refines it
            // and rewrites the checkpoint behind this process's cache
            if (s._tag === "Other") yield* writeRaw(date, CODES[s.code]!, s.seed)
            else yield* store.delete(rawParquetKey(d(date), i(CODES[s.code]!)))
            yield* Trigger.reconcile({ checkpoint: true })
          }
        }
        yield* convergedDaily(daily)
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("the manifest checkpoint is a cache: a manifest rewritten behind it is read again", () =>
    Effect.gen(function*() {
      yield* writeRaw("2025-04-28", "IBOV", 0)
      yield* writeRaw("2025-04-30", "IBOV", 0)
      yield* Trigger.reconcile({ checkpoint: true })
      const store = yield* ObjectStore
      assert.isTrue(Option.isSome(yield* store.get(Trigger.CHECKPOINT_KEY)))
      // a manifest replaced by one that no longer matches the raw table: stale, checkpoint or not
      const m = Option.getOrThrow(yield* Trigger.readManifest(d("2025-04-30")))
      yield* Trigger.commitManifest({ ...m, previous: { IBOV: "2025-04-01" } })
      const found = (yield* Trigger.reconcile({ checkpoint: true })).found
      assert.deepStrictEqual(stale(found), [{ refDate: "2025-04-30", reason: "PreviousChanged" }])
      assert.deepStrictEqual((yield* Trigger.reconcile({ checkpoint: true })).runs, [])
      // an unreadable checkpoint is ignored (every manifest is read), then rewritten
      yield* store.put(Trigger.CHECKPOINT_KEY, new TextEncoder().encode("{not json"))
      assert.deepStrictEqual((yield* Trigger.reconcile({ checkpoint: true })).found, [])
      const rewritten = new TextDecoder().decode(Option.getOrThrow(yield* store.get(Trigger.CHECKPOINT_KEY)))
      assert.deepStrictEqual(Object.keys(JSON.parse(rewritten).entries), ["2025-04-28", "2025-04-30"])
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("the daily path commits one small delta per day to the checkpoint's log and folds it into a new base", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const logKeys = Effect.map(
        Stream.runCollect(store.list(Trigger.CHECKPOINT_LOG_PREFIX)),
        (c) => Chunk.toReadonlyArray(c).map((info) => info.key.slice(Trigger.CHECKPOINT_LOG_PREFIX.length))
      )
      const base = Effect.map(
        store.get(Trigger.CHECKPOINT_KEY),
        (bytes) => JSON.parse(new TextDecoder().decode(Option.getOrThrow(bytes))) as { version: number; upTo?: number }
      )
      const day = (k: number) => d(new Date(Date.UTC(2025, 0, 2 + k)).toISOString().slice(0, 10))
      yield* writeRaw(day(0), "IBOV", 0)
      yield* Trigger.reconcile({ checkpoint: true })
      assert.deepStrictEqual(yield* logKeys, [])
      const cache = Trigger.makeCheckpointCache()
      const fold = Trigger.CHECKPOINT_FOLD_EVERY
      for (let k = 1; k <= fold + 2; k++) {
        yield* writeRaw(day(k), k % 3 === 0 ? "SMLL" : "IBOV", k % 2)
        const result = Option.getOrThrow(yield* Trigger.reconcileDates({ dates: [day(k)], cache }))
        assert.deepStrictEqual(result.runs.map((r) => r.refDate), [day(k)])
        const keys = yield* logKeys
        if (k <= fold) {
          // one delta per commit, holding that day's entry only
          assert.strictEqual(keys.length, k)
          const delta = JSON.parse(new TextDecoder().decode(
            Option.getOrThrow(yield* store.get(`${Trigger.CHECKPOINT_LOG_PREFIX}${keys.at(-1)}` as ObjectKey))
          ))
          assert.deepStrictEqual(Object.keys(delta.entries), [day(k)])
          assert.strictEqual(delta.seq, k)
        } else if (k === fold + 1) {
          // the fold: a new base that covers every delta, and an empty log
          assert.deepStrictEqual(keys, [])
          assert.deepStrictEqual({ ...(yield* base), entries: undefined }, {
            version: 2,
            upTo: fold,
            entries: undefined
          })
        } else {
          assert.deepStrictEqual(keys, [`${String(fold + 1).padStart(8, "0")}.json`])
        }
      }
      // the checkpoint as read (base + log) holds exactly the manifests, and a reader without the
      // cache finds nothing to do
      const read = Option.getOrThrow(yield* Manifest.readCheckpoint)
      const manifests = yield* Trigger.readManifests
      assert.deepStrictEqual([...read.entries.keys()].sort(), [...manifests.keys()].sort())
      for (const [date, entry] of read.entries) {
        assert.deepStrictEqual(entry.manifest, Trigger.stateOfManifest(manifests.get(date)!))
      }
      assert.deepStrictEqual(Option.getOrThrow(yield* Trigger.reconcileDates({ dates: [] })).runs, [])
      assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("the checkpoint's log: a fold cut off, a lost delta, and a base written by an older version", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const json = (u: unknown) => new TextEncoder().encode(JSON.stringify(u))
      const cache = Trigger.makeCheckpointCache()
      const daily = (date: string, code: string) =>
        Effect.gen(function*() {
          yield* writeRaw(date, code, 0)
          return Option.getOrThrow(yield* Trigger.reconcileDates({ dates: [d(date)], cache }))
        })
      yield* writeRaw("2025-04-28", "IBOV", 0)
      yield* Trigger.reconcile({ checkpoint: true })
      yield* daily("2025-04-29", "IBOV")
      yield* daily("2025-04-30", "IBOV")
      const before = Option.getOrThrow(yield* Manifest.readCheckpoint)
      assert.strictEqual(before.deltas, 2)
      const entries = Object.fromEntries(before.entries)

      // a fold cut off after its base: the deltas it covers are still there, and skipped
      yield* store.put(Trigger.CHECKPOINT_KEY, json({ version: 2, upTo: 2, entries }))
      const cut = Option.getOrThrow(yield* Manifest.readCheckpoint)
      assert.deepStrictEqual([cut.deltas, cut.nextSeq], [0, 3])
      assert.deepStrictEqual(Object.fromEntries(cut.entries), entries)
      // the next commit takes number 3 (never a number the log held)
      yield* daily("2025-05-02", "SMLL")
      assert.isTrue(Option.isSome(yield* store.get(`${Trigger.CHECKPOINT_LOG_PREFIX}00000003.json` as ObjectKey)))
      assert.deepStrictEqual(
        [...Option.getOrThrow(yield* Manifest.readCheckpoint).entries.keys()].sort(),
        ["2025-04-28", "2025-04-29", "2025-04-30", "2025-05-02"]
      )

      // a delta lost from the middle of the log: the checkpoint is unreadable, never half-read
      yield* daily("2025-05-05", "SMLL")
      yield* store.delete(`${Trigger.CHECKPOINT_LOG_PREFIX}00000003.json` as ObjectKey)
      assert.isTrue(Option.isNone(yield* Manifest.readCheckpoint))
      assert.isTrue(Option.isNone(yield* Trigger.reconcileDates({ dates: [], cache })))
      // the full reconcile the caller runs then writes a new base past every delta
      assert.deepStrictEqual((yield* Trigger.reconcile({ checkpoint: true })).found, [])
      const rebuilt = Option.getOrThrow(yield* Manifest.readCheckpoint)
      assert.deepStrictEqual([rebuilt.upTo, rebuilt.deltas, rebuilt.entries.size], [4, 0, 5])

      // a version 1 base (an older version's full reconcile) with deltas left around: they are
      // ignored, and the next daily commit writes a new base instead of a delta
      yield* daily("2025-05-06", "IBOV")
      const all = Object.fromEntries(Option.getOrThrow(yield* Manifest.readCheckpoint).entries)
      yield* store.put(Trigger.CHECKPOINT_KEY, json({ version: 1, entries: all }))
      const old = Option.getOrThrow(yield* Manifest.readCheckpoint)
      assert.deepStrictEqual([old.upTo, old.deltas, old.nextSeq], [undefined, 0, 6])
      yield* daily("2025-05-07", "IBOV")
      const now = Option.getOrThrow(yield* Manifest.readCheckpoint)
      assert.deepStrictEqual([now.upTo, now.deltas, now.entries.size], [5, 0, 7])
      assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("an event for a key that is not raw Parquet starts nothing; a raw one refines date and successor", () =>
    Effect.gen(function*() {
      yield* writeRaw("2025-04-28", "IBOV", 0)
      yield* writeRaw("2025-04-30", "IBOV", 0)
      yield* Trigger.reconcile()
      yield* Testing.takePending
      const record = (key: string) =>
        makeCreatedRecord("memory", { key: key as ObjectKey, size: 1, etag: "00" }, new Date(0))
      assert.isTrue(Option.isNone(yield* Trigger.onRawObject(record("runs/2025-04-28/run-x.json"))))
      // a backfill of 2025-04-29 implies its own refine and 2025-04-30's
      yield* writeRaw("2025-04-29", "IBOV", 0)
      const runs = yield* Testing.runTriggers
      assert.deepStrictEqual(strs(runs.map((r) => r.refDate)), ["2025-04-29", "2025-04-30"])
      assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
    }).pipe(Effect.provide(Testing.layerPorts)))
})
