/**
 * The B3 codecs: encode/decode identity for every format x language x segment, robustness on
 * arbitrary and damaged bytes, the three real samples, and one typed reason per kind of bad input.
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { B3ParseErrorReason } from "@b3-pipeline/core/B3ParseError"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import type { IndexCode, Portfolio, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import type { Payload } from "@b3-pipeline/core/PortfolioSource"
import * as Arb from "@b3-pipeline/core/testing/Arbitraries"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"

const IBOV = "IBOV" as IndexCode
const sample = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../fixtures/b3/${name}`, import.meta.url)))

const plain = (p: Portfolio) => ({
  ...p,
  tickers: [...p.tickers],
  assets: [...p.assets],
  types: [...p.types],
  sectors: [...p.sectors],
  weights: Array.from(p.weights),
  quantities: Array.from(p.quantities)
})

const ok = (e: Either.Either<Portfolio, B3Wire.B3ParseError>): Portfolio => {
  if (Either.isLeft(e)) assert.fail(`expected a portfolio, got ${e.left.message}`)
  return e.right
}

const failsWith = (
  e: Either.Either<Portfolio, B3Wire.B3ParseError>,
  reason: B3ParseErrorReason,
  where?: { row?: number; field?: string; page?: number }
): B3Wire.B3ParseError => {
  if (Either.isRight(e)) return assert.fail(`expected ${reason}, got a portfolio of ${e.right.size} rows`)
  assert.strictEqual(e.left.reason, reason, e.left.message)
  if (where?.row !== undefined) assert.strictEqual(e.left.row, where.row, e.left.message)
  if (where?.field !== undefined) assert.strictEqual(e.left.field, where.field, e.left.message)
  if (where?.page !== undefined) assert.strictEqual(e.left.page, where.page, e.left.message)
  return e.left
}

/** The invariants a successful decode promises, checked independently of the decoder. */
const assertInvariants = (p: Portfolio) => {
  assert.strictEqual(p.tickers.length, p.size)
  assert.strictEqual(new Set(p.tickers).size, p.size)
  let q = 0n
  for (const x of p.quantities) q += x
  assert.strictEqual(q, p.totalQuantity)
  let w = 0
  for (const x of p.weights) w += x
  assert.isAtMost(Math.abs(w - 100_000), Math.max(3, Math.round(p.size / 2)))
  assert.deepStrictEqual(p.tickers.filter((t) => !/^[A-Z][A-Z0-9]{3}[0-9]{1,2}[A-Z]?$/.test(t)), [])
}

const text = (b: Uint8Array) => new TextDecoder().decode(b)
const bytes = (s: string) => new TextEncoder().encode(s)
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))

describe("B3Wire round trip", () => {
  it("encode -> decode is the identity for every format x language x segment x page size", () => {
    fc.assert(
      fc.property(Arb.encodedCase(), (c) => {
        const decoded = ok(B3Wire.decode(c.pages, c.options))
        assert.deepStrictEqual(plain(decoded), plain(c.expected))
        // auto-detection finds the same thing
        const auto = ok(B3Wire.decode(c.pages, { ...c.options, format: "auto" }))
        assert.deepStrictEqual(plain(auto), plain(c.expected))
      }),
      { numRuns: 200 }
    )
  })

  it("pages: page size 1 gives one page per row, all sharing one header", () => {
    const p = generatePortfolio({ indexCode: IBOV, refDate: "2025-04-07" as RefDate, size: 9 })
    const pages = B3Encode.encodePortfolioDay(p, { language: "pt-br", pageSize: 1 })
    assert.strictEqual(pages.length, 9)
    const j = JSON.parse(text(pages[3]!))
    assert.deepStrictEqual(j.page, { pageNumber: 4, pageSize: 1, totalRecords: 9, totalPages: 9 })
    assert.deepStrictEqual(plain(ok(B3Wire.decode(pages, { indexCode: IBOV }))), plain(p))
  })

  it("encodes byte-realistic JSON: B3's key order, strings, grouped numbers, nulls in segment 1", () => {
    const p = generatePortfolio({ indexCode: IBOV, refDate: "2025-04-07" as RefDate, size: 3, segment: "1", seed: 4 })
    const j = text(B3Encode.encodePortfolioDay(p, { language: "en-us" })[0]!)
    assert.match(
      j,
      /^\{"page":\{"pageNumber":1,"pageSize":9999,"totalRecords":3,"totalPages":1\},"header":\{"date":"04\/07\/25","text":"Total Theorethical Quantity","part":"100\.000","partAcum":"100\.000","textReductor":"Reductor","reductor":"\d{1,3}(,\d{3})*\.\d{8}","theoricalQty":"\d{1,3}(,\d{3})*"\},"results":\[\{"segment":null,"cod":"[A-Z0-9]+","asset":"[^"]+","type":"[^"]+","part":"\d+\.\d{3}","partAcum":null,"theoricalQty":"\d{1,3}(,\d{3})*"\}/
    )
    const t = text(B3Encode.encodeTheoricalPortfolio(p, { language: "pt-br" })[0]!)
    assert.match(
      t,
      /"header":\{"part":"100,000","theoricalQty":"\d{1,3}(\.\d{3})*","reductor":"[\d.]+,\d{8}"\},"results":\[\{"cod":"\w+","asset":"[^"]+","type":"[^"]+","theoricalQty":"[\d.]+","part":"\d+,\d{3}","cont":1\}/
    )
  })

  it("encodes the CSV in latin1 with CRLF, the trailing ';' and B3's footers", () => {
    const p = generatePortfolio({ indexCode: IBOV, refDate: "2025-10-03" as RefDate, size: 4, segment: "1", seed: 1 })
    const b = B3Encode.encodeCsv(p)
    const s = String.fromCharCode(...b)
    const lines = s.split("\r\n")
    assert.strictEqual(lines[0], "IBOV - Carteira do Dia 03/10/25")
    assert.strictEqual(lines[1], "Código;Ação;Tipo;Qtde. Teórica;Part. (%)")
    assert.match(lines[2]!, /^[A-Z0-9]+;[^;]+;[^;]+;\d{1,3}(\.\d{3})*;\d+,\d{3};$/)
    assert.match(lines[6]!, /^Quantidade Teórica Total;;;\d{1,3}(\.\d{3})*;100,000$/)
    assert.match(lines[7]!, /^Redutor;;;[\d.]+,\d{8}$/)
    assert.strictEqual(lines[8], "")
    assert.isTrue(b.includes(0xf3)) // "ó" as one latin1 byte
    const d = text(B3Encode.encodeDownload(p, { quoted: true }))
    assert.match(d, /^"[A-Za-z0-9+/]+=*"$/)
  })
})

describe("B3Wire robustness", () => {
  it("arbitrary bytes never throw: a B3ParseError or a valid portfolio", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.string({ maxLength: 300 }).map(bytes),
          fc.json().map(bytes)
        ),
        fc.constantFrom<B3Wire.DecodeOptions>(
          { indexCode: IBOV },
          { indexCode: IBOV, format: "GetPortfolioDay" },
          { indexCode: IBOV, format: "GetTheoricalPortfolio", refDate: "2025-01-02" as RefDate },
          { format: "CSV" },
          {}
        ),
        (b, options) => {
          const r = B3Wire.decode([b], options)
          if (Either.isRight(r)) assertInvariants(r.right)
          else assert.instanceOf(r.left, B3Wire.B3ParseError)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("damaged valid payloads never throw and never decode into a broken portfolio", () => {
    fc.assert(
      fc.property(
        Arb.encodedCase().chain((c) =>
          fc.tuple(
            fc.constant(c),
            fc.nat({ max: c.pages.length - 1 }).chain((i) => fc.tuple(fc.constant(i), Arb.mutate(c.pages[i]!)))
          )
        ),
        ([c, [i, damaged]]) => {
          const pages = c.pages.map((p, k) => (k === i ? damaged : p))
          const r = B3Wire.decode(pages, c.options)
          if (Either.isRight(r)) assertInvariants(r.right)
          else assert.instanceOf(r.left, B3Wire.B3ParseError)
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe("B3Wire real samples", () => {
  it("GetPortfolioDay en-us by sector: date 2025-04-07, 87 rows, exact total, WEGE3 2.663%", () => {
    const p = ok(B3Wire.decode([sample("GetPortfolioDay_IBOV_en-us_segment2_2025-04-07.json")], { indexCode: IBOV }))
    assert.strictEqual(p.refDate, "2025-04-07")
    assert.strictEqual(p.language, "en-us")
    assert.strictEqual(p.segment, "2")
    assert.strictEqual(p.size, 87)
    assert.strictEqual(p.totalQuantity, 99_015_750_716n)
    assert.strictEqual(p.reductor, 1_603_675_116_744_128n)
    const wege = p.tickers.indexOf("WEGE3" as never)
    assert.strictEqual(p.weights[wege], 2663)
    assert.strictEqual(p.sectors[wege], "Bens Indls / Máqs e Equips")
    assert.strictEqual(p.quantities[p.tickers.indexOf("ABEV3" as never)], 4_394_835_131n)
    assert.strictEqual(p.types[p.tickers.indexOf("JBSS3" as never)], "ON  ATZ NM")
    assertInvariants(p)
  })

  it("GetTheoricalPortfolio pt-br: 92 rows with the supplied date, exact total and reductor", () => {
    const b = sample("GetTheoricalPortfolio_IBOV_pt-br_2022-05.json")
    const p = ok(B3Wire.decode([b], { indexCode: IBOV, refDate: "2022-05-02" as RefDate }))
    assert.strictEqual(p.format, "GetTheoricalPortfolio")
    assert.strictEqual(p.language, "pt-br")
    assert.strictEqual(p.size, 92)
    assert.strictEqual(p.refDate, "2022-05-02")
    assert.strictEqual(p.totalQuantity, 96_626_612_142n)
    assert.strictEqual(p.reductor, 1_867_348_942_022_432n)
    assert.strictEqual(p.weights[p.tickers.indexOf("ABEV3" as never)], 3157)
    assertInvariants(p)
    failsWith(B3Wire.decode([b], { indexCode: IBOV }), "MissingDate")
  })

  it("CSV download (UTF-8, LF): IBOV 2025-10-03, 82 rows, exact total and reductor", () => {
    const b = sample("IBOVDia_03-10-25.csv")
    const p = ok(B3Wire.decode([b], { format: "CSV" }))
    assert.strictEqual(p.indexCode, "IBOV")
    assert.strictEqual(p.refDate, "2025-10-03")
    assert.strictEqual(p.size, 82)
    assert.strictEqual(p.totalQuantity, 90_587_133_892n)
    assert.strictEqual(p.reductor, 1_501_927_420_202_473n)
    assert.strictEqual(p.tickers[0], "ALOS3")
    assert.strictEqual(p.weights[0], 544)
    assert.strictEqual(p.types[0], "ON  ED  NM")
    assertInvariants(p)
    // the same file as B3 serves it: latin1 + CRLF, and base64 inside the download body
    const asB3 = latin1(text(b).replace(/\n/g, "\r\n"))
    assert.deepStrictEqual(plain(ok(B3Wire.decode([asB3], {}))), plain(p))
    const body = bytes(`"${Buffer.from(asB3).toString("base64")}"`)
    assert.deepStrictEqual(plain(ok(B3Wire.decode([body], { format: "CSV", indexCode: IBOV }))), plain(p))
  })

  it.effect("decodePayload takes format, index and language from the request", () =>
    Effect.gen(function*() {
      const req = {
        method: "GET",
        url: "x",
        params: {},
        status: 200,
        headers: {},
        startedAt: "",
        durationMs: 0,
        attempt: 1
      }
      const payload: Payload = {
        request: { indexCode: IBOV, method: "GetTheoricalPortfolio", language: "pt-br", segment: "1" },
        pages: [{ bytes: sample("GetTheoricalPortfolio_IBOV_pt-br_2022-05.json"), request: req }],
        fetchedAt: "2022-05-02T10:00:00Z",
        refDate: "2022-05-02" as RefDate,
        origin: "test"
      }
      const p = yield* B3Wire.decodePayload(payload)
      assert.strictEqual(p.size, 92)
      const g = generatePortfolio({ indexCode: IBOV, refDate: "2025-04-07" as RefDate })
      const dl = yield* B3Wire.decodePayload({
        ...payload,
        request: { ...payload.request, method: "GetDownloadPortfolioDay" },
        pages: [{ bytes: B3Encode.encodeDownload(g), request: req }],
        refDate: "2025-04-07" as RefDate
      })
      assert.deepStrictEqual(plain(dl), plain({ ...g, format: "CSV" }))
      const err = yield* Effect.flip(
        B3Wire.decodePayload({ ...payload, pages: [{ bytes: bytes("<html>"), request: req }] })
      )
      assert.strictEqual(err.reason, "HtmlPage")
    }))
})

describe("B3Wire bad input: a specific typed reason, never a wrong number", () => {
  const base = generatePortfolio({ indexCode: IBOV, refDate: "2025-02-14" as RefDate, size: 10, segment: "2", seed: 7 })
  const dayJson = (language: "pt-br" | "en-us" = "pt-br") =>
    JSON.parse(text(B3Encode.encodePortfolioDay(base, { language })[0]!))
  const enc = (j: unknown) => [bytes(JSON.stringify(j))]

  it("truncated JSON: NotJson; an HTML page: HtmlPage, whatever format was asked", () => {
    const whole = B3Encode.encodePortfolioDay(base, { language: "pt-br" })[0]!
    failsWith(B3Wire.decode([whole.subarray(0, whole.length - 7)], { indexCode: IBOV }), "NotJson")
    const e = failsWith(
      B3Wire.decode([bytes("<!DOCTYPE html><html><title>Just a moment...</title></html>")], {
        indexCode: IBOV,
        format: "GetPortfolioDay"
      }),
      "HtmlPage"
    )
    assert.include(e.detail, "\"Just a moment...\"")
    failsWith(
      B3Wire.decode([bytes("<html><body>520: Web server is returning an unknown error</body></html>")], {}),
      "HtmlPage"
    )
    failsWith(B3Wire.decode([bytes("\n  <html><body>maintenance</body></html>")], { format: "CSV" }), "HtmlPage")
  })

  it("empty results: Empty", () => {
    const j = dayJson()
    j.results = []
    j.page.totalRecords = 0
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "Empty")
  })

  it("missing header: BadEnvelope naming the field", () => {
    const j = dayJson()
    delete j.header
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV, format: "GetPortfolioDay" }), "BadEnvelope", { field: "header" })
  })

  it("a number in the other locale: BadNumber with row, field and value", () => {
    const j = dayJson("pt-br")
    j.results[3].theoricalQty = "1,234,567" // en-us grouping in a pt-br payload
    const e = failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "BadNumber", { row: 4, field: "theoricalQty" })
    assert.strictEqual(e.value, "1,234,567")
    const k = dayJson("pt-br")
    k.results[5].part = "2.663" // en-us decimal point in a pt-br weight: never 2663%
    failsWith(B3Wire.decode(enc(k), { indexCode: IBOV }), "BadNumber", { row: 6, field: "part" })
    const m = dayJson("en-us")
    m.results[0].part = "1,5"
    failsWith(B3Wire.decode(enc(m), { indexCode: IBOV }), "BadNumber", { row: 1, field: "part" })
    const n = dayJson("pt-br")
    n.results[2].part = "1,2345" // 4 decimals
    failsWith(B3Wire.decode(enc(n), { indexCode: IBOV }), "BadNumber", { row: 3, field: "part" })
  })

  it("a quantity past int64: Overflow", () => {
    const j = dayJson()
    j.results[1].theoricalQty = "9.223.372.036.854.775.808"
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "Overflow", { row: 2, field: "theoricalQty" })
  })

  it("a date that does not exist: BadDate", () => {
    const j = dayJson()
    j.header.date = "31/02/25"
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "BadDate", { field: "header.date" })
    // and the en-us reading of a date: 04/07/25 is 7 April
    const e = dayJson("en-us")
    e.header.date = "04/07/25"
    assert.strictEqual(ok(B3Wire.decode(enc(e), { indexCode: IBOV })).refDate, "2025-04-07")
  })

  it("duplicate tickers: DuplicateTicker", () => {
    const j = dayJson()
    j.results[6].cod = j.results[2].cod
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "DuplicateTicker", { row: 7 })
  })

  it("weights summing to 99%: WeightSum", () => {
    const j = dayJson()
    // take 1.000 point off one row (and its sector's partAcum, so only the total is wrong)
    const r = j.results.findIndex((x: { part: string }) => Number(x.part.replace(",", ".")) > 1.5)
    const sector = j.results[r].segment
    const fmt = (v: number) => (v / 1000).toFixed(3).replace(".", ",")
    const parse = (s: string) => Math.round(Number(s.replace(",", ".")) * 1000)
    j.results[r].part = fmt(parse(j.results[r].part) - 1000)
    for (const x of j.results) if (x.segment === sector) x.partAcum = fmt(parse(x.partAcum) - 1000)
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "WeightSum")
  })

  it("a wrong sector partAcum: SectorSum; a wrong total: TotalMismatch", () => {
    const j = dayJson()
    const fmt = (v: number) => (v / 1000).toFixed(3).replace(".", ",")
    const parse = (s: string) => Math.round(Number(s.replace(",", ".")) * 1000)
    const sector = j.results[0].segment
    for (const x of j.results) if (x.segment === sector) x.partAcum = fmt(parse(x.partAcum) + 1)
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "SectorSum", { field: "partAcum" })
    const k = dayJson()
    k.results[1].partAcum = fmt(parse(k.results[1].partAcum) + 10)
    failsWith(B3Wire.decode(enc(k), { indexCode: IBOV }), "SectorSum")
    const t = dayJson()
    t.results[4].theoricalQty = t.results[4].theoricalQty.replace(/\d$/, (d: string) => String((Number(d) + 1) % 10))
    failsWith(B3Wire.decode(enc(t), { indexCode: IBOV }), "TotalMismatch")
  })

  it("ambiguous language: AmbiguousLanguage without an override, exact with one", () => {
    // no labels (theoretical), small quantities and whole weights: nothing tells the locale
    const j = {
      page: { pageNumber: 1, pageSize: 9999, totalRecords: 2, totalPages: 1 },
      header: { part: "100", theoricalQty: "300", reductor: "1.500" },
      results: [
        { cod: "PETR4", asset: "PETROBRAS", type: "PN      N2", theoricalQty: "100", part: "40", cont: 1 },
        { cod: "VALE3", asset: "VALE", type: "ON      NM", theoricalQty: "200", part: "60", cont: 2 }
      ]
    }
    const opts = { indexCode: IBOV, refDate: "2025-01-02" as RefDate }
    failsWith(B3Wire.decode(enc(j), opts), "AmbiguousLanguage")
    assert.strictEqual(ok(B3Wire.decode(enc(j), { ...opts, language: "pt-br" })).reductor, 150_000_000_000n)
    assert.strictEqual(ok(B3Wire.decode(enc(j), { ...opts, language: "en-us" })).reductor, 150_000_000n)
    // one grouped quantity decides
    const k = structuredClone(j)
    k.header.theoricalQty = "1.300"
    k.results[1]!.theoricalQty = "1.200"
    assert.strictEqual(ok(B3Wire.decode(enc(k), opts)).language, "pt-br")
  })

  it("pages that disagree, a missing page, a wrong record count: PageMismatch", () => {
    const pages = B3Encode.encodePortfolioDay(base, { language: "pt-br", pageSize: 4 })
    failsWith(B3Wire.decode(pages.slice(0, 2), { indexCode: IBOV }), "PageMismatch")
    const p2 = JSON.parse(text(pages[1]!))
    p2.header.theoricalQty = "1"
    failsWith(B3Wire.decode([pages[0]!, bytes(JSON.stringify(p2)), pages[2]!], { indexCode: IBOV }), "PageMismatch", {
      page: 2,
      field: "header.theoricalQty"
    })
    failsWith(B3Wire.decode([pages[0]!, pages[2]!, pages[1]!], { indexCode: IBOV }), "PageMismatch", { page: 2 })
    const j = dayJson()
    j.page.totalRecords = 11
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "PageMismatch", { field: "page.totalRecords" })
  })

  it("errors on later pages name the page and the payload-wide row", () => {
    const pages = B3Encode.encodePortfolioDay(base, { language: "pt-br", pageSize: 4 })
    const p2 = JSON.parse(text(pages[1]!))
    p2.results[0].theoricalQty = "12,5"
    const e = failsWith(
      B3Wire.decode([pages[0]!, bytes(JSON.stringify(p2)), pages[2]!], { indexCode: IBOV }),
      "BadNumber",
      { page: 2, row: 5, field: "theoricalQty" }
    )
    assert.include(e.message, "page 2, row 5, field theoricalQty")
  })

  it("CSV variants: en-us labels and numbers, a UTF-8 byte-order mark, a by-sector file", () => {
    const en = B3Encode.encodeCsvText(base, { language: "en-us", eol: "\n" })
    assert.match(en, /^IBOV - Portfolio of the Day 02\/14\/25\nSector;Code;/)
    assert.match(en, /\nTotal Theorethical Quantity;;;;\d{1,3}(,\d{3})*;100\.000\nReductor;;;;[\d,]+\.\d{8}\n$/)
    const p = ok(B3Wire.decode([bytes(en)], {}))
    assert.strictEqual(p.language, "en-us")
    assert.strictEqual(p.refDate, "2025-02-14")
    assert.deepStrictEqual(plain(p), plain({ ...base, language: "en-us", format: "CSV" }))
    const bom = ok(B3Wire.decode([bytes("\uFEFF" + B3Encode.encodeCsvText(base))], {}))
    assert.deepStrictEqual(plain(bom), plain({ ...base, format: "CSV" }))
  })

  it("bad tickers and index codes: BadTicker, BadIndexCode", () => {
    const j = dayJson()
    j.results[0].cod = "PETR"
    failsWith(B3Wire.decode(enc(j), { indexCode: IBOV }), "BadTicker", { row: 1, field: "cod" })
    failsWith(B3Wire.decode(enc(dayJson()), {}), "BadIndexCode")
    failsWith(B3Wire.decode(enc(dayJson()), { indexCode: "ib/ov" as IndexCode }), "BadIndexCode")
  })

  it("CSV: not a B3 CSV, wrong field count, truncated, other-locale number, wrong index", () => {
    const csv = String.fromCharCode(
      ...B3Encode.encodeCsv({ ...base, segment: "1", sectors: base.sectors.map(() => null) })
    )
    failsWith(B3Wire.decode([latin1("a,b,c\n1,2,3\n")], { format: "CSV" }), "NotB3Csv")
    failsWith(B3Wire.decode([latin1(csv.replace(/\r\n[^\r\n]*\r\nRedutor[^\r\n]*\r\n$/, "\r\n"))], {}), "BadEnvelope")
    const lines = csv.split("\r\n")
    const broken = [...lines]
    broken[3] = broken[3]!.replace(/;$/, ";x;")
    failsWith(B3Wire.decode([latin1(broken.join("\r\n"))], {}), "BadField", { row: 2 })
    const en = [...lines]
    en[4] = en[4]!.replace(/;(\d+),(\d{3});$/, ";$1.$2;")
    failsWith(B3Wire.decode([latin1(en.join("\r\n"))], {}), "BadNumber", { row: 3, field: "part" })
    failsWith(B3Wire.decode([latin1(csv)], { indexCode: "SMLL" as IndexCode }), "BadIndexCode")
    const bad = [...lines]
    bad[0] = "IBOV - Carteira do Dia 31/02/25"
    failsWith(B3Wire.decode([latin1(bad.join("\r\n"))], {}), "BadDate")
  })
})

describe("B3Wire format detection: says what it saw", () => {
  const base = generatePortfolio({ indexCode: IBOV, refDate: "2025-02-14" as RefDate, size: 12, segment: "2", seed: 3 })
  const day = B3Encode.encodePortfolioDay(base, { language: "pt-br" })[0]!
  const csvText = B3Encode.encodeCsvText(base)
  const withBom = (b: Uint8Array) => new Uint8Array([0xef, 0xbb, 0xbf, ...b])
  const utf16le = (t: string, bom: boolean) => {
    const body = Buffer.from(t, "utf16le")
    return new Uint8Array(bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body)
  }
  const utf16be = (t: string) => {
    const le = Buffer.from(t, "utf16le")
    return new Uint8Array(Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]))
  }

  it("a UTF-8 BOM is accepted on JSON, CSV and the download body, by auto-detection and by format", () => {
    const want = plain({ ...base, format: "GetPortfolioDay" })
    assert.deepStrictEqual(plain(ok(B3Wire.decode([withBom(day)], { indexCode: IBOV }))), want)
    assert.deepStrictEqual(
      plain(ok(B3Wire.decode([withBom(day)], { indexCode: IBOV, format: "GetPortfolioDay" }))),
      want
    )
    assert.deepStrictEqual(
      plain(ok(B3Wire.decode([withBom(bytes(csvText))], { format: "CSV" }))),
      plain({ ...base, format: "CSV" })
    )
    assert.deepStrictEqual(
      plain(ok(B3Wire.decode([withBom(B3Encode.encodeDownload(base))], { format: "CSV" }))),
      plain({ ...base, format: "CSV" })
    )
    assert.strictEqual(B3Wire.detectMethod(withBom(day)), "GetPortfolioDay")
  })

  it("UTF-16 (LE with and without a BOM, BE with one) is decoded", () => {
    for (const b of [utf16le(text(day), true), utf16le(text(day), false), utf16be(text(day))]) {
      assert.deepStrictEqual(
        plain(ok(B3Wire.decode([b], { indexCode: IBOV }))),
        plain({ ...base, format: "GetPortfolioDay" })
      )
      assert.strictEqual(B3Wire.detectMethod(b), "GetPortfolioDay")
    }
    assert.deepStrictEqual(
      plain(ok(B3Wire.decode([utf16le(csvText, true)], { format: "CSV" }))),
      plain({ ...base, format: "CSV" })
    )
    // an odd number of bytes after a UTF-16 BOM cannot be UTF-16
    failsWith(B3Wire.decode([utf16le(csvText, true).subarray(0, 101)], { format: "CSV" }), "UnsupportedEncoding")
    failsWith(B3Wire.decode([new Uint8Array([0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b])], {}), "UnsupportedEncoding")
  })

  it("binary bytes: NotText; JSON that is not B3's: NotB3Json; text that is not B3's CSV: NotB3Csv", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48])
    failsWith(B3Wire.decode([png], {}), "NotText")
    failsWith(B3Wire.decode([png], { format: "CSV" }), "NotText")
    failsWith(B3Wire.decode([new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3])], { indexCode: IBOV }), "NotText")
    const e = failsWith(B3Wire.decode([bytes(`{"message":"Internal error"}`)], { indexCode: IBOV }), "NotB3Json")
    assert.include(e.detail, "message")
    failsWith(B3Wire.decode([bytes("[1,2,3]")], { indexCode: IBOV }), "NotB3Json")
    failsWith(B3Wire.decode([bytes(`"just a string"`)], { indexCode: IBOV }), "NotB3Json")
    failsWith(B3Wire.decode([bytes("name,age\nana,3\n")], {}), "NotB3Csv")
    failsWith(B3Wire.decode([bytes(`{"message":"x"}`)], { format: "CSV" }), "NotB3Csv")
    failsWith(B3Wire.decode([bytes("   \n ")], {}), "Empty")
  })

  it("errors name CLI flags, not library options", () => {
    const theo = B3Encode.encodeTheoricalPortfolio(base, { language: "pt-br" })
    assert.include(failsWith(B3Wire.decode(theo, { indexCode: IBOV }), "MissingDate").message, "--date")
    assert.include(failsWith(B3Wire.decode([day], {}), "BadIndexCode").message, "--index")
    for (const e of [B3Wire.decode(theo, { indexCode: IBOV }), B3Wire.decode([day], {})]) {
      assert.notInclude(Either.isLeft(e) ? e.left.message : "", "options.")
    }
  })

  it("--language that contradicts the payload's labels or numbers: LanguageMismatch", () => {
    const e = failsWith(B3Wire.decode([day], { indexCode: IBOV, language: "en-us" }), "LanguageMismatch")
    assert.include(e.message, "--language")
    failsWith(B3Wire.decode([bytes(csvText)], { language: "en-us" }), "LanguageMismatch")
    // no label: the numbers decide (theoretical bodies carry no labels)
    const theo = B3Encode.encodeTheoricalPortfolio(base, { language: "en-us" })
    failsWith(
      B3Wire.decode(theo, { indexCode: IBOV, refDate: base.refDate, language: "pt-br" }),
      "LanguageMismatch"
    )
    // the stated language when it agrees
    assert.strictEqual(ok(B3Wire.decode([day], { indexCode: IBOV, language: "pt-br" })).language, "pt-br")
  })
})

describe("B3Wire plausibility", () => {
  const now = new Date("2025-10-03T02:00:00Z") // 2 October, 23:00 in Sao Paulo
  const at = (refDate: string, indexCode = "IBOV") =>
    generatePortfolio({ indexCode: indexCode as IndexCode, refDate: refDate as RefDate, size: 6, seed: 1 })
  const rejects = (e: Either.Either<Portfolio, B3Wire.B3ParseError>, reason: B3ParseErrorReason) => failsWith(e, reason)

  it("today in Sao Paulo plus one day is the latest date; B3's first portfolio the earliest", () => {
    assert.strictEqual(B3Wire.saoPauloDate(now), "2025-10-02")
    ok(B3Wire.checkPlausible(at("2025-10-03"), { now }))
    const e = rejects(B3Wire.checkPlausible(at("2025-10-04"), { now }), "ImplausibleDate")
    assert.include(e.detail, "2025-10-02")
    rejects(B3Wire.checkPlausible(at("2100-01-04"), { now }), "ImplausibleDate")
    ok(B3Wire.checkPlausible(at(B3Wire.FIRST_PORTFOLIO_DATE), { now }))
    rejects(B3Wire.checkPlausible(at("1967-12-29"), { now }), "ImplausibleDate")
  })

  it("an index outside B3's list is UnknownIndex unless allowed", () => {
    const e = rejects(B3Wire.checkPlausible(at("2025-10-01", "ZZZZ"), { now }), "UnknownIndex")
    assert.include(e.message, "--allow-unknown-index")
    ok(B3Wire.checkPlausible(at("2025-10-01", "ZZZZ"), { now, allowUnknownIndex: true }))
  })

  it("a text field past its limit is FieldTooLong, naming the row and field", () => {
    const p = at("2025-10-01")
    const long = { ...p, assets: p.assets.map((a, i) => i === 2 ? "X".repeat(B3Wire.FIELD_LIMITS.asset + 1) : a) }
    const e = failsWith(B3Wire.checkPlausible(long, { now }), "FieldTooLong", { row: 3, field: "asset" })
    assert.strictEqual(e.value, "X".repeat(B3Wire.FIELD_LIMITS.asset + 1))
    ok(B3Wire.checkPlausible({ ...p, assets: p.assets.map(() => "X".repeat(B3Wire.FIELD_LIMITS.asset)) }, { now }))
  })

  it.effect("decodePayload decodes any real date; decodeForIngest adds the size limit and plausibility", () =>
    Effect.gen(function*() {
      const p = at("2099-05-04")
      const payload: Payload = {
        request: { indexCode: IBOV, method: "GetPortfolioDay", language: "pt-br", segment: "1" },
        pages: [{ bytes: B3Encode.encodePortfolioDay(p, { language: "pt-br" })[0]!, request: {} as never }],
        fetchedAt: "2025-10-01T10:00:00Z",
        origin: "test"
      }
      assert.strictEqual((yield* B3Wire.decodePayload(payload)).refDate, "2099-05-04")
      const e = yield* Effect.flip(B3Wire.decodeForIngest(payload, { now }))
      assert.strictEqual(e.reason, "ImplausibleDate")
      const big = yield* Effect.flip(B3Wire.decodeForIngest(payload, { now, maxPayloadBytes: 10 }))
      assert.strictEqual(big.reason, "TooLarge")
    }))

  it("the size limit: TooLarge past it, checked on the byte count", () => {
    rejects(B3Wire.checkSize("CSV", 101, 100).pipe(Either.map(() => at("2025-10-01"))), "TooLarge")
    assert.isTrue(Either.isRight(B3Wire.checkSize("CSV", 100, 100)))
  })
})
