import type { IndexCode, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import { formatDecimal } from "@b3-pipeline/core/Domain"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { TrinoSQL } from "dt-sql-parser"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pickXTicks } from "../src/report/Charts.js"
import { escapeHtml, formatDecimalText, formatPercent } from "../src/report/Format.js"
import { loadReportData, renderReport, ReportError, writeReport } from "../src/report/Report.js"
import type { ReportData, ReportMember } from "../src/report/Report.js"
import { CREATE_RAW, CREATE_REFINED, duckDbEngine, insertPortfolios, portfolio } from "./report-support.js"
import type { Member, RecordingEngine } from "./report-support.js"

// ---------------------------------------------------------------------------------------------
// Fixture: IBOV on three days (segment 2, with awkward names), SMLL on one day (segment 1, no raw)
// ---------------------------------------------------------------------------------------------

const BANKS = "Financeiro / Bancos"
const OIL = "Petróleo, Gás e Biocombustíveis / Petróleo"
const base: Array<Omit<Member, "quantity">> = [
  { ticker: "VALE3", asset: "VALE", sector: "Materiais Básicos / Mineração", weight: 13250 },
  { ticker: "ITUB4", asset: "ITAUUNIBANCO", sector: BANKS, weight: 12570, type: "PN  EDJ N1" },
  { ticker: "PETR4", asset: "PETROBRAS", sector: OIL, weight: 9100, type: "PN      N2" },
  { ticker: "PETR3", asset: "PETROBRAS", sector: OIL, weight: 6210 },
  { ticker: "BBDC4", asset: "BRADESCO", sector: BANKS, weight: 5570, type: "PN      N1" },
  { ticker: "B3SA3", asset: "B3", sector: "Financeiro / Serv Financ Diversos", weight: 5200 },
  { ticker: "WEGE3", asset: "WEG", sector: "Bens Indls / Máqs e Equips", weight: 4900 },
  { ticker: "ABEV3", asset: "AMBEV S/A", sector: "Consumo não Cíclico / Bebidas", weight: 4800 },
  { ticker: "BPAC11", asset: "BTGP BANCO", sector: BANKS, weight: 4700, type: "UNT     N2" },
  { ticker: "ELET3", asset: "ELETROBRAS", sector: "Utilidade Pública / Energia Elétrica", weight: 4500 },
  { ticker: "RENT3", asset: "LOCALIZA", sector: "Bens Indls / Transporte", weight: 4100 },
  { ticker: "SUZB3", asset: "SUZANO S.A.", sector: "Materiais Básicos / Madeira e Papel", weight: 3900 },
  { ticker: "RDOR3", asset: "REDE D'OR", sector: "Saúde / Serv.Méd.Hospit", weight: 3800 },
  { ticker: "EQTL3", asset: "EQUATORIAL", sector: "Utilidade Pública / Energia Elétrica", weight: 3700 },
  { ticker: "GGBR4", asset: "GERDAU", sector: "Materiais Básicos / Siderurgia", weight: 3500, type: "PN      N1" },
  { ticker: "JBSS3", asset: "JBS", sector: "Consumo não Cíclico / Carnes & Derivados", weight: 3400 },
  { ticker: "TIMS3", asset: "TIM <BRASIL>", sector: "Comunicações / Telecomunicações", weight: 3300 },
  { ticker: "LREN3", asset: "LOJAS RENNER", sector: "Consumo Cíclico / Comércio", weight: 2500 }
]
const TOTAL = 90587133892n
const withQuantities = (members: ReadonlyArray<Omit<Member, "quantity">>): Array<Member> => {
  const qs = members.map((_, i) => BigInt(1_000_000_000 + i * 123_456_789))
  const rest = TOTAL - qs.slice(0, -1).reduce((a, b) => a + b, 0n)
  return members.map((m, i) => ({ ...m, quantity: i === members.length - 1 ? rest : qs[i]! }))
}
const day = (date: string, tweak: number, last: Omit<Member, "quantity">) =>
  portfolio(
    "IBOV",
    date,
    withQuantities([
      ...base.map((m) =>
        m.ticker === "VALE3"
          ? { ...m, weight: m.weight + tweak }
          : m.ticker === "PETR4"
          ? { ...m, weight: m.weight - tweak }
          : m
      ),
      last
    ])
  )
const NEWC3 = { ticker: "NEWC3", asset: "NOVA & CIA", sector: BANKS, weight: 1000 }
const OLDX3 = { ticker: "OLDX3", asset: "VELHA/ANTIGA S.A.", sector: "Financeiro / Seguros", weight: 1000 }
const ibov = [day("2025-09-30", 200, OLDX3), day("2025-10-01", 100, OLDX3), day("2025-10-03", 0, NEWC3)]
const smll = portfolio("SMLL", "2025-10-03", [
  { ticker: "AAAA3", asset: "ALFA", weight: 50000, quantity: 700_000_000n },
  { ticker: "BBBB4", asset: "BETA", weight: 30000, quantity: 200_000_000n, type: "PN      N1" },
  { ticker: "CCCC11", asset: "GAMA", weight: 20000, quantity: 100_000_000n, type: "UNT     N2" }
])
const FULL = [CREATE_REFINED, CREATE_RAW, ...insertPortfolios(ibov), ...insertPortfolios([smll], { raw: false })]

const load = (options: Parameters<typeof loadReportData>[0], setup = FULL, recorder?: RecordingEngine) =>
  loadReportData(options).pipe(Effect.provide(duckDbEngine(setup, recorder)))

const count = (html: string, needle: string | RegExp): number =>
  typeof needle === "string" ? html.split(needle).length - 1 : (html.match(needle) ?? []).length

// ---------------------------------------------------------------------------------------------

describe("Format", () => {
  it("formats exact decimal text for pt-BR and en-US", () => {
    assert.strictEqual(formatPercent("3.570", "pt-BR"), "3,570%")
    assert.strictEqual(formatPercent("3.570", "en-US"), "3.570%")
    assert.strictEqual(formatDecimalText("90587133892", "pt-BR"), "90.587.133.892")
    assert.strictEqual(formatDecimalText("90587133892", "en-US"), "90,587,133,892")
    assert.strictEqual(formatDecimalText("15019274.20202473", "pt-BR"), "15.019.274,20202473")
    assert.strictEqual(formatDecimalText("15019274.20202473", "en-US"), "15,019,274.20202473")
    assert.strictEqual(formatDecimalText("100.000", "pt-BR"), "100,000")
    assert.strictEqual(formatDecimalText("1000", "pt-BR"), "1.000")
    assert.strictEqual(formatDecimalText("0.005", "en-US"), "0.005")
    assert.strictEqual(formatDecimalText("-1234567.5", "pt-BR"), "-1.234.567,5")
    assert.strictEqual(formatDecimalText("not a number", "pt-BR"), "not a number")
    // beyond 2^53: still exact
    assert.strictEqual(formatDecimalText("123456789012345678901", "en-US"), "123,456,789,012,345,678,901")
  })

  it("round-trips: removing the grouping gives back the exact digits (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 8 }), (v, scale) => {
        const plain = formatDecimal(v, scale)
        const pt = formatDecimalText(plain, "pt-BR")
        const en = formatDecimalText(plain, "en-US")
        assert.strictEqual(pt.replace(/\./g, "").replace(",", "."), plain)
        assert.strictEqual(en.replace(/,/g, ""), plain)
        // groups of exactly three digits after the first
        assert.match(en.split(".")[0]!, /^-?\d{1,3}(,\d{3})*$/)
      }),
      { numRuns: 200 }
    )
  })

  it("escapes HTML", () => {
    assert.strictEqual(escapeHtml(`A&B <x> "q" 'a'`), "A&amp;B &lt;x&gt; &quot;q&quot; &#39;a&#39;")
  })
})

describe("loadReportData", () => {
  it.effect("defaults: latest IBOV date, 5 heaviest tickers, previous snapshot, exact values", () =>
    Effect.gen(function*() {
      const recorder: RecordingEngine = { statements: [] }
      const data = yield* load({}, FULL, recorder)
      assert.strictEqual(data.indexCode, "IBOV")
      assert.strictEqual(data.refDate, "2025-10-03")
      assert.strictEqual(data.constituents, 19)
      assert.strictEqual(data.totalQuantity, "90587133892")
      assert.strictEqual(data.reductor, "15019274.20202473")
      assert.deepStrictEqual(data.members.slice(0, 3).map((m) => [m.ticker, m.weightPct]), [
        ["VALE3", "13.250"],
        ["ITUB4", "12.570"],
        ["PETR4", "9.100"]
      ])
      assert.deepStrictEqual(data.members[8], {
        ticker: "BPAC11" as Ticker,
        company: "BTGP BANCO",
        shareClass: "UNT",
        sector: BANKS,
        weightPct: "4.700",
        theoreticalQty: String(1_000_000_000 + 8 * 123_456_789)
      })
      // sector sums are exact: ITUB4 + BBDC4 + BPAC11 + NEWC3
      const banks = data.sectors.find((s) => s.sector === BANKS)!
      assert.deepStrictEqual(banks, { sector: BANKS, weightPct: "23.840", members: 4 })
      assert.strictEqual(data.sectors[0]!.sector, BANKS)
      assert.deepStrictEqual<ReadonlyArray<string>>(data.dates, ["2025-09-30", "2025-10-01", "2025-10-03"])
      assert.deepStrictEqual(data.series.map((s) => s.ticker), ["VALE3", "ITUB4", "PETR4", "PETR3", "BBDC4"])
      assert.deepStrictEqual(data.series[0]!.points.map((p) => p.weightPct), ["13.450", "13.350", "13.250"])
      assert.deepStrictEqual(data.series[2]!.points.map((p) => p.weightPct), ["8.900", "9.000", "9.100"])
      assert.deepStrictEqual(data.comparison, {
        from: "2025-10-01" as RefDate,
        to: "2025-10-03" as RefDate,
        entered: [{ ticker: "NEWC3" as Ticker, company: "NOVA & CIA", weightPct: "1.000" }],
        left: [{ ticker: "OLDX3" as Ticker, company: "VELHA/ANTIGA S.A.", weightPct: "1.000" }]
      })
      // every statement is valid Trino (Athena) SQL, and only branded values reach it
      const trino = new TrinoSQL()
      assert.isAbove(recorder.statements.length, 4)
      for (const statement of recorder.statements) {
        assert.deepStrictEqual(trino.validate(statement), [], statement)
        assert.notMatch(statement, /"/)
      }
    }))

  it.effect("explicit date, tickers and comparison date", () =>
    Effect.gen(function*() {
      const data = yield* load({
        refDate: "2025-10-01" as RefDate,
        tickers: ["PETR4" as Ticker, "NEWC3" as Ticker, "PETR4" as Ticker],
        compareDate: "2025-09-30" as RefDate
      })
      assert.strictEqual(data.refDate, "2025-10-01")
      assert.deepStrictEqual<ReadonlyArray<string>>(data.dates, ["2025-09-30", "2025-10-01"])
      assert.deepStrictEqual(data.series.map((s) => [s.ticker, s.points.length]), [["PETR4", 2], ["NEWC3", 0]])
      assert.deepStrictEqual(data.comparison?.entered, [])
      assert.deepStrictEqual(data.comparison?.left, [])
      // a later comparison date is ordered from -> to
      const later = yield* load({ refDate: "2025-09-30" as RefDate, compareDate: "2025-10-03" as RefDate })
      assert.strictEqual(later.comparison?.from, "2025-09-30")
      assert.strictEqual(later.comparison?.to, "2025-10-03")
      assert.deepStrictEqual(later.comparison?.entered.map((c) => c.ticker), ["NEWC3"])
    }))

  it.effect("segment-1 index without raw rows: no sectors, total from the members, no reductor, no comparison", () =>
    Effect.gen(function*() {
      const data = yield* load({ indexCode: "SMLL" as IndexCode })
      assert.deepStrictEqual(data.sectors, [])
      assert.strictEqual(data.totalQuantity, "1000000000")
      assert.strictEqual(data.reductor, null)
      assert.strictEqual(data.comparison, null)
      assert.deepStrictEqual(data.series.map((s) => s.ticker), ["AAAA3", "BBBB4", "CCCC11"])
      const html = renderReport(data, { locale: "pt-BR" })
      assert.include(html, "sem dados de setor (segmento 1)")
      assert.strictEqual(count(html, "data-empty=\"sectors\""), 1)
      assert.strictEqual(count(html, "data-chart=\"sectors\""), 0)
      assert.include(html, "data-empty=\"changes\"")
      assert.include(html, "1.000.000.000")
    }))

  const failure = (options: Parameters<typeof loadReportData>[0], setup = FULL) =>
    Effect.map(Effect.either(load(options, setup)), (e) => {
      assert.isTrue(Either.isLeft(e), "expected a failure")
      return (e as Either.Left<unknown, unknown>).left
    })

  it.effect("empty warehouse (no tables, or empty tables) -> EmptyWarehouse telling what to run", () =>
    Effect.gen(function*() {
      for (const setup of [[], [CREATE_REFINED, CREATE_RAW]]) {
        const e = yield* failure({}, setup)
        assert.instanceOf(e, ReportError)
        assert.strictEqual((e as ReportError).reason, "EmptyWarehouse")
        assert.include((e as ReportError).message, "npx b3 run")
        assert.include((e as ReportError).message, "npx b3 ingest --file")
      }
    }))

  it.effect("unknown index, ticker and dates name what exists", () =>
    Effect.gen(function*() {
      const index = (yield* failure({ indexCode: "IBXX" as IndexCode })) as ReportError
      assert.strictEqual(index.reason, "UnknownIndex")
      assert.include(index.message, "IBXX")
      assert.include(index.message, "IBOV, SMLL")

      const ticker = (yield* failure({ tickers: ["VALE3" as Ticker, "ZZZZ3" as Ticker] })) as ReportError
      assert.strictEqual(ticker.reason, "UnknownTicker")
      assert.include(ticker.message, "ZZZZ3")
      assert.include(ticker.message, "VALE3, ITUB4")
      // a ticker of another index is unknown in this one
      const other = (yield* failure({ tickers: ["AAAA3" as Ticker] })) as ReportError
      assert.strictEqual(other.reason, "UnknownTicker")

      const date = (yield* failure({ refDate: "2025-10-02" as RefDate })) as ReportError
      assert.strictEqual(date.reason, "UnknownDate")
      assert.include(date.message, "2025-10-02")
      assert.include(date.message, "2025-09-30, 2025-10-01, 2025-10-03")

      const compare = (yield* failure({ compareDate: "2024-01-02" as RefDate })) as ReportError
      assert.strictEqual(compare.reason, "UnknownDate")
      assert.include(compare.message, "2024-01-02")
    }))

  it.effect("a malformed value is a QueryError BadRow naming the column", () =>
    Effect.gen(function*() {
      const setup = [
        CREATE_REFINED.replace("weight_pct DECIMAL(7,3)", "weight_pct VARCHAR"),
        `INSERT INTO b3_portfolio_refined (index_code, company, weight_pct, theoretical_qty, ref_date, ticker)
         VALUES ('IBOV', 'X', 'abc', 1, DATE '2025-10-03', 'VALE3')`
      ]
      const e = (yield* failure({}, setup)) as { _tag: string; reason: string; message: string }
      assert.strictEqual(e._tag, "QueryError")
      assert.strictEqual(e.reason, "BadRow")
      assert.include(e.message, "weight_pct")
      assert.include(e.message, "\"abc\"")
    }))
})

describe("renderReport", () => {
  it.effect("draws the charts from loaded data, formatted for each locale", () =>
    Effect.gen(function*() {
      const data = yield* load({})
      const pt = renderReport(data, { locale: "pt-BR" })
      const en = renderReport(data, { locale: "en-US" })
      for (const html of [pt, en]) {
        assert.match(html, /^<!doctype html>/)
        // 15 bars + "others" (4 members), one bar per sector, 5 series x 3 points, 1 entered + 1 left
        const top = html.slice(html.indexOf("data-chart=\"top-weights\""), html.indexOf("data-section=\"sectors\""))
        assert.strictEqual(count(top, "data-bar"), 16)
        assert.strictEqual(count(top, "data-others=\"4\""), 1)
        const sectors = html.slice(
          html.indexOf("data-chart=\"sectors\""),
          html.indexOf("data-section=\"weights-over-time\"")
        )
        assert.strictEqual(count(sectors, "data-bar"), data.sectors.length)
        assert.strictEqual(count(html, "data-point"), 15)
        assert.strictEqual(count(html, /<g data-series="/g), 5)
        assert.strictEqual(count(html, /<li data-legend="/g), 5)
        assert.strictEqual(count(html, "<tr data-row=\"entered\""), 1)
        assert.strictEqual(count(html, "<tr data-row=\"left\""), 1)
        assert.strictEqual(count(html, "<tr data-row=\"member\""), 19)
        // self-contained: no script, no external reference of any kind
        assert.notMatch(html, /<script|<link|<img|@import|url\(|src=|href=/i)
        assert.notMatch(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, ""), /https?:/)
        // escaped names
        assert.include(html, "TIM &lt;BRASIL&gt;")
        assert.notInclude(html, "<BRASIL>")
        assert.include(html, "NOVA &amp; CIA")
        assert.include(html, "REDE D&#39;OR")
        assert.include(html, "Carnes &amp; Derivados")
        assert.include(html, "VELHA/ANTIGA S.A.")
        assert.include(html, "Petróleo, Gás e Biocombustíveis / Petróleo")
      }
      assert.include(pt, "<html lang=\"pt-BR\">")
      assert.include(pt, "13,250%")
      assert.include(pt, "10,200%") // others: 3.400 + 3.300 + 2.500 + 1.000
      assert.include(pt, "23,840%")
      assert.include(pt, "data-field=\"total-quantity\">90.587.133.892<")
      assert.include(pt, "data-field=\"reductor\">15.019.274,20202473<")
      assert.include(pt, "data-field=\"date\">03/10/2025<")
      assert.include(pt, "data-field=\"weight-sum\">100,000%<")
      assert.notInclude(pt, "13.250%")
      assert.include(en, "13.250%")
      assert.include(en, "10.200%")
      assert.include(en, "data-field=\"total-quantity\">90,587,133,892<")
      assert.include(en, "data-field=\"reductor\">15,019,274.20202473<")
      assert.include(en, "data-field=\"date\">Oct 3, 2025<")
      assert.notInclude(en, "13,250%")
      // pure
      assert.strictEqual(renderReport(data, { locale: "pt-BR" }), pt)
    }))

  const member = (ticker: string, weightPct: string): ReportMember => ({
    ticker: ticker as Ticker,
    company: `${ticker} S.A.`,
    shareClass: "ON",
    sector: null,
    weightPct,
    theoreticalQty: "1000"
  })
  const handMade = (members: ReadonlyArray<ReportMember>): ReportData => ({
    indexCode: "ICO2" as IndexCode,
    refDate: "2025-01-10" as RefDate,
    constituents: members.length,
    totalQuantity: null,
    reductor: null,
    members,
    sectors: [],
    dates: ["2025-01-08", "2025-01-09", "2025-01-10"] as Array<RefDate>,
    series: [{
      ticker: "AAAA3" as Ticker,
      company: "A & B",
      // out of the index on the 9th: two line pieces, two points
      points: [{ refDate: "2025-01-08" as RefDate, weightPct: "1.000" }, {
        refDate: "2025-01-10" as RefDate,
        weightPct: "2.000"
      }]
    }],
    comparison: {
      from: "2025-01-09" as RefDate,
      to: "2025-01-10" as RefDate,
      entered: [],
      left: []
    }
  })

  it("hand-made data: few members, a gap in a series, no changes, unknown totals", () => {
    const html = renderReport(handMade([member("AAAA3", "60.000"), member("BBBB4", "40.000")]), { locale: "en-US" })
    assert.strictEqual(count(html, "data-bar"), 2)
    assert.strictEqual(count(html, "data-others"), 0)
    assert.strictEqual(count(html, "data-point"), 2)
    const path = /<path class="line" d="([^"]+)"/.exec(html)![1]!
    assert.strictEqual(count(path, "M"), 2)
    assert.strictEqual(count(path, "L"), 0)
    assert.include(html, "data-field=\"total-quantity\">\u2014<")
    assert.include(html, "data-empty=\"changes\"")
    assert.include(html, "no constituent entered or left")
    assert.include(html, "AAAA3 (A &amp; B)")
  })

  it("top-weights: min(n, 15) bars plus one exact 'others' bar (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 99_999 }), { minLength: 1, maxLength: 60 }), (weights) => {
        const sorted = [...weights].sort((a, b) => b - a)
        const members = sorted.map((w, i) => member(`T${String(i).padStart(3, "0")}3`, formatDecimal(w, 3)))
        const html = renderReport(handMade(members), { locale: "pt-BR" })
        const top = html.slice(html.indexOf("data-chart=\"top-weights\""), html.indexOf("data-section=\"sectors\""))
        assert.strictEqual(count(top, "data-bar"), Math.min(sorted.length, 15) + (sorted.length > 15 ? 1 : 0))
        if (sorted.length > 15) {
          const others = formatPercent(formatDecimal(sorted.slice(15).reduce((a, b) => a + b, 0), 3), "pt-BR")
          assert.include(top, `${others}</text>`)
        }
        assert.strictEqual(count(html, "<tr data-row=\"member\""), sorted.length)
      }),
      { numRuns: 60 }
    )
  })
})

describe("writeReport", () => {
  it.effect("loads, renders in the chosen locale and writes the file", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "b3-report-write-"))
      const out = path.join(dir, "report.html")
      const written = yield* writeReport({ out, locale: "en-US", indexCode: "IBOV" as IndexCode }).pipe(
        Effect.provide(duckDbEngine(FULL)),
        Effect.provide(NodeContext.layer)
      )
      const html = fs.readFileSync(out, "utf8")
      assert.strictEqual(written.path, out)
      assert.strictEqual(written.bytes, Buffer.byteLength(html))
      assert.strictEqual(written.data.refDate, "2025-10-03")
      assert.include(html, "90,587,133,892")
      assert.include(html, "Generated 1970-01-01T00:00:00.000Z.") // TestClock time
      // default locale is pt-BR
      yield* writeReport({ out }).pipe(Effect.provide(duckDbEngine(FULL)), Effect.provide(NodeContext.layer))
      assert.include(fs.readFileSync(out, "utf8"), "90.587.133.892")
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})

describe("x-axis labels", () => {
  it("pickXTicks: first and last kept, labels apart and inside the axis, whatever the spacing (property)", () => {
    const charW = 11 * 0.62
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 300 }),
        fc.integer({ min: 5, max: 8 }),
        (fractions, chars) => {
          const xs = [0, 1, ...fractions].sort((a, b) => a - b).map((f) => 46 + f * 340)
          const ticks = pickXTicks(xs, xs.map(() => chars), 46, 386)
          assert.strictEqual(ticks[0]!.index, 0)
          assert.strictEqual(ticks[ticks.length - 1]!.index, xs.length - 1)
          const spans = ticks.map((t) => {
            const w = chars * charW
            const x = xs[t.index]!
            return t.anchor === "start" ? [x, x + w] : t.anchor === "end" ? [x - w, x] : [x - w / 2, x + w / 2]
          })
          for (let i = 1; i < spans.length; i++) assert.isAbove(spans[i]![0]!, spans[i - 1]![1]!)
          for (const [a, b] of spans) {
            assert.isAtLeast(a!, 45)
            assert.isAtMost(b!, 387)
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
