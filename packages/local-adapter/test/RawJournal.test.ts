import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as ObjectStorePort from "@b3-pipeline/core/ObjectStore"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { encodeRawParquet } from "@b3-pipeline/core/RawParquet"
import { rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import * as LocalLive from "../src/LocalLive.js"
import { LocalTrigger } from "../src/LocalTrigger.js"
import * as RawJournal from "../src/RawJournal.js"
import { JOURNAL_PREFIX, markerKey } from "../src/RawJournal.js"
import { RAW_SERVING_PREFIX } from "../src/RawServing.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

const ibov = "IBOV" as IndexCode
const ingest = (refDate: string, seed = 1, size?: number) =>
  Pipeline.ingestPayload(
    Testing.payloadOf(
      generatePortfolio({ indexCode: ibov, refDate: refDate as RefDate, seed, ...(size !== undefined ? { size } : {}) })
    )
  )
const rawCounts = QueryEngine.collect(
  "SELECT CAST(ref_date AS VARCHAR) AS d, count(*) AS n FROM b3_portfolio_raw GROUP BY ALL ORDER BY d"
)
const markers = (warehouse: string): Array<string> => {
  const dir = path.join(warehouse, ...JOURNAL_PREFIX.split("/"))
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
}
const meta = { payloadSha256: "0".repeat(64), fetchedAt: "2025-05-05T08:00:00.000Z" }
const dates = (runs: ReadonlyArray<{ readonly refDate: string }>) => runs.map((r) => r.refDate as string)

describe("RawJournal + LocalTrigger (the daily flush)", () => {
  it.effect("raw writes leave markers; a flush refines their dates and clears them", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      yield* ingest("2025-05-05")
      assert.deepStrictEqual(markers(warehouse), ["ref_date=2025-05-05.json"])
      assert.deepStrictEqual<ReadonlyArray<string>>((yield* (yield* RawJournal.RawJournal).pending).dates, [
        "2025-05-05"
      ])
      assert.deepStrictEqual(dates(yield* trigger.flush), ["2025-05-05"])
      assert.deepStrictEqual(markers(warehouse), [])
      assert.isTrue(fs.existsSync(path.join(warehouse, ...Trigger.CHECKPOINT_KEY.split("/"))))
      // the daily path from now on: a backfill refines its date and the next one
      yield* ingest("2025-05-07")
      yield* ingest("2025-05-06")
      assert.deepStrictEqual(dates(yield* trigger.flush), ["2025-05-06", "2025-05-07"])
      assert.deepStrictEqual(yield* trigger.flush, [])
      assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })

  it.effect("a change another process wrote and never refined is refined by the next process's flush", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      // process 1: refines a first date (checkpoint written), then writes another and stops (killed, or its refine failed)
      yield* Effect.gen(function*() {
        yield* ingest("2025-05-05")
        yield* (yield* LocalTrigger).flush
        yield* ingest("2025-05-06")
      }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
      assert.deepStrictEqual(markers(warehouse), ["ref_date=2025-05-06.json"])
      // process 2: writes a later date; its flush refines both
      yield* Effect.gen(function*() {
        yield* ingest("2025-05-08")
        assert.deepStrictEqual(dates(yield* (yield* LocalTrigger).flush), ["2025-05-06", "2025-05-08"])
        assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
      }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
      assert.deepStrictEqual(markers(warehouse), [])
    })
  })

  it.effect("a raw object removed through the store is journaled: the flush clears its date and re-refines the next", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      yield* ingest("2025-05-05")
      yield* ingest("2025-05-06")
      yield* ingest("2025-05-07")
      assert.deepStrictEqual(dates(yield* trigger.flush), ["2025-05-05", "2025-05-06", "2025-05-07"])
      const store = yield* ObjectStore
      yield* store.delete(rawParquetKey("2025-05-06" as RefDate, ibov))
      const runs = yield* trigger.flush
      assert.deepStrictEqual(dates(runs), ["2025-05-06", "2025-05-07"])
      assert.deepStrictEqual((yield* Trigger.freshness).stale, [])
      assert.isFalse(fs.existsSync(path.join(warehouse, ...Trigger.manifestKey("2025-05-06" as RefDate).split("/"))))
      const m = yield* Trigger.readManifest("2025-05-07" as RefDate)
      assert.strictEqual(m._tag === "Some" ? m.value.previous["IBOV"] : "none", "2025-05-05")
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })

  it.effect("one marker per date, written once between two reads of the journal, and again after one", () =>
    Effect.gen(function*() {
      const inner = yield* ObjectStorePort.makeMemory()
      const puts: Array<string> = []
      const counted = ObjectStore.of({
        ...inner,
        put: (key, body, options) => Effect.zipRight(Effect.sync(() => puts.push(key)), inner.put(key, body, options))
      })
      const one = RawJournal.make(counted)
      const raw = (date: string, code: string) => {
        const p = generatePortfolio({ indexCode: code as IndexCode, refDate: date as RefDate, seed: 1, size: 3 })
        return one.store.put(rawParquetKey(date as RefDate, code as IndexCode), encodeRawParquet(p, meta))
      }
      const markerPuts = () => puts.filter((k) => k.startsWith(JOURNAL_PREFIX))
      yield* raw("2025-05-05", "IBOV")
      yield* raw("2025-05-05", "SMLL")
      yield* raw("2025-05-05", "IDIV")
      yield* one.store.delete(rawParquetKey("2025-05-05" as RefDate, "IDIV" as IndexCode))
      yield* raw("2025-05-06", "IBOV")
      assert.deepStrictEqual(markerPuts(), [markerKey("2025-05-05" as RefDate), markerKey("2025-05-06" as RefDate)])
      const first = yield* one.journal.pending
      assert.deepStrictEqual<ReadonlyArray<string>>(first.dates, ["2025-05-05", "2025-05-06"])
      // a write after the read marks its date again, so clearing what was read leaves that date marked
      yield* raw("2025-05-05", "SMLL")
      assert.strictEqual(markerPuts().length, 3)
      yield* one.journal.clear(first)
      assert.deepStrictEqual<ReadonlyArray<string>>((yield* one.journal.pending).dates, ["2025-05-05"])

      // another journal (another process) clears this one's marker: the next write here marks again
      const other = RawJournal.make(counted)
      yield* raw("2025-05-07", "IBOV")
      yield* other.journal.clear(yield* other.journal.pending)
      const listed = Effect.map(Stream.runCollect(inner.list(JOURNAL_PREFIX)), (c) => Chunk.size(c))
      assert.strictEqual(yield* listed, 0)
      yield* raw("2025-05-07", "SMLL")
      assert.deepStrictEqual<ReadonlyArray<string>>((yield* other.journal.pending).dates, ["2025-05-07"])

      // an older version's marker (one per date and index) is read and cleared like the others
      yield* inner.put(
        `${JOURNAL_PREFIX}ref_date=2025-04-30_index_code=IBOV.json` as ObjectKey,
        new TextEncoder().encode("{}\n")
      )
      const withOld = yield* one.journal.pending
      assert.deepStrictEqual<ReadonlyArray<string>>(withOld.dates, ["2025-04-30", "2025-05-07"])
      yield* one.journal.clear(withOld)
      assert.deepStrictEqual((yield* one.journal.pending).dates, [])
    }))

  it.effect("a raw write in flight holds off the journal's read: no change falls between a read and its clear", () =>
    Effect.gen(function*() {
      const inner = yield* ObjectStorePort.makeMemory()
      const release = yield* Deferred.make<void>()
      const entered = yield* Deferred.make<void>()
      const slow = ObjectStore.of({
        ...inner,
        put: (key, body, options) =>
          key.startsWith(JOURNAL_PREFIX) ?
            inner.put(key, body, options) :
            Effect.zipRight(
              Effect.zipRight(Deferred.succeed(entered, undefined), Deferred.await(release)),
              inner.put(key, body, options)
            )
      })
      const { journal, store } = RawJournal.make(slow)
      const p = generatePortfolio({ indexCode: ibov, refDate: "2025-05-05" as RefDate, seed: 1, size: 3 })
      const write = yield* Effect.fork(
        store.put(rawParquetKey("2025-05-05" as RefDate, ibov), encodeRawParquet(p, meta))
      )
      yield* Deferred.await(entered)
      const read = yield* Effect.fork(journal.pending)
      // time enough for an unhindered read to finish
      yield* Effect.repeatN(Effect.yieldNow(), 50)
      // the read waits for the raw write, so whatever it returns, the raw object is already there
      assert.isTrue(Option.isNone(yield* Fiber.poll(read)))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(write)
      const pending = yield* Fiber.join(read)
      assert.deepStrictEqual<ReadonlyArray<string>>(pending.dates, ["2025-05-05"])
      assert.isTrue(Option.isSome(yield* inner.get(rawParquetKey("2025-05-05" as RefDate, ibov))))
    }))

  it.effect("the raw table reads the compact copy for flushed dates and the raw files for journaled ones", () => {
    const warehouse = tempWarehouse()
    const month = path.join(warehouse, ...RAW_SERVING_PREFIX.split("/"), "month=2025-05")
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      yield* ingest("2025-05-05", 1, 5)
      yield* ingest("2025-05-06", 1, 6)
      // not flushed yet: no copy, the raw files
      assert.isFalse(fs.existsSync(month))
      assert.deepStrictEqual(yield* rawCounts, [{ d: "2025-05-05", n: 5 }, { d: "2025-05-06", n: 6 }])
      yield* trigger.flush
      assert.deepStrictEqual(fs.readdirSync(month).sort(), [
        "ref_date=2025-05-05.parquet",
        "ref_date=2025-05-06.parquet"
      ])
      assert.deepStrictEqual(yield* rawCounts, [{ d: "2025-05-05", n: 5 }, { d: "2025-05-06", n: 6 }])
      // a replaced date and a new one, journaled, not flushed: their raw files, not the copy's old rows
      yield* ingest("2025-05-06", 2, 9)
      yield* ingest("2025-05-07", 1, 4)
      yield* (yield* ObjectStore).delete(rawParquetKey("2025-05-05" as RefDate, ibov))
      assert.deepStrictEqual(yield* rawCounts, [{ d: "2025-05-06", n: 9 }, { d: "2025-05-07", n: 4 }])
      yield* trigger.flush
      assert.deepStrictEqual(markers(warehouse), [])
      assert.deepStrictEqual(yield* rawCounts, [{ d: "2025-05-06", n: 9 }, { d: "2025-05-07", n: 4 }])
      // and the copy alone holds exactly that
      const inCopy = yield* QueryEngine.collect(
        `SELECT count(*) AS n FROM b3_portfolio_raw WHERE ref_date BETWEEN DATE '2025-05-01' AND DATE '2025-05-31'`
      )
      assert.deepStrictEqual(inCopy, [{ n: 13 }])
      // a damaged copy is rebuilt from the month's raw files by the next flush
      fs.writeFileSync(path.join(month, "ref_date=2025-05-06.parquet"), "not parquet")
      yield* ingest("2025-05-08", 1, 3)
      yield* trigger.flush
      assert.deepStrictEqual(yield* rawCounts, [
        { d: "2025-05-06", n: 9 },
        { d: "2025-05-07", n: 4 },
        { d: "2025-05-08", n: 3 }
      ])
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })

  it.effect("the raw copy: a day writes a date file (over its month's base, if any); the next month compacts it; a crash mid-compaction reads each row once", () => {
    const warehouse = tempWarehouse()
    const root = path.join(warehouse, ...RAW_SERVING_PREFIX.split("/"))
    const files = () =>
      fs.readdirSync(root).sort().flatMap((m) => fs.readdirSync(path.join(root, m)).sort().map((f) => `${m}/${f}`))
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      // a month's first date: a date file, no base
      yield* ingest("2025-04-30", 1, 3)
      yield* trigger.flush
      assert.deepStrictEqual(files(), ["month=2025-04/ref_date=2025-04-30.parquet"])
      // four dates of a month at once (a backfill): its base
      for (const [d, n] of [["2025-05-05", 5], ["2025-05-06", 6], ["2025-05-07", 4], ["2025-05-08", 2]] as const) {
        yield* ingest(d, 1, n)
      }
      yield* trigger.flush
      // ... and the closed April was compacted into its base
      assert.deepStrictEqual(files(), ["month=2025-04/part-00000.parquet", "month=2025-05/part-00000.parquet"])
      const base = path.join(root, "month=2025-05", "part-00000.parquet")
      const baseStat = fs.statSync(base)
      yield* ingest("2025-05-09", 1, 1)
      yield* ingest("2025-05-05", 3, 7) // a correction of a date the base holds
      yield* trigger.flush
      // a date removed from raw: its date file is a tombstone (no rows) over the base's rows
      yield* (yield* ObjectStore).delete(rawParquetKey("2025-05-07" as RefDate, ibov))
      yield* trigger.flush
      // the daily path: date files (05-08 too: its previous snapshot changed, so it was refined again),
      // the base untouched
      assert.deepStrictEqual(files(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/part-00000.parquet",
        "month=2025-05/ref_date=2025-05-05.parquet",
        "month=2025-05/ref_date=2025-05-07.parquet",
        "month=2025-05/ref_date=2025-05-08.parquet",
        "month=2025-05/ref_date=2025-05-09.parquet"
      ])
      assert.strictEqual(fs.statSync(base).ino, baseStat.ino)
      const expected = [
        { d: "2025-04-30", n: 3 },
        { d: "2025-05-05", n: 7 },
        { d: "2025-05-06", n: 6 },
        { d: "2025-05-08", n: 2 },
        { d: "2025-05-09", n: 1 }
      ]
      assert.deepStrictEqual(yield* rawCounts, expected)
      // keep the date files as they are, to play a crash after the compaction's rename
      const saved = files().filter((f) => f.includes("ref_date=")).map((f) =>
        [f, fs.readFileSync(path.join(root, f))] as const
      )
      // June closes May: its date files are folded into its base
      yield* ingest("2025-06-02", 1, 2)
      yield* trigger.flush
      assert.deepStrictEqual(files(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/part-00000.parquet",
        "month=2025-06/ref_date=2025-06-02.parquet"
      ])
      const all = [...expected, { d: "2025-06-02", n: 2 }]
      assert.deepStrictEqual(yield* rawCounts, all)
      // the crash: the new base is in place, the old date files were not removed. Each row still counts once.
      for (const [f, bytes] of saved) fs.writeFileSync(path.join(root, f), bytes)
      assert.deepStrictEqual(yield* rawCounts, all)
      // and the next flush compacts the closed month again, removing them
      yield* ingest("2025-06-03", 1, 1)
      yield* trigger.flush
      assert.deepStrictEqual(files(), [
        "month=2025-04/part-00000.parquet",
        "month=2025-05/part-00000.parquet",
        "month=2025-06/ref_date=2025-06-02.parquet",
        "month=2025-06/ref_date=2025-06-03.parquet"
      ])
      assert.deepStrictEqual(yield* rawCounts, [...all, { d: "2025-06-03", n: 1 }])
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })
})
