import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { IndexCode, Portfolio, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import type { RefineJobError, RefineRun } from "@b3-pipeline/core/RefineJob"
import * as Testing from "@b3-pipeline/core/Testing"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FileSystemObjectStore from "../src/FileSystemObjectStore.js"
import * as LocalLive from "../src/LocalLive.js"
import { LocalTrigger } from "../src/LocalTrigger.js"
import * as LocalTriggerModule from "../src/LocalTrigger.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

const validationDir = new URL("../../../glue/sql/validation/", import.meta.url)

const payloadOf = (p: Portfolio) => Testing.payloadOf(p)

const triggerEnv = (warehouse: string, job: Layer.Layer<RefineJob>) => {
  const store = FileSystemObjectStore.layer(warehouse).pipe(Layer.provide(NodeContext.layer))
  return Layer.mergeAll(LocalTriggerModule.layer, RawLayer.layer).pipe(
    Layer.provideMerge(Layer.merge(store, job))
  )
}

describe("LocalTrigger", () => {
  it.effect("37 raw writes of one date lead to ONE refine; a second flush does nothing", () => {
    const warehouse = tempWarehouse()
    const store = FileSystemObjectStore.layer(warehouse).pipe(Layer.provide(NodeContext.layer))
    const started: Array<string> = []
    const countingJob = Layer.succeed(
      RefineJob,
      RefineJob.of({
        // a job that refines nothing but commits the manifest of what it was asked to read
        start: (request) =>
          Effect.gen(function*() {
            started.push(request.refDate)
            const runId = `r${started.length}`
            assert.isDefined(request.plan)
            yield* Trigger.commitManifest(
              Trigger.manifestOf(request.plan!, { rows: 0, tickers: [], runId }, new Date(0))
            ).pipe(
              Effect.provide(store),
              Effect.orDie
            )
            return { runId, refDate: request.refDate, state: "SUCCEEDED", started: true } satisfies RefineRun
          }),
        status: () => Effect.die("unused") as Effect.Effect<never, RefineJobError>
      })
    )
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      let rawWrites = 0
      for (const code of ALL_INDEX_CODES) {
        const w = yield* Pipeline.ingestPayload(
          payloadOf(generatePortfolio({ indexCode: code, refDate: "2025-04-07" as RefDate }))
        )
        if (w.outcome !== "unchanged") rawWrites++
      }
      // a corrected IBOV payload for the same date replaces its raw file: one more raw write
      const corrected = yield* Pipeline.ingestPayload(
        payloadOf(generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: "2025-04-07" as RefDate, seed: 42 }))
      )
      assert.strictEqual(corrected.outcome, "replaced")
      rawWrites++
      assert.strictEqual(rawWrites, 37)
      assert.deepStrictEqual<ReadonlyArray<string>>(yield* trigger.pending, ["2025-04-07"])
      const runs = yield* trigger.flush
      assert.deepStrictEqual(runs.map((r) => r.refDate), ["2025-04-07"])
      assert.deepStrictEqual(started, ["2025-04-07"])
      assert.deepStrictEqual(yield* trigger.flush, [])
      // re-ingesting the same payloads writes nothing, so nothing is refined
      for (const code of ALL_INDEX_CODES.slice(0, 3)) {
        yield* Pipeline.ingestPayload(
          payloadOf(generatePortfolio({ indexCode: code, refDate: "2025-04-07" as RefDate }))
        )
      }
      assert.deepStrictEqual(yield* trigger.flush, [])
      assert.strictEqual(started.length, 1)
    }).pipe(Effect.provide(triggerEnv(warehouse, countingJob)))
  })
})

describe("LocalLive", () => {
  it.effect("ingest -> trigger -> refine -> validation queries, end to end", () => {
    const warehouse = tempWarehouse()
    const codes = ["IBOV", "IBXX", "SMLL", "IDIV"] as Array<IndexCode>
    const dates = ["2025-04-30", "2025-05-02"] as Array<RefDate>
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      // the same engine, before any data: empty tables; after the refine it sees the new files
      assert.deepStrictEqual(yield* QueryEngine.collect(`SELECT count(*) AS n FROM b3_portfolio_refined`), [{ n: 0 }])
      let rows = 0
      for (const d of dates) {
        for (const code of codes) {
          const p = generatePortfolio({ indexCode: code, refDate: d })
          rows += p.size
          const write = yield* Pipeline.ingestPayload(payloadOf(p))
          assert.strictEqual(write.outcome, "created")
        }
      }
      const runs = yield* trigger.flush
      assert.deepStrictEqual(runs.map((r) => r.refDate), dates)
      assert.strictEqual(runs.reduce((n, r) => n + (r.rows ?? 0), 0), rows)

      const counts = yield* QueryEngine.collect(
        fs.readFileSync(new URL("row_counts_per_date.sql", validationDir), "utf8")
      )
      assert.strictEqual(counts.length, dates.length * codes.length)
      for (const c of counts) assert.strictEqual(c.raw_rows, c.refined_rows)
      assert.strictEqual(typeof counts[0]!.ref_date, "string")

      const top = yield* QueryEngine.collect(fs.readFileSync(new URL("top10_ibov_latest.sql", validationDir), "utf8"))
      assert.strictEqual(top.length, 10)
      assert.strictEqual(top[0]!.ref_date, "2025-05-02")
      assert.match(String(top[0]!.weight_pct), /^\d+\.\d{3}$/)
      const ibov = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: "2025-05-02" as RefDate })
      assert.strictEqual(top[0]!.weight_pct, (Math.max(...ibov.weights) / 1000).toFixed(3))

      const sectors = yield* QueryEngine.collect(
        fs.readFileSync(new URL("sector_totals_latest.sql", validationDir), "utf8")
      )
      assert.isAbove(sectors.length, 0)
      const history = yield* QueryEngine.collect(
        fs.readFileSync(new URL("ticker_history_petr4.sql", validationDir), "utf8")
      )
      for (const h of history) {
        assert.strictEqual(typeof h.theoretical_qty === "number" || typeof h.theoretical_qty === "bigint", true)
      }

      const viaDefault = yield* QueryEngine.collect(`SELECT count(*) AS n FROM "default".b3_portfolio_refined`)
      assert.strictEqual(viaDefault[0]!.n, rows)
      const syntax = yield* Effect.flip(QueryEngine.collect("SELEC 1"))
      assert.strictEqual(syntax.reason, "Syntax")
      const missing = yield* Effect.flip(QueryEngine.collect("SELECT * FROM no_such_table"))
      assert.strictEqual(missing.reason, "NoSuchTable")
      assert.include(missing.detail ?? "", "no_such_table")
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })

  it.effect("a backfilled earlier date re-refines the next date, whose previous snapshot changed", () => {
    const warehouse = tempWarehouse()
    const ibov = "IBOV" as IndexCode
    const gap = (d: string) =>
      QueryEngine.collect(
        `SELECT DISTINCT days_since_previous_snapshot AS gap FROM b3_portfolio_refined WHERE ref_date = DATE '${d}'`
      )
    return Effect.gen(function*() {
      const trigger = yield* LocalTrigger
      yield* Pipeline.ingestPayload(payloadOf(generatePortfolio({ indexCode: ibov, refDate: "2025-05-09" as RefDate })))
      yield* trigger.flush
      assert.deepStrictEqual(yield* gap("2025-05-09"), [{ gap: null }])
      // a backfill of 2025-05-07 makes it the previous snapshot of 2025-05-09
      yield* Pipeline.ingestPayload(payloadOf(generatePortfolio({ indexCode: ibov, refDate: "2025-05-07" as RefDate })))
      const runs = yield* trigger.flush
      assert.deepStrictEqual(runs.map((r) => r.refDate), ["2025-05-07", "2025-05-09"])
      assert.deepStrictEqual(yield* gap("2025-05-07"), [{ gap: null }])
      assert.deepStrictEqual(yield* gap("2025-05-09"), [{ gap: 2 }])
      // the latest date written again (no successor): one refine only
      yield* Pipeline.ingestPayload(
        payloadOf(generatePortfolio({ indexCode: ibov, refDate: "2025-05-09" as RefDate, seed: 7 }))
      )
      assert.deepStrictEqual((yield* trigger.flush).map((r) => r.refDate), ["2025-05-09"])
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })))
  })

  it.effect("an empty warehouse answers queries with empty tables", () =>
    Effect.gen(function*() {
      const rows = yield* QueryEngine.collect("SELECT count(*) AS n FROM b3_portfolio_refined")
      assert.deepStrictEqual(rows, [{ n: 0 }])
      const raw = yield* QueryEngine.collect("SELECT * FROM b3_portfolio_raw")
      assert.deepStrictEqual(raw, [])
    }).pipe(Effect.provide(LocalLive.layer({ warehouse: path.join(tempWarehouse(), "fresh") }))))
})
