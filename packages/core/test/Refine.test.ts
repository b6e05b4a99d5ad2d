import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { epochDay } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import type { RawDate, RefineInput } from "@b3-pipeline/core/Refine"
import { periodStart, refine } from "@b3-pipeline/core/Refine"
import { assert, describe, it } from "@effect/vitest"
import * as FC from "effect/FastCheck"

const row = (
  ref_date: string,
  index_code: string,
  cod: string,
  part: number,
  segment: string | null,
  type = "ON      NM"
): RefineInput => ({
  ref_date: ref_date as RefDate,
  index_code: index_code as IndexCode,
  cod,
  asset: `ASSET ${cod}`,
  type,
  segment,
  part,
  theorical_qty: BigInt(part) * 1_000_000_007n
})

const dates = (...pairs: ReadonlyArray<[string, string]>): Array<RawDate> =>
  pairs.map(([indexCode, refDate]) => ({ indexCode: indexCode as IndexCode, refDate: refDate as RefDate }))

describe("Refine.periodStart", () => {
  it("starts four-month periods on 1 Jan, 1 May and 1 Sep", () => {
    const cases: Array<[string, string]> = [
      ["2025-01-01", "2025-01-01"],
      ["2025-04-30", "2025-01-01"],
      ["2025-05-01", "2025-05-01"],
      ["2025-08-31", "2025-05-01"],
      ["2025-09-01", "2025-09-01"],
      ["2024-12-31", "2024-09-01"],
      ["2024-02-29", "2024-01-01"]
    ]
    for (const [d, start] of cases) assert.strictEqual(periodStart(d as RefDate), start, d)
  })
})

describe("Refine.refine", () => {
  it("renames, derives and aggregates exactly (a worked example)", () => {
    const raw = [
      row("2025-05-05", "IBOV", "PETR4", 60_000, "Petróleo", "PN      N2"),
      row("2025-05-05", "IBOV", "VALE3", 39_999, "Mineração"),
      row("2025-05-05", "IBOV", "PETR3", 1, "Petróleo"),
      row("2025-05-05", "SMLL", "PETR4", 100_000, null, "PNA ATZ N1")
    ]
    const out = refine(
      raw,
      dates(["IBOV", "2025-04-30"], ["IBOV", "2025-05-05"], ["IBOV", "2025-05-06"], ["SMLL", "2025-05-05"], [
        "IBXX",
        "2025-05-02"
      ])
    )
    assert.deepStrictEqual(out.map((r) => [r.ticker, r.index_code]), [["PETR3", "IBOV"], ["PETR4", "IBOV"], [
      "PETR4",
      "SMLL"
    ], ["VALE3", "IBOV"]])
    assert.deepStrictEqual<unknown>(out[1], {
      ref_date: "2025-05-05",
      ticker: "PETR4",
      index_code: "IBOV",
      company: "ASSET PETR4",
      weight_pct: 60_000,
      theoretical_qty: 60_000n * 1_000_000_007n,
      share_class: "PN",
      sector: "Petróleo",
      index_constituents: 3,
      sector_weight_pct: 60_001,
      period_start: "2025-05-01",
      days_since_period_start: 4,
      days_since_previous_snapshot: 5
    })
    assert.deepStrictEqual<unknown>(out[2], {
      ref_date: "2025-05-05",
      ticker: "PETR4",
      index_code: "SMLL",
      company: "ASSET PETR4",
      weight_pct: 100_000,
      theoretical_qty: 100_000n * 1_000_000_007n,
      share_class: "PNA",
      sector: null,
      index_constituents: 1,
      sector_weight_pct: null,
      period_start: "2025-05-01",
      days_since_period_start: 4,
      days_since_previous_snapshot: null
    })
    assert.strictEqual(out[3]!.sector_weight_pct, 39_999)
    assert.strictEqual(out[3]!.share_class, "ON")
  })

  it("takes the previous snapshot of the same index only, from every raw date given", () => {
    const raw = [row("2025-01-02", "IBOV", "AAAA3", 100_000, null), row("2025-03-10", "IBOV", "AAAA3", 100_000, null)]
    const out = refine(
      raw,
      dates(["IBOV", "2025-03-10"], ["SMLL", "2025-03-09"], ["IBOV", "2024-12-30"], ["IBOV", "2025-03-03"], [
        "IBOV",
        "2025-01-02"
      ])
    )
    assert.deepStrictEqual<unknown>(
      out.map((r) => [r.ref_date, r.days_since_previous_snapshot, r.days_since_period_start]),
      [
        ["2025-01-02", 3, 1],
        ["2025-03-10", 7, 68]
      ]
    )
    assert.deepStrictEqual(refine(raw, []).map((r) => r.days_since_previous_snapshot), [null, null])
  })

  it("gives nothing for nothing", () => {
    assert.deepStrictEqual(refine([], dates(["IBOV", "2025-01-02"])), [])
  })

  it.prop(
    "invariants per index and day: one row per input, weights sum to 100 within rounding, sector sums and counts exact",
    {
      days: FC.uniqueArray(FC.integer({ min: 0, max: 800 }), { minLength: 1, maxLength: 3 }),
      indexes: FC.uniqueArray(FC.constantFrom("IBOV", "SMLL", "IFIX", "IDIV"), { minLength: 1, maxLength: 3 }),
      seed: FC.integer({ min: 0, max: 10_000 }),
      segment: FC.constantFrom("1" as const, "2" as const)
    },
    ({ days, indexes, seed, segment }) => {
      const raw: Array<RefineInput> = []
      const rawDates: Array<RawDate> = []
      for (const d of days) {
        const refDate = new Date(Date.UTC(2023, 0, 2) + d * 86_400_000).toISOString().slice(0, 10) as RefDate
        for (const index of indexes) {
          const p = generatePortfolio({ indexCode: index as IndexCode, refDate, seed, segment, size: 5 + (seed % 40) })
          rawDates.push({ indexCode: p.indexCode, refDate })
          for (let i = 0; i < p.size; i++) {
            raw.push({
              ref_date: refDate,
              index_code: p.indexCode,
              cod: p.tickers[i]!,
              asset: p.assets[i]!,
              type: p.types[i]!,
              segment: p.sectors[i] ?? null,
              part: p.weights[i]!,
              theorical_qty: p.quantities[i]!
            })
          }
        }
      }
      const out = refine(raw, rawDates)
      assert.strictEqual(out.length, raw.length)
      const groups = new Map<string, typeof out>()
      for (const r of out) {
        const k = `${r.ref_date}|${r.index_code}`
        groups.set(k, [...(groups.get(k) ?? []), r])
      }
      for (const [k, rows] of groups) {
        const total = rows.reduce((s, r) => s + r.weight_pct, 0)
        assert.isAtMost(Math.abs(total - 100_000), 3 + rows.length, k)
        for (const r of rows) {
          assert.strictEqual(r.index_constituents, rows.length)
          const sectorSum = rows.filter((x) => x.sector === r.sector).reduce((s, x) => s + x.weight_pct, 0)
          assert.strictEqual(r.sector_weight_pct, r.sector === null ? null : sectorSum)
          assert.isTrue(r.period_start <= r.ref_date)
          assert.strictEqual(r.days_since_period_start, epochDay(r.ref_date) - epochDay(r.period_start))
          assert.isTrue(r.days_since_period_start >= 0 && r.days_since_period_start < 123)
          const earlier = rawDates.filter((d) => d.indexCode === r.index_code && d.refDate < r.ref_date).map((d) =>
            epochDay(d.refDate)
          )
          assert.strictEqual(
            r.days_since_previous_snapshot,
            earlier.length === 0 ? null : epochDay(r.ref_date) - Math.max(...earlier)
          )
        }
      }
      for (let i = 1; i < out.length; i++) {
        const a = out[i - 1]!
        const b = out[i]!
        const key = (r: typeof a) => [r.ref_date, r.ticker, r.index_code]
        assert.isTrue(key(a).join("\u0000") < key(b).join("\u0000"), "sorted and unique")
      }
    },
    { fastCheck: { numRuns: 60 } }
  )
})
