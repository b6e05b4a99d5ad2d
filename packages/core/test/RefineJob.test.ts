import { Catalog } from "@b3-pipeline/core/Catalog"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import { RawLayer } from "@b3-pipeline/core/RawLayer"
import { decodeRawParquet } from "@b3-pipeline/core/RawParquet"
import type { RawRow } from "@b3-pipeline/core/Refine"
import { decodeRefinedParquet, refine } from "@b3-pipeline/core/Refine"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { parseRawParquetKey, RAW_TABLE, REFINED_PREFIX, REFINED_TABLE } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { samplePayload } from "./fixtures.js"

const write = (options: Parameters<typeof samplePayload>[0]) =>
  Effect.gen(function*() {
    const raw = yield* RawLayer
    const { payload, portfolio } = samplePayload(options)
    return yield* raw.write(payload, portfolio)
  })

/** Every refined row in the store, decoded, with its partition values from the key. */
const refinedInStore = Effect.gen(function*() {
  const store = yield* ObjectStore
  const infos = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(REFINED_PREFIX)))
  const rows = []
  for (const info of infos) {
    const m = /ref_date=([^/]+)\/ticker=([^/]+)\/part-00000\.parquet$/.exec(info.key)
    assert.isNotNull(m, info.key)
    for (const r of decodeRefinedParquet(Option.getOrThrow(yield* store.get(info.key)))) {
      rows.push({ ...r, ref_date: m![1] as RefDate, ticker: m![2]! })
    }
  }
  return rows
})

/** Every raw row in the store for a date. */
const rawInStore = (refDate: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const infos = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("raw/b3_portfolio_raw/")))
    const rows: Array<RawRow> = []
    const dates = []
    for (const info of infos) {
      const k = parseRawParquetKey(info.key)!
      dates.push(k)
      if (k.refDate !== refDate) continue
      for (const r of decodeRawParquet(Option.getOrThrow(yield* store.get(info.key)))) {
        rows.push({ ...r, ref_date: k.refDate, index_code: k.indexCode })
      }
    }
    return { rows, dates }
  })

const byKey = <A extends { ref_date: string; ticker: string; index_code: string }>(xs: ReadonlyArray<A>) =>
  [...xs].sort((
    a,
    b
  ) => (`${a.ref_date}|${a.ticker}|${a.index_code}` < `${b.ref_date}|${b.ticker}|${b.index_code}` ? -1 : 1))

describe("RefineJob.layerMemory", () => {
  it.effect("a date without raw data fails with NoRawData", () =>
    Effect.gen(function*() {
      const job = yield* RefineJob
      yield* write({ refDate: "2025-04-07" })
      const error = yield* Effect.flip(job.start({ refDate: "2025-04-08" as RefDate }))
      assert.strictEqual(error.reason, "NoRawData")
      assert.strictEqual(error.refDate, "2025-04-08")
      // the failed run is remembered
      const run = yield* job.status(error.runId!)
      assert.strictEqual(run.state, "FAILED")
      const missing = yield* Effect.flip(job.status("nope"))
      assert.strictEqual(missing.reason, "NotFound")
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("refines every index of the date into one file per ticker, equal to Refine.refine, and registers the catalog", () =>
    Effect.gen(function*() {
      const job = yield* RefineJob
      const catalog = yield* Catalog
      const a = yield* write({ indexCode: "IBOV", refDate: "2025-04-07", size: 30, seed: 1 })
      const b = yield* write({ indexCode: "SMLL", refDate: "2025-04-07", size: 20, seed: 2, segment: "1" })
      yield* write({ indexCode: "IBOV", refDate: "2025-04-02", size: 30, seed: 1 })
      const run = yield* job.start({ refDate: "2025-04-07" as RefDate, indexCode: "IBOV" as IndexCode })
      assert.strictEqual(run.state, "SUCCEEDED")
      assert.strictEqual(run.started, true)
      assert.strictEqual(run.rows, a.rows + b.rows)
      assert.deepStrictEqual(yield* job.status(run.runId), run)

      const { dates, rows } = yield* rawInStore("2025-04-07")
      const expected = refine(rows, dates)
      const actual = yield* refinedInStore
      assert.deepStrictEqual(byKey(actual), byKey(expected))
      const prevIbov = expected.find((r) => r.index_code === "IBOV")!
      assert.strictEqual(prevIbov.days_since_previous_snapshot, 5)
      assert.strictEqual(expected.find((r) => r.index_code === "SMLL")!.days_since_previous_snapshot, null)

      const tables = (yield* catalog.listTables).map((t) => t.name)
      assert.deepStrictEqual(tables, [RAW_TABLE, REFINED_TABLE])
      const rawParts = (yield* catalog.listPartitions(RAW_TABLE)).map((p) => p.values.join("|")).sort()
      assert.deepStrictEqual(rawParts, ["2025-04-07|IBOV", "2025-04-07|SMLL"])
      const tickers = new Set(expected.map((r) => r.ticker))
      const refinedParts = yield* catalog.listPartitions(REFINED_TABLE)
      assert.strictEqual(refinedParts.length, tickers.size)
      for (const p of refinedParts) {
        assert.strictEqual(p.values[0], "2025-04-07")
        assert.isTrue(tickers.has(p.values[1]!))
        assert.strictEqual(p.location, `${REFINED_PREFIX}ref_date=2025-04-07/ticker=${p.values[1]}/`)
      }
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("re-running replaces the date's partitions only: vanished tickers are deleted, other dates kept", () =>
    Effect.gen(function*() {
      const job = yield* RefineJob
      const store = yield* ObjectStore
      const catalog = yield* Catalog
      yield* write({ indexCode: "IBOV", refDate: "2025-04-04", size: 25, seed: 4 })
      yield* job.start({ refDate: "2025-04-04" as RefDate })
      const otherDate = Chunk.toReadonlyArray(
        yield* Stream.runCollect(store.list(`${REFINED_PREFIX}ref_date=2025-04-04/`))
      )
      yield* write({ indexCode: "IBOV", refDate: "2025-04-07", size: 40, seed: 5 })
      yield* job.start({ refDate: "2025-04-07" as RefDate })
      const before = Chunk.toReadonlyArray(
        yield* Stream.runCollect(store.list(`${REFINED_PREFIX}ref_date=2025-04-07/`))
      )
      assert.strictEqual(before.length, 40)
      // a smaller portfolio arrives for the same day (another seed: other tickers too)
      const replaced = yield* write({ indexCode: "IBOV", refDate: "2025-04-07", size: 10, seed: 6 })
      assert.strictEqual(replaced.outcome, "replaced")
      const second = yield* job.start({ refDate: "2025-04-07" as RefDate })
      assert.strictEqual(second.rows, 10)
      const after = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${REFINED_PREFIX}ref_date=2025-04-07/`)))
      assert.strictEqual(after.length, 10)
      const { dates, rows } = yield* rawInStore("2025-04-07")
      const expectedTickers = refine(rows, dates).map((r) => r.ticker).sort()
      assert.deepStrictEqual(after.map((i) => /ticker=([^/]+)\//.exec(i.key)![1]).sort(), expectedTickers)
      const parts = (yield* catalog.listPartitions(REFINED_TABLE)).filter((p) => p.values[0] === "2025-04-07")
      assert.deepStrictEqual(parts.map((p) => p.values[1]).sort(), expectedTickers)
      // the other date is untouched
      const still = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${REFINED_PREFIX}ref_date=2025-04-04/`)))
      assert.deepStrictEqual(still, otherDate)
      assert.strictEqual(
        (yield* catalog.listPartitions(REFINED_TABLE)).filter((p) => p.values[0] === "2025-04-04").length,
        25
      )
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect("a corrupt raw file fails the run with a message naming the key", () =>
    Effect.gen(function*() {
      const job = yield* RefineJob
      const store = yield* ObjectStore
      yield* store.put(
        "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet" as ObjectKey,
        new TextEncoder().encode("not parquet")
      )
      const error = yield* Effect.flip(job.start({ refDate: "2025-04-07" as RefDate }))
      assert.strictEqual(error.reason, "Failed")
      assert.include(error.message, "index_code=IBOV/part-00000.parquet")
    }).pipe(Effect.provide(Testing.layerPorts)))
})
