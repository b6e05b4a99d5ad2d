/**
 * The generator: deterministic, realistic, and every portfolio satisfies the decoders' invariants.
 */
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES, shareClassOf } from "@b3-pipeline/core/Domain"
import { generateHistory, generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import * as Arb from "@b3-pipeline/core/testing/Arbitraries"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"

const D = "2025-04-07" as RefDate
const TICKER = /^[A-Z][A-Z0-9]{3}[0-9]{1,2}[A-Z]?$/

describe("generatePortfolio", () => {
  it("satisfies every invariant: exact weight sum, exact total, unique valid tickers, sectors", () => {
    fc.assert(
      fc.property(Arb.portfolio({ maxSize: 300 }), (p) => {
        assert.strictEqual(p.tickers.length, p.size)
        assert.strictEqual(new Set(p.tickers).size, p.size)
        assert.deepStrictEqual(p.tickers.filter((t) => !TICKER.test(t)), [])
        assert.strictEqual(p.weights.reduce((a, b) => a + b, 0), 100_000)
        assert.isTrue(p.weights.every((w) => w >= 1))
        let q = 0n
        for (const x of p.quantities) q += x
        assert.isTrue(p.quantities.every((x) => x > 0n))
        assert.strictEqual(q, p.totalQuantity)
        assert.isNotNull(p.reductor)
        assert.deepStrictEqual(p.assets.filter((a) => a !== a.trim() || a.includes(";") || a === ""), [])
        if (p.segment === "2") {
          // grouped: each sector's rows are contiguous
          const seen = new Set<string>()
          for (let i = 0; i < p.size; i++) {
            const s = p.sectors[i]!
            if (i > 0 && p.sectors[i - 1] !== s && seen.has(s)) assert.fail(`sector ${s} split`)
            seen.add(s)
          }
        } else {
          assert.isTrue(p.sectors.every((s) => s === null))
        }
      }),
      { numRuns: 100 }
    )
  })

  it("is deterministic in its options, and the seed matters", () => {
    const a = generatePortfolio({ indexCode: "IBRA" as IndexCode, refDate: D, seed: 3 })
    const b = generatePortfolio({ indexCode: "IBRA" as IndexCode, refDate: D, seed: 3 })
    const c = generatePortfolio({ indexCode: "IBRA" as IndexCode, refDate: D, seed: 4 })
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual([...a.tickers], [...c.tickers])
  })

  it("has realistic sizes, share classes, large quantities and B3's fixed-width types", () => {
    const size = (code: string) => generatePortfolio({ indexCode: code as IndexCode, refDate: D }).size
    assert.isTrue(size("IBOV") >= 80 && size("IBOV") <= 90)
    assert.isTrue(size("IBRA") >= 170 && size("IBRA") <= 190)
    assert.strictEqual(size("IBXX"), 100)
    assert.isTrue(size("SMLL") >= 90 && size("SMLL") <= 110)
    assert.isTrue(size("IDIV") >= 35 && size("IDIV") <= 45)
    assert.isTrue(size("IFIX") >= 100 && size("IFIX") <= 120)
    for (const code of ALL_INDEX_CODES) assert.isTrue(size(code) >= 20 && size(code) <= 190, code)

    const ibov = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: D })
    assert.isTrue(ibov.quantities.some((q) => q > 2n ** 31n))
    assert.includeMembers(ibov.types.map(shareClassOf), ["ON", "PN"])
    for (const t of ibov.types) assert.match(t, /^(ON|PN|PNA|PNB|UNT)( {1,2}[A-Z]{0,3}){0,1}( +(NM|N1|N2))?$/)
    assert.isTrue(ibov.types.includes("ON      NM"))
    assert.isTrue(ibov.sectors.some((s) => s !== null && /[áéíóúçãõ]/.test(s)))

    const ifix = generatePortfolio({ indexCode: "IFIX" as IndexCode, refDate: D })
    for (const t of ifix.tickers) assert.match(t, /11$/)
    for (const t of ifix.types) assert.match(t, /^CI/)
    const bdr = generatePortfolio({ indexCode: "BDRX" as IndexCode, refDate: D })
    for (const t of bdr.tickers) assert.match(t, /3[459]$/)
  })

  it("segment 1 and the theoretical format have no sectors; big sizes still have unique tickers", () => {
    const s1 = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: D, segment: "1" })
    assert.isTrue(s1.sectors.every((s) => s === null))
    const th = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: D, format: "GetTheoricalPortfolio" })
    assert.strictEqual(th.segment, "1")
    const big = generatePortfolio({ indexCode: "IBRA" as IndexCode, refDate: D, size: 3000 })
    assert.strictEqual(new Set(big.tickers).size, 3000)
    assert.strictEqual(big.weights.reduce((a, b) => a + b, 0), 100_000)
    assert.throws(() => generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: D, size: 0 }))
  })

  it("history: trading days only, stable membership within a period, drifting weights", () => {
    const days = tradingDays("2025-01-01" as RefDate, "2025-01-12" as RefDate)
    assert.deepStrictEqual(days, [
      "2025-01-01",
      "2025-01-02",
      "2025-01-03",
      "2025-01-06",
      "2025-01-07",
      "2025-01-08",
      "2025-01-09",
      "2025-01-10"
    ])
    const h = generateHistory({
      indexCode: "IBOV" as IndexCode,
      from: "2025-01-01" as RefDate,
      to: "2025-01-12" as RefDate
    })
    assert.strictEqual(h.length, 8)
    assert.deepStrictEqual([...h[0]!.tickers], [...h[7]!.tickers])
    assert.notDeepEqual(Array.from(h[0]!.weights), Array.from(h[1]!.weights))
    const may = generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: "2025-05-05" as RefDate })
    assert.notDeepEqual([...may.tickers], [...h[0]!.tickers])
  })
})
