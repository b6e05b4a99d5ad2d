import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import { rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as LocalLive from "../src/LocalLive.js"
import { LocalTrigger } from "../src/LocalTrigger.js"
import { JOURNAL_PREFIX, RawJournal } from "../src/RawJournal.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

const ibov = "IBOV" as IndexCode
const ingest = (refDate: string, seed = 1) =>
  Pipeline.ingestPayload(Testing.payloadOf(generatePortfolio({ indexCode: ibov, refDate: refDate as RefDate, seed })))
const markers = (warehouse: string): Array<string> => {
  const dir = path.join(warehouse, ...JOURNAL_PREFIX.split("/"))
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
}
const dates = (runs: ReadonlyArray<{ readonly refDate: string }>) => runs.map((r) => r.refDate as string)

describe("RawJournal + LocalTrigger (the daily flush)", () => {
  it.effect("raw writes leave markers; a flush refines their dates and clears them", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      yield* ingest("2025-05-05")
      assert.deepStrictEqual(markers(warehouse), ["ref_date=2025-05-05_index_code=IBOV.json"])
      assert.deepStrictEqual<ReadonlyArray<string>>((yield* (yield* RawJournal).pending).dates, ["2025-05-05"])
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
      assert.deepStrictEqual(markers(warehouse), ["ref_date=2025-05-06_index_code=IBOV.json"])
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
})
