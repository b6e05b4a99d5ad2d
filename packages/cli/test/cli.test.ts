/**
 * The `b3` command as a user runs it on a temporary warehouse, checked by its exit code, stdout,
 * stderr and the files it leaves: in-process (`Main.main` with a capturing `Console`), and the exit
 * codes once more through the real `bin/b3.js` as a child process. No network: the simulated source
 * is on 127.0.0.1.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"
import { runInProcess } from "./support/inProcess.js"
import { bin, runB3 } from "./support/runB3.js"

const sample = fileURLToPath(new URL("../../../fixtures/b3/IBOVDia_03-10-25.csv", import.meta.url))
const sampleJson = fileURLToPath(
  new URL("../../../fixtures/b3/GetPortfolioDay_IBOV_en-us_segment2_2025-04-07.json", import.meta.url)
)
const root = mkdtempSync(join(tmpdir(), "b3-cli-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const b3 = (warehouse: string, ...args: Array<string>) => runInProcess(["--warehouse", warehouse, ...args])
const b3Process = (warehouse: string, ...args: Array<string>) => runB3(root, ["--warehouse", warehouse, ...args])

const files = (dir: string): Array<string> =>
  existsSync(dir) ?
    readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) =>
      join(e.parentPath, e.name)
    ) :
    []

describe("b3 CLI", () => {
  const wh = join(root, "warehouse")

  it("ingests B3's CSV download and answers SQL over the refined table (82 members)", async () => {
    const ingest = await b3(wh, "ingest", "--file", sample)
    assert.strictEqual(ingest.code, 0, ingest.stderr)
    assert.match(ingest.stdout, /1 new/)
    assert.match(ingest.stdout, /IBOV\s+2025-10-03\s+82\s+created/)
    const count = await b3(wh, "query", "SELECT count(*) AS n FROM b3_portfolio_refined", "--format", "json")
    assert.strictEqual(count.code, 0, count.stderr)
    assert.deepStrictEqual(JSON.parse(count.stdout), [{ n: 82 }])
    const partitions = readdirSync(join(wh, "refined/b3_portfolio_refined/ref_date=2025-10-03"))
    assert.strictEqual(partitions.filter((p) => p.startsWith("ticker=")).length, 82)
    // exact decimals survive the whole path: the sample's ALOS3 weight is 0,544
    const alos = await b3(
      wh,
      "query",
      "SELECT weight_pct, theoretical_qty FROM b3_portfolio_refined WHERE ticker = 'ALOS3'",
      "--format",
      "csv"
    )
    assert.strictEqual(alos.stdout, "weight_pct,theoretical_qty\r\n0.544,466632333\r\n")
  })

  it("re-ingesting the same file is a no-op", async () => {
    const before = files(join(wh, "raw")).map((f) => [f, readFileSync(f).toString("base64")] as const)
    const again = await b3(wh, "ingest", "--file", sample)
    assert.strictEqual(again.code, 0, again.stderr)
    assert.match(again.stdout, /1 already present/)
    const after = files(join(wh, "raw")).map((f) => [f, readFileSync(f).toString("base64")] as const)
    assert.deepStrictEqual(after, before)
  })

  it("a payload that does not parse exits 1, names the file and the reason, and is quarantined byte for byte", async () => {
    const bad = join(root, "IBOVDia_06-10-25.csv")
    const text = readFileSync(sample, "utf8").replace("0,544;", "0,5x4;")
    writeFileSync(bad, text)
    const r = await b3(wh, "ingest", "--file", bad, "--file", sampleJson)
    assert.strictEqual(r.code, 1)
    assert.match(r.stdout, /FAILED .*IBOVDia_06-10-25\.csv: CSV: BadNumber/)
    assert.match(r.stdout, /1 new/) // the good JSON sample still went in
    const quarantined = files(join(wh, "quarantine"))
    const page = quarantined.find((f) => /page-001\.csv$/.test(f))
    assert.isDefined(page)
    assert.strictEqual(readFileSync(page!).toString("utf8"), text)
    const error = JSON.parse(readFileSync(quarantined.find((f) => f.endsWith("error.json"))!, "utf8"))
    assert.include(JSON.stringify(error), "BadNumber")
    const status = await b3(wh, "status")
    assert.strictEqual(status.code, 0, status.stderr)
    assert.match(status.stdout, /quarantine: 1 payload/)
    assert.match(status.stdout, /IBOV\s+2\s+2025-04-07\s+2025-10-03/)
  })

  it("usage errors exit 2 with a message, not a stack trace", async () => {
    const r = await b3(wh, "run", "--index", "IB/../OV")
    assert.strictEqual(r.code, 2)
    assert.match(r.stderr, /invalid index code/)
    assert.notMatch(r.stderr, /at .*\.ts:\d+/)
    const q = await b3(wh, "query")
    assert.strictEqual(q.code, 2)
    assert.match(q.stderr, /give the SQL/)
  })

  it("SQL errors are typed, one line of context, exit 1", async () => {
    const r = await b3(wh, "query", "SELECT * FROM no_such_table")
    assert.strictEqual(r.code, 1)
    assert.match(r.stderr, /query failed \(NoSuchTable\)/)
  })

  it("the real bin exits with the program's code: 0, 1 (a failure), 2 (usage)", async () => {
    const [ok, failed, usage] = await Promise.all([
      b3Process(wh, "query", "SELECT count(*) AS n FROM b3_portfolio_refined", "--format", "json"),
      b3Process(wh, "query", "SELECT * FROM no_such_table"),
      b3Process(wh, "run", "--index", "IB/../OV")
    ])
    assert.strictEqual(ok.code, 0, ok.stderr)
    assert.isAbove(JSON.parse(ok.stdout)[0].n, 0)
    assert.strictEqual(failed.code, 1)
    assert.match(failed.stderr, /^b3: query failed \(NoSuchTable\)/)
    assert.strictEqual(usage.code, 2)
    assert.match(usage.stderr, /^b3: invalid index code/)
    assert.notMatch(usage.stderr, /at .*\.ts:\d+/)
  })

  it("SIGTERM interrupts a writer: it releases the writer lock and exits 130; the next writer finds nothing to recover", async () => {
    const dir = join(root, "interrupted")
    const child = spawn(process.execPath, [bin, "--warehouse", dir, "run", "--all", "--source", "simulated"], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" }
    })
    let stderr = ""
    child.stderr.on("data", (d) => {
      stderr += String(d)
      if (/run: 1\/36/.test(stderr)) child.kill("SIGTERM") // one index written, 35 to go
    })
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("close", (c, s) => resolve([c, s]))
    )
    assert.strictEqual(signal, null, stderr)
    assert.strictEqual(code, 130, stderr)
    assert.deepStrictEqual(readdirSync(dir).filter((e) => e.startsWith(".b3-writer")), [])
    const next = await b3(dir, "ingest", "--file", sample)
    assert.strictEqual(next.code, 0, next.stderr)
    assert.notMatch(next.stderr, /did not finish/)
  })

  it("run --source simulated fills a fresh warehouse with every index through the real HTTP code", async () => {
    const fresh = join(root, "sim")
    const r = await b3(fresh, "run", "--all", "--source", "simulated")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /36 input\(s\).*36 new.*0 failed/)
    const q = await b3(
      fresh,
      "query",
      "SELECT count(DISTINCT index_code) AS n FROM b3_portfolio_refined",
      "--format",
      "json"
    )
    assert.deepStrictEqual(JSON.parse(q.stdout), [{ n: 36 }])
    const report = await b3(fresh, "report", "--out", join(root, "report.html"))
    assert.strictEqual(report.code, 0, report.stderr)
    const html = readFileSync(join(root, "report.html"), "utf8")
    assert.match(html, /data-chart="top-weights"/)
    assert.notMatch(html, /<script|\s(?:src|href)=/) // nothing to fetch at view time
  })
})
