import * as Catalog from "@b3-pipeline/core/Catalog"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { refine } from "@b3-pipeline/core/Refine"
import type { RawDate, RawRow } from "@b3-pipeline/core/Refine"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DuckDbRefineJob from "../src/DuckDbRefineJob.js"
import { generate, readRefinedDate, tempWarehouse, writeRaw } from "./fixtures.js"

const jobLayer = (warehouse: string) =>
  DuckDbRefineJob.layer({ warehouse }).pipe(Layer.provideMerge(Catalog.layerMemory), Layer.provide(NodeContext.layer))

describe("DuckDbRefineJob", () => {
  it.effect("refines a date like core's reference refine", () => {
    const warehouse = tempWarehouse()
    return Effect.gen(function*() {
      const dates = ["2025-04-30", "2025-05-02", "2025-05-05"]
      const portfolios = generate(["IBOV", "SMLL", "IDIV"], dates)
      const rows: Array<RawRow> = []
      for (const p of portfolios) rows.push(...writeRaw(warehouse, p))
      const rawDates: Array<RawDate> = portfolios.map((p) => ({ indexCode: p.indexCode, refDate: p.refDate }))
      const job = yield* RefineJob
      for (const d of dates) {
        const run = yield* job.start({ refDate: d as RefDate })
        const expected = refine(rows.filter((r) => r.ref_date === d), rawDates)
        assert.strictEqual(run.state, "SUCCEEDED")
        assert.strictEqual(run.rows, expected.length)
        const actual = readRefinedDate(warehouse, d)
        assert.deepStrictEqual(actual, expected)
      }
    }).pipe(Effect.provide(jobLayer(warehouse)))
  })
})
