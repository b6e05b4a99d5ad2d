/**
 * The bad inputs a user hits first, table-driven: each case writes one file, runs `b3 ingest` on a
 * warehouse that already holds a portfolio, and checks the exit code, the error's tag and reason
 * (from the run log under `runs/`), whether the exact bytes were quarantined, and that the tables
 * did not change. The cases run in-process (`Main.main`, the same effect `bin.ts` runs); a few are
 * run again as a child process to show the two agree.
 */
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"
import type { Ran } from "./support/inProcess.js"
import { runInProcess } from "./support/inProcess.js"
import { runB3 } from "./support/runB3.js"

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../fixtures/b3/${name}`, import.meta.url)))
const CSV = fixture("IBOVDia_03-10-25.csv").toString("utf8") // IBOV 03/10/25, 82 rows, pt-br, UTF-8 LF
const DAY = fixture("GetPortfolioDay_IBOV_en-us_segment2_2025-04-07.json").toString("utf8") // en-us, by sector
const THEO = fixture("GetTheoricalPortfolio_IBOV_pt-br_2022-05.json").toString("utf8") // pt-br, no date

const root = mkdtempSync(join(tmpdir(), "b3-bad-input-"))
const wh = join(root, "warehouse")
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** `b3 --warehouse W ...args` in this process: stdout and stderr captured, the exit code returned. */
const b3 = (warehouse: string, ...args: Array<string>): Promise<Ran> =>
  runInProcess(["--warehouse", warehouse, ...args])

/** The same, as a child process running the real `bin/b3.js`. */
const b3Process = (warehouse: string, ...args: Array<string>) => runB3(root, ["--warehouse", warehouse, ...args])

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir) ?
    readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) =>
      join(e.parentPath, e.name)
    ).sort() :
    []

/** Every file of the warehouse but the quarantine and the run log, with its hash: what "unchanged" means. */
const tables = (warehouse: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const f of filesUnder(warehouse)) {
    const rel = relative(warehouse, f)
    if (rel.startsWith("quarantine/") || rel.startsWith("runs/")) continue
    out[rel] = createHash("sha256").update(readFileSync(f)).digest("hex")
  }
  return out
}

/** The quarantine's error documents that name `file` as their origin. */
const quarantinedFrom = (warehouse: string, file: string) =>
  filesUnder(join(warehouse, "quarantine")).filter((f) => f.endsWith("/error.json")).map((f) => ({
    dir: join(f, ".."),
    doc: JSON.parse(readFileSync(f, "utf8")) as { origin: string; error: { reason: string } }
  })).filter((q) => q.doc.origin === `file:${resolve(file)}`)

/** The items of the newest run record. */
const lastRun = (warehouse: string) => {
  const runs = filesUnder(join(warehouse, "runs"))
  const doc = JSON.parse(readFileSync(runs[runs.length - 1]!, "utf8")) as {
    items: Array<{ label: string; error?: string; errorTag?: string; reason?: string; quarantined?: boolean }>
  }
  return { count: runs.length, items: doc.items }
}

// ---------------------------------------------------------------------------------------------
// The inputs, all derived from the real samples or plainly not payloads
// ---------------------------------------------------------------------------------------------

const latin1 = (s: string) => Buffer.from(s, "latin1")
const utf16le = (s: string, bom = true) =>
  Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, "utf16le")])
const withBom = (s: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, "utf8")])
const csvLines = CSV.split("\n")
const csvWith = (f: (lines: Array<string>) => void) => {
  const lines = [...csvLines]
  f(lines)
  return lines.join("\n")
}
const dayWith = (f: (j: any) => void) => {
  const j = JSON.parse(DAY)
  f(j)
  return JSON.stringify(j)
}
const LONG_SECTOR = "S".repeat(B3Wire.FIELD_LIMITS.sector + 10)
const htmlChallenge =
  "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0x4c, 0x4a, 0x06, 0x00])

interface Case {
  readonly name: string
  /** File name (the index is read from `IBOV...` names) and content. */
  readonly file: string
  readonly bytes: string | Buffer
  readonly args?: ReadonlyArray<string>
  readonly exit: 1 | 2
  /** `usage` for exit 2 (nothing runs); else the failure's tag in the run log. */
  readonly tag: "usage" | "B3ParseError" | "InputError"
  readonly reason?: string
  readonly quarantined: boolean
  /** A text the printed error must contain (a CLI flag, a field). */
  readonly says?: string
}

const cases: ReadonlyArray<Case> = [
  // plausibility: dates
  {
    name: "CSV dated 2099",
    file: "IBOVDia_03-10-99.csv",
    bytes: CSV.replace("03/10/25", "03/10/99"),
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true,
    says: "in the future"
  },
  {
    name: "JSON dated 2099 (en-us MM/DD/YY)",
    file: "GetPortfolioDay_2099.json",
    bytes: DAY.replace("\"04/07/25\"", "\"04/07/99\""),
    args: ["--index", "IBOV"],
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true
  },
  {
    name: "CSV dated tomorrow plus one (past the slack)",
    file: "IBOVDia_plus2.csv",
    bytes: CSV.replace(
      "03/10/25",
      (() => {
        const d = new Date(Date.parse(`${B3Wire.saoPauloDate(new Date())}T00:00:00Z`) + 3 * 86_400_000)
        const iso = d.toISOString()
        return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)}`
      })()
    ),
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true
  },
  {
    name: "theoretical portfolio filed under 2100",
    file: "GetTheoricalPortfolio_IBOV_2100.json",
    bytes: THEO,
    args: ["--date", "2100-01-04"],
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true
  },
  {
    name: "theoretical portfolio filed before B3's first portfolio",
    file: "GetTheoricalPortfolio_IBOV_1967.json",
    bytes: THEO,
    args: ["--date", "1967-12-29"],
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true,
    says: "1968-01-02"
  },
  {
    name: "CSV with a UTF-8 BOM and a 2099 date (the BOM is accepted, the date is not)",
    file: "IBOVDia_bom_2099.csv",
    bytes: withBom(CSV.replace("03/10/25", "03/10/99")),
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true
  },
  {
    name: "UTF-16 CSV with a 2099 date (decoded, then checked)",
    file: "IBOVDia_utf16_2099.csv",
    bytes: utf16le(CSV.replace("03/10/25", "03/10/99")),
    exit: 1,
    tag: "B3ParseError",
    reason: "ImplausibleDate",
    quarantined: true
  },
  // plausibility: index codes
  {
    name: "--index ZZZZ on an IBOV JSON",
    file: "GetPortfolioDay_zzzz.json",
    bytes: DAY,
    args: ["--index", "ZZZZ"],
    exit: 1,
    tag: "B3ParseError",
    reason: "UnknownIndex",
    quarantined: true,
    says: "--allow-unknown-index"
  },
  {
    name: "a CSV titled ABCD",
    file: "titled-abcd.csv",
    bytes: CSV.replace(/^IBOV /, "ABCD "),
    exit: 1,
    tag: "B3ParseError",
    reason: "UnknownIndex",
    quarantined: true
  },
  {
    name: "--index SMLL on a CSV titled IBOV",
    file: "IBOVDia_smll.csv",
    bytes: CSV,
    args: ["--index", "SMLL"],
    exit: 1,
    tag: "B3ParseError",
    reason: "BadIndexCode",
    quarantined: true,
    says: "--index SMLL"
  },
  // plausibility: field lengths and size
  {
    name: "an asset name of 5000 characters",
    file: "IBOVDia_long_asset.csv",
    bytes: CSV.replace("ALOS3;ALLOS;", `ALOS3;${"A".repeat(5000)};`),
    exit: 1,
    tag: "B3ParseError",
    reason: "FieldTooLong",
    quarantined: true,
    says: "asset"
  },
  {
    name: "a type of 40 characters",
    file: "IBOVDia_long_type.csv",
    bytes: CSV.replace("ALOS3;ALLOS;ON  ED  NM;", `ALOS3;ALLOS;ON${" ".repeat(38)}NM;`),
    exit: 1,
    tag: "B3ParseError",
    reason: "FieldTooLong",
    quarantined: true
  },
  {
    name: "a sector text past its limit (every row of the sector)",
    file: "GetPortfolioDay_long_sector.json",
    bytes: DAY.split("\"Financeiro e Outros/Serviços Financeiros Diversos\"").join(JSON.stringify(LONG_SECTOR)),
    args: ["--index", "IBOV"],
    exit: 1,
    tag: "B3ParseError",
    reason: "FieldTooLong",
    quarantined: true
  },
  {
    name: "a 2 MiB file over --max-payload-mb 1 (quarantined by streaming)",
    file: "IBOVDia_huge.csv",
    bytes: CSV + "X;".repeat(1024 * 1024),
    args: ["--max-payload-mb", "1"],
    exit: 1,
    tag: "B3ParseError",
    reason: "TooLarge",
    quarantined: true,
    says: "--max-payload-mb"
  },
  {
    name: "a 2 MiB binary file over --max-payload-mb 1",
    file: "huge.bin.csv",
    bytes: Buffer.alloc(2 * 1024 * 1024, 7),
    args: ["--max-payload-mb", "1"],
    exit: 1,
    tag: "B3ParseError",
    reason: "TooLarge",
    quarantined: true
  },
  // format detection
  {
    name: "an HTML challenge page saved as .csv",
    file: "IBOVDia_challenge.csv",
    bytes: htmlChallenge,
    exit: 1,
    tag: "B3ParseError",
    reason: "HtmlPage",
    quarantined: true,
    says: "Just a moment"
  },
  {
    name: "an HTML maintenance page saved as .json",
    file: "GetPortfolioDay_IBOV_maintenance.json",
    bytes: "\n  <html><body><h1>Em manutenção</h1></body></html>",
    exit: 1,
    tag: "B3ParseError",
    reason: "HtmlPage",
    quarantined: true
  },
  {
    name: "a PNG",
    file: "IBOVDia_image.csv",
    bytes: png,
    exit: 1,
    tag: "B3ParseError",
    reason: "NotText",
    quarantined: true
  },
  {
    name: "a gzip file",
    file: "IBOVDia_03-10-25.csv.gz.csv",
    bytes: gzip,
    exit: 1,
    tag: "B3ParseError",
    reason: "NotText",
    quarantined: true
  },
  {
    name: "JSON that is not B3's (an error body)",
    file: "GetPortfolioDay_IBOV_error.json",
    bytes: `{"message":"Internal Server Error","code":500}`,
    exit: 1,
    tag: "B3ParseError",
    reason: "NotB3Json",
    quarantined: true
  },
  {
    name: "a JSON array",
    file: "IBOV_array.json",
    bytes: "[1, 2, 3]",
    exit: 1,
    tag: "B3ParseError",
    reason: "NotB3Json",
    quarantined: true
  },
  {
    name: "a CSV that is not B3's",
    file: "IBOVDia_people.csv",
    bytes: "name,age\nana,3\nbia,5\n",
    exit: 1,
    tag: "B3ParseError",
    reason: "NotB3Csv",
    quarantined: true
  },
  {
    name: "B3's CSV with a foreign column header",
    file: "IBOVDia_header.csv",
    bytes: csvWith((l) => (l[1] = "a;b;c")),
    exit: 1,
    tag: "B3ParseError",
    reason: "NotB3Csv",
    quarantined: true
  },
  {
    name: "truncated JSON",
    file: "GetPortfolioDay_IBOV_cut.json",
    bytes: DAY.slice(0, 5000),
    exit: 1,
    tag: "B3ParseError",
    reason: "NotJson",
    quarantined: true
  },
  {
    name: "UTF-16 with an odd byte count",
    file: "IBOVDia_utf16_odd.csv",
    bytes: utf16le(CSV).subarray(0, 1001),
    exit: 1,
    tag: "B3ParseError",
    reason: "UnsupportedEncoding",
    quarantined: true
  },
  {
    name: "an empty file",
    file: "IBOVDia_empty.csv",
    bytes: "",
    exit: 1,
    tag: "B3ParseError",
    reason: "Empty",
    quarantined: true
  },
  {
    name: "only blanks",
    file: "IBOVDia_blank.csv",
    bytes: "  \n\n  \n",
    exit: 1,
    tag: "B3ParseError",
    reason: "Empty",
    quarantined: true
  },
  // language and flags
  {
    name: "--language en-us on a pt-br CSV",
    file: "IBOVDia_lang.csv",
    bytes: CSV,
    args: ["--language", "en-us"],
    exit: 1,
    tag: "B3ParseError",
    reason: "LanguageMismatch",
    quarantined: true,
    says: "--language"
  },
  {
    name: "--language pt-br on an en-us JSON",
    file: "GetPortfolioDay_IBOV_lang.json",
    bytes: DAY,
    args: ["--language", "pt-br"],
    exit: 1,
    tag: "B3ParseError",
    reason: "LanguageMismatch",
    quarantined: true
  },
  {
    name: "a theoretical portfolio without --date",
    file: "GetTheoricalPortfolio_IBOV_nodate.json",
    bytes: THEO,
    exit: 1,
    tag: "B3ParseError",
    reason: "MissingDate",
    quarantined: true,
    says: "--date"
  },
  {
    name: "--date that differs from the payload's",
    file: "GetPortfolioDay_IBOV_otherdate.json",
    bytes: DAY,
    args: ["--date", "2025-04-08"],
    exit: 1,
    tag: "B3ParseError",
    reason: "BadDate",
    quarantined: true,
    says: "--date 2025-04-08"
  },
  {
    name: "a JSON body whose index nothing names",
    file: "body.json",
    bytes: DAY,
    exit: 1,
    tag: "InputError",
    quarantined: false,
    says: "--index"
  },
  // the decoders' own rules, through the CLI
  {
    name: "31 February in the title",
    file: "IBOVDia_feb31.csv",
    bytes: CSV.replace("03/10/25", "31/02/25"),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadDate",
    quarantined: true
  },
  {
    name: "an en-us weight in a pt-br CSV",
    file: "IBOVDia_locale.csv",
    bytes: CSV.replace("ALOS3;ALLOS;ON  ED  NM;466.632.333;0,544;", "ALOS3;ALLOS;ON  ED  NM;466.632.333;0.544;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadNumber",
    quarantined: true
  },
  {
    name: "a quantity past int64",
    file: "IBOVDia_overflow.csv",
    bytes: CSV.replace("466.632.333;", "99.999.999.999.999.999.999;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "Overflow",
    quarantined: true
  },
  {
    name: "a ticker twice",
    file: "IBOVDia_dup.csv",
    bytes: csvWith((l) => (l[3] = l[3]!.replace(/^[^;]+;/, "ALOS3;"))),
    exit: 1,
    tag: "B3ParseError",
    reason: "DuplicateTicker",
    quarantined: true
  },
  {
    name: "a total that is not the sum",
    file: "IBOVDia_total.csv",
    bytes: CSV.replace("466.632.333;", "466.632.334;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "TotalMismatch",
    quarantined: true
  },
  {
    name: "weights that do not sum to 100%",
    file: "IBOVDia_weights.csv",
    bytes: CSV.replace(";0,544;", ";5,544;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "WeightSum",
    quarantined: true
  },
  {
    name: "a ticker that breaks the grammar",
    file: "IBOVDia_ticker.csv",
    bytes: CSV.replace("ALOS3;", "AL-S3;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadTicker",
    quarantined: true
  },
  {
    name: "a row with an extra field",
    file: "IBOVDia_fields.csv",
    bytes: CSV.replace("ALOS3;ALLOS;ON  ED  NM;466.632.333;0,544;", "ALOS3;ALLOS;ON  ED  NM;466.632.333;0,544;x;"),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadField",
    quarantined: true
  },
  {
    name: "a CSV cut before its footer",
    file: "IBOVDia_cut.csv",
    bytes: csvLines.slice(0, 40).join("\n"),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadEnvelope",
    quarantined: true
  },
  {
    name: "JSON without its header",
    file: "GetPortfolioDay_IBOV_noheader.json",
    bytes: dayWith((j) => delete j.header),
    exit: 1,
    tag: "B3ParseError",
    reason: "BadEnvelope",
    quarantined: true
  },
  {
    name: "JSON with no rows",
    file: "GetPortfolioDay_IBOV_norows.json",
    bytes: dayWith((j) => ((j.results = []), (j.page.totalRecords = 0))),
    exit: 1,
    tag: "B3ParseError",
    reason: "Empty",
    quarantined: true
  },
  {
    name: "JSON with a wrong totalRecords",
    file: "GetPortfolioDay_IBOV_records.json",
    bytes: dayWith((j) => (j.page.totalRecords = 88)),
    exit: 1,
    tag: "B3ParseError",
    reason: "PageMismatch",
    quarantined: true
  },
  {
    name: "JSON with a sector total that is not its rows' sum",
    file: "GetPortfolioDay_IBOV_sector.json",
    bytes: dayWith((j) => {
      const s = j.results[0].segment
      for (const r of j.results) if (r.segment === s) r.partAcum = "1.000"
    }),
    exit: 1,
    tag: "B3ParseError",
    reason: "SectorSum",
    quarantined: true
  },
  // usage errors: exit 2, nothing read, nothing written
  {
    name: "--index that breaks the grammar",
    file: "IBOVDia_u1.csv",
    bytes: CSV,
    args: ["--index", "ib/ov"],
    exit: 2,
    tag: "usage",
    quarantined: false
  },
  {
    name: "--date that does not exist",
    file: "IBOVDia_u2.csv",
    bytes: CSV,
    args: ["--date", "2025-02-31"],
    exit: 2,
    tag: "usage",
    quarantined: false
  },
  {
    name: "--language that is not one",
    file: "IBOVDia_u3.csv",
    bytes: CSV,
    args: ["--language", "fr-fr"],
    exit: 2,
    tag: "usage",
    quarantined: false
  },
  {
    name: "--max-payload-mb that is not a number",
    file: "IBOVDia_u4.csv",
    bytes: CSV,
    args: ["--max-payload-mb", "lots"],
    exit: 2,
    tag: "usage",
    quarantined: false
  }
]

describe("b3 ingest, bad input (table-driven)", () => {
  beforeAll(() => mkdirSync(join(root, "in"), { recursive: true }))

  it("the warehouse starts with one real portfolio", async () => {
    const file = join(root, "GetPortfolioDay_IBOV_seed.json")
    writeFileSync(file, DAY)
    const r = await b3(wh, "ingest", "--file", file)
    assert.strictEqual(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /IBOV\s+2025-04-07\s+87\s+created/)
    assert.notInclude(r.stdout, "quarantine")
  })

  it(`has at least 40 cases (${cases.length})`, () => {
    assert.isAtLeast(cases.length, 40)
    assert.strictEqual(new Set(cases.map((c) => c.file)).size, cases.length, "one file per case")
  })

  for (const c of cases) {
    it(`${c.name}: exit ${c.exit}, ${c.reason ?? c.tag}, ${c.quarantined ? "quarantined" : "not quarantined"}`, async () => {
      const file = join(root, "in", c.file)
      writeFileSync(file, c.bytes)
      const before = tables(wh)
      const runsBefore = filesUnder(join(wh, "runs")).length
      const r = await b3(wh, "ingest", "--file", file, ...(c.args ?? []))
      const said = r.stdout + r.stderr
      assert.strictEqual(r.code, c.exit, said)
      assert.deepStrictEqual(tables(wh), before, "the tables did not change")
      if (c.says !== undefined) assert.include(said, c.says)
      const q = quarantinedFrom(wh, file)
      if (c.tag === "usage") {
        assert.strictEqual(filesUnder(join(wh, "runs")).length, runsBefore, "a usage error runs nothing")
        assert.lengthOf(q, 0)
        return
      }
      const run = lastRun(wh)
      assert.strictEqual(run.count, runsBefore + 1)
      const item = run.items[0]!
      assert.strictEqual(item.errorTag, c.tag, item.error)
      if (c.reason !== undefined) assert.strictEqual(item.reason, c.reason, item.error)
      assert.strictEqual(item.quarantined === true, c.quarantined)
      assert.match(r.stdout, new RegExp(`FAILED ${c.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}|FAILED .*${c.file}`))
      if (c.quarantined) {
        assert.lengthOf(q, 1, "one quarantine folder names this file")
        assert.strictEqual(q[0]!.doc.error.reason, c.reason)
        assert.include(r.stdout, "kept under quarantine/")
        // the exact bytes: one page, or (too large) parts that concatenate to the file
        const pages = readdirSync(q[0]!.dir).filter((n) => n.startsWith("page-")).sort()
        const kept = Buffer.concat(pages.map((n) => readFileSync(join(q[0]!.dir, n))))
        assert.isTrue(kept.equals(readFileSync(file)), "quarantined byte for byte")
      } else {
        assert.lengthOf(q, 0)
        assert.notInclude(r.stdout, "quarantine/", "no quarantine line when nothing was quarantined")
      }
    })
  }

  it("the child process agrees with the in-process runs (exit code and summary)", async () => {
    for (const name of ["CSV dated 2099", "a JSON body whose index nothing names", "--index that breaks the grammar"]) {
      const c = cases.find((x) => x.name === name)!
      const file = join(root, "in", c.file)
      const r = await b3Process(wh, "ingest", "--file", file, ...(c.args ?? []))
      assert.strictEqual(r.code, c.exit, r.stdout + r.stderr)
      if (c.reason !== undefined) assert.include(r.stdout, c.reason)
    }
  })
})

describe("b3 ingest, what is accepted", () => {
  const fresh = join(root, "fresh")

  it("a UTF-8 BOM on JSON, a UTF-16 CSV, and a new index with --allow-unknown-index", async () => {
    const bom = join(root, "GetPortfolioDay_IBOV_bom.json")
    writeFileSync(bom, withBom(DAY))
    const r1 = await b3(fresh, "ingest", "--file", bom)
    assert.strictEqual(r1.code, 0, r1.stdout + r1.stderr)
    assert.match(r1.stdout, /IBOV\s+2025-04-07\s+87\s+created/)
    const u16 = join(root, "IBOVDia_utf16.csv")
    writeFileSync(u16, utf16le(CSV))
    const r2 = await b3(fresh, "ingest", "--file", u16)
    assert.strictEqual(r2.code, 0, r2.stdout + r2.stderr)
    assert.match(r2.stdout, /IBOV\s+2025-10-03\s+82\s+created/)
    const latin = join(root, "IBOVDia_latin1.csv")
    writeFileSync(latin, latin1(CSV.replace(/\n/g, "\r\n").replace(/^IBOV /, "NEWX ")))
    const r3 = await b3(fresh, "ingest", "--file", latin, "--allow-unknown-index")
    assert.strictEqual(r3.code, 0, r3.stdout + r3.stderr)
    assert.match(r3.stdout, /NEWX\s+2025-10-03\s+82\s+created/)
    const q = await b3(
      fresh,
      "query",
      "SELECT index_code, count(*) AS n FROM b3_portfolio_raw GROUP BY 1 ORDER BY 1",
      "--format",
      "json"
    )
    assert.deepStrictEqual(JSON.parse(q.stdout), [{ index_code: "IBOV", n: 169 }, { index_code: "NEWX", n: 82 }])
  })

  it("a parse failure whose quarantine cannot be written: both are reported, no quarantine line", async () => {
    const broken = join(root, "broken")
    mkdirSync(broken, { recursive: true })
    writeFileSync(join(broken, "quarantine"), "a file where the quarantine folder should be")
    const bad = join(root, "IBOVDia_broken.csv")
    writeFileSync(bad, CSV.replace("03/10/25", "31/02/25"))
    const r = await b3(broken, "ingest", "--file", bad)
    assert.strictEqual(r.code, 1)
    assert.match(r.stdout, /FAILED .*IBOVDia_broken\.csv: RawLayer\.quarantine failed/)
    assert.include(r.stdout, "BadDate") // the parse error is named too
    assert.include(r.stdout, "NOT quarantined")
    assert.notInclude(r.stdout, "kept under quarantine/")
  })
})
