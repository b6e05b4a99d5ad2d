/**
 * The exact number, date and ticker primitives under the codecs (internal modules).
 */
import { refDateFromParts } from "@b3-pipeline/core/Domain"
import type { Language } from "@b3-pipeline/core/Domain"
import * as Arb from "@b3-pipeline/core/testing/Arbitraries"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as N from "../src/internal/wireNumbers.js"
import { isTicker, TICKER } from "../src/internal/wireRows.js"

const MAX_I64 = 9_223_372_036_854_775_807n
const sepOf = (l: Language) => N.separatorsOf(l)
const quantity = (l: Language, text: string): bigint | number => {
  const q = N.parseQuantity(text, sepOf(l))
  return q === N.BIG ? N.bigResult.value : q
}

describe("wire numbers", () => {
  it("quantities: format -> parse is exact up to int64, and the other locale is rejected or votes right", () => {
    fc.assert(
      fc.property(Arb.language, fc.bigInt({ min: 0n, max: MAX_I64 }), (l, q) => {
        const text = N.formatQuantity(q, l)
        assert.strictEqual(BigInt(quantity(l, text)), q)
        if (q >= 1000n) {
          // grouped: the other locale must not read it, and the vote names the right one
          assert.strictEqual(N.parseQuantity(text, sepOf(l === "pt-br" ? "en-us" : "pt-br")), N.BAD)
          assert.strictEqual(N.voteQuantity(text), l)
        }
      }),
      { numRuns: 200 }
    )
    assert.strictEqual(N.parseQuantity("9.223.372.036.854.775.808", N.PT), N.OVERFLOW)
    for (const bad of ["", "1.23", "12.3456", ".123", "1..234", "1.234.", "-5", "1 234", "1,5"]) {
      assert.strictEqual(N.parseQuantity(bad, N.PT), N.BAD, bad)
    }
  })

  it("weights: format -> parse is exact; 0-3 decimals scale; more, grouping or > 100% are BAD", () => {
    fc.assert(
      fc.property(Arb.language, fc.integer({ min: 0, max: 100_000 }), (l, w) => {
        const text = N.formatWeight(w, l)
        assert.strictEqual(N.parseWeight(text, sepOf(l)), w)
        assert.strictEqual(N.parseWeight(text, sepOf(l === "pt-br" ? "en-us" : "pt-br")), N.BAD)
        assert.strictEqual(N.voteWeight(text), l)
      }),
      { numRuns: 200 }
    )
    assert.strictEqual(N.parseWeight("2,7", N.PT), 2700)
    assert.strictEqual(N.parseWeight("2,72", N.PT), 2720)
    assert.strictEqual(N.parseWeight("12", N.PT), 12000)
    for (const bad of ["2,7281", "2.728", "100,001", ",5", "5,", "", "1.000,000", "-1,000"]) {
      assert.strictEqual(N.parseWeight(bad, N.PT), N.BAD, bad)
    }
  })

  it("reductors: format -> parse is exact at 1e-8; a lone x.yyy says nothing about the locale", () => {
    fc.assert(
      fc.property(Arb.language, fc.bigInt({ min: 0n, max: MAX_I64 }), (l, r) => {
        const text = N.formatReductor(r, l)
        assert.strictEqual(N.parseReductor(text, sepOf(l)), r)
        assert.strictEqual(N.voteReductor(text), l)
      }),
      { numRuns: 200 }
    )
    assert.strictEqual(N.parseReductor("15.019.274,20202473", N.PT), 1_501_927_420_202_473n)
    assert.strictEqual(N.parseReductor("16,036,751.16744128", N.EN), 1_603_675_116_744_128n)
    assert.strictEqual(N.parseReductor("1,123456789", N.PT), undefined)
    assert.strictEqual(N.voteReductor("1.234"), undefined)
    assert.strictEqual(N.voteReductor("1.234.567"), "pt-br")
    assert.strictEqual(N.voteReductor("1.5"), "en-us")
  })

  it("dates: DD/MM/YY in pt-br, MM/DD/YY in en-us, impossible days rejected", () => {
    fc.assert(
      fc.property(Arb.language, Arb.refDate, (l, d) => {
        assert.strictEqual(N.parseShortDate(N.formatShortDate(d, l), l), d)
      }),
      { numRuns: 200 }
    )
    assert.strictEqual(N.parseShortDate("04/07/25", "en-us"), refDateFromParts(2025, 4, 7))
    assert.strictEqual(N.parseShortDate("04/07/25", "pt-br"), refDateFromParts(2025, 7, 4))
    assert.strictEqual(N.parseShortDate("31/02/25", "pt-br"), undefined)
    assert.strictEqual(N.parseShortDate("13/13/25", "en-us"), undefined)
  })

  it("the hand-written ticker check is Domain's grammar", () => {
    const chars = fc.constantFrom(..."ABCPZ0159a-".split(""))
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 9 }), (s) => {
        assert.strictEqual(isTicker(s), TICKER.test(s), s)
      }),
      { numRuns: 500 }
    )
    for (const t of ["PETR4", "BPAC11", "AAPL34", "B3SA3", "VINO11B", "PETR4F"]) assert.isTrue(isTicker(t), t)
    for (const t of ["PETR", "3ETR4", "PETR123", "petr4", "PETR4FF", "PE TR4"]) assert.isFalse(isTicker(t), t)
  })
})
