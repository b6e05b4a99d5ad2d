/**
 * End to end on the local adapter: generated payloads ingested into a temporary warehouse,
 * refined by the DuckDB refine job, then read by `loadReportData` through the local
 * `DuckDbQueryEngine` (the same SQL Athena runs). Values are checked against the portfolios.
 */
import { formatDecimal, REDUCTOR_SCALE, WEIGHT_SCALE } from "@b3-pipeline/core/Domain"
import type { IndexCode, Portfolio, RefDate } from "@b3-pipeline/core/Domain"
import { generateHistory } from "@b3-pipeline/core/Generate"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as Testing from "@b3-pipeline/core/Testing"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { loadReportData, renderReport, ReportError } from "../src/report/Report.js"

const payloadOf = (p: Portfolio) => Testing.payloadOf(p)

describe("report on the local warehouse", () => {
  it.effect("ingest + refine, then the report reads exact values through DuckDbQueryEngine", () => {
    const warehouse = fs.mkdtempSync(path.join(os.tmpdir(), "b3-report-local-"))
    const history = generateHistory({
      indexCode: "IBOV" as IndexCode,
      from: "2025-08-27" as RefDate,
      to: "2025-09-02" as RefDate,
      seed: 3
    })
    const latest = history[history.length - 1]!
    return Effect.gen(function*() {
      // an empty warehouse first: a clear error, not an empty page
      const empty = yield* Effect.flip(loadReportData())
      assert.instanceOf(empty, ReportError)
      assert.strictEqual((empty as ReportError).reason, "EmptyWarehouse")

      for (const p of history) yield* Pipeline.ingestPayload(payloadOf(p))
      const trigger = yield* LocalTrigger
      yield* trigger.flush

      const data = yield* loadReportData({ compareDate: "2025-08-29" as RefDate })
      assert.strictEqual(data.refDate, latest.refDate)
      assert.deepStrictEqual<ReadonlyArray<string>>(data.dates, history.map((p) => p.refDate))
      assert.strictEqual(data.constituents, latest.size)
      assert.strictEqual(data.totalQuantity, latest.totalQuantity.toString())
      assert.strictEqual(
        data.reductor,
        latest.reductor === null ? null : formatDecimal(latest.reductor, REDUCTOR_SCALE)
      )
      // members heaviest first, exact weights and quantities
      const order = Array.from({ length: latest.size }, (_, i) => i).sort((a, b) =>
        latest.weights[b]! - latest.weights[a]! || (latest.tickers[a]! < latest.tickers[b]! ? -1 : 1)
      )
      assert.deepStrictEqual(
        data.members.map((m) => [m.ticker, m.weightPct, m.theoreticalQty]),
        order.map((
          i
        ) => [latest.tickers[i]!, formatDecimal(latest.weights[i]!, WEIGHT_SCALE), latest.quantities[i]!.toString()])
      )
      // sector totals are exact sums of the members
      const bySector = new Map<string, number>()
      for (let i = 0; i < latest.size; i++) {
        bySector.set(latest.sectors[i]!, (bySector.get(latest.sectors[i]!) ?? 0) + latest.weights[i]!)
      }
      assert.strictEqual(data.sectors.length, bySector.size)
      for (const s of data.sectors) {
        assert.strictEqual(s.weightPct, formatDecimal(bySector.get(s.sector!)!, WEIGHT_SCALE))
      }
      // the 5 heaviest, one point per day each was in the index
      assert.strictEqual(data.series.length, 5)
      for (const s of data.series) {
        const expected = history.flatMap((p) => {
          const i = p.tickers.indexOf(s.ticker)
          return i === -1 ? [] : [[p.refDate, formatDecimal(p.weights[i]!, WEIGHT_SCALE)]]
        })
        assert.deepStrictEqual(s.points.map((pt) => [pt.refDate, pt.weightPct]), expected)
      }
      // entering and leaving across the 1 September rebalance
      const before = history.find((p) => p.refDate === "2025-08-29")!
      assert.deepStrictEqual(
        [...data.comparison!.entered.map((c) => c.ticker)].sort(),
        latest.tickers.filter((t) => !before.tickers.includes(t)).sort()
      )
      assert.deepStrictEqual(
        [...data.comparison!.left.map((c) => c.ticker)].sort(),
        before.tickers.filter((t) => !latest.tickers.includes(t)).sort()
      )
      const html = renderReport(data, { locale: "pt-BR" })
      assert.include(html, `data-field="constituents">${latest.size}<`)

      // an unknown ticker names the ones that exist
      const unknown = yield* Effect.flip(loadReportData({ tickers: ["ZZZZ3" as never] }))
      assert.strictEqual((unknown as ReportError).reason, "UnknownTicker")
    }).pipe(
      Effect.provide(LocalLive.layer({ warehouse })),
      Effect.ensuring(Effect.sync(() => fs.rmSync(warehouse, { recursive: true, force: true })))
    )
  })
})
