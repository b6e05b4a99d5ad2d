/**
 * `b3 replay` of a warehouse's own archive rebuilds the same warehouse: for each (index, date) the
 * payload fetched last wins, whatever the order of the archive's SHA-256 folder names. Runs the
 * CLI in-process (`Main.main`, what `bin.ts` runs).
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"
import { runInProcess } from "./support/inProcess.js"

const root = mkdtempSync(join(tmpdir(), "b3-replay-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const b3 = async (warehouse: string, ...args: Array<string>) => {
  const r = await runInProcess(["--warehouse", warehouse, ...args])
  return { code: r.code, stdout: r.stdout }
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

const tree = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  if (!existsSync(dir)) return out
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[relative(dir, join(e.parentPath, e.name))] = sha256(readFileSync(join(e.parentPath, e.name)))
  }
  return out
}

const rows = async (warehouse: string, sql: string) => {
  const r = await b3(warehouse, "query", sql, "--format", "json")
  assert.strictEqual(r.code, 0, r.stdout)
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>
}

const RAW_SQL = "SELECT * FROM b3_portfolio_raw ORDER BY index_code, ref_date, cod"
const REFINED_SQL = "SELECT * FROM b3_portfolio_refined ORDER BY index_code, ref_date, ticker"
const COUNTS_SQL =
  "SELECT index_code, CAST(ref_date AS VARCHAR) AS ref_date, count(*) AS n FROM b3_portfolio_raw GROUP BY 1, 2 ORDER BY 1, 2"

describe("b3 replay", () => {
  it("picks the payload fetched last for each (index, date); a warehouse rebuilt from its archive equals the original", async () => {
    // IBOV 2025-10-03 twice: B3's CSV (82 rows) fetched first, a later JSON (87 rows) fetched after it
    const older = readFileSync(fileURLToPath(new URL("../../../fixtures/b3/IBOVDia_03-10-25.csv", import.meta.url)))
    // a later payload whose SHA-256 sorts BEFORE the older one's: folder-name order would pick the older
    let newer: Uint8Array | undefined
    for (let seed = 1; newer === undefined; seed++) {
      const p = generatePortfolio({
        indexCode: "IBOV" as IndexCode,
        refDate: "2025-10-03" as RefDate,
        size: 87,
        segment: "2",
        seed
      })
      const bytes = B3Encode.encodePortfolioDay(p, { language: "pt-br" })[0]!
      if (sha256(bytes) < sha256(older)) newer = bytes
    }
    const smll = B3Encode.encodeCsv(
      generatePortfolio({ indexCode: "SMLL" as IndexCode, refDate: "2025-10-02" as RefDate, size: 30, seed: 5 })
    )
    const files = [
      { name: "IBOVDia_03-10-25.csv", bytes: older, at: "2025-10-02T21:00:00Z" },
      { name: "GetPortfolioDay_IBOV_2025-10-03.json", bytes: newer, at: "2025-10-03T09:30:00Z" },
      { name: "SMLLDia_02-10-25.csv", bytes: smll, at: "2025-10-02T09:30:00Z" }
    ]
    const original = join(root, "original")
    for (const f of files) {
      const path = join(root, f.name)
      writeFileSync(path, f.bytes)
      utimesSync(path, new Date(f.at), new Date(f.at))
      const r = await b3(original, "ingest", "--file", path)
      assert.strictEqual(r.code, 0, r.stdout)
    }
    const counts = [
      { index_code: "IBOV", ref_date: "2025-10-03", n: 87 },
      { index_code: "SMLL", ref_date: "2025-10-02", n: 30 }
    ]
    assert.deepStrictEqual(await rows(original, COUNTS_SQL), counts)

    const archive = join(original, "raw/b3_portfolio_payloads")
    for (const [name, concurrency] of [["rebuilt", "1"], ["rebuilt-concurrent", "4"]] as const) {
      const rebuilt = join(root, name)
      const r = await b3(rebuilt, "replay", archive, "--concurrency", concurrency)
      assert.strictEqual(r.code, 0, r.stdout)
      assert.match(r.stdout, /replay: 3 input\(s\)/)
      assert.deepStrictEqual(await rows(rebuilt, COUNTS_SQL), counts, name)
      // the same rows (fetched_at and payload hash included), the same refined table
      assert.deepStrictEqual(await rows(rebuilt, RAW_SQL), await rows(original, RAW_SQL), name)
      assert.deepStrictEqual(await rows(rebuilt, REFINED_SQL), await rows(original, REFINED_SQL), name)
      // byte for byte: the archive (pages and request.json) and the raw Parquet files
      assert.deepStrictEqual(tree(join(rebuilt, "raw")), tree(join(original, "raw")), name)
    }
  })

  it("an archived payload with a bad request.json fails on one line naming the field", async () => {
    const dir = join(root, "bad-archive/ref_date=2025-10-03/index_code=IBOV/abc")
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, "page-001.json"), "{}")
    writeFileSync(
      join(dir, "request.json"),
      JSON.stringify({
        request: { indexCode: "IBOV", method: "GetEverything", language: "pt-br", segment: "2" },
        fetchedAt: "2025-10-03T09:00:00Z"
      })
    )
    const r = await b3(join(root, "bad-archive-wh"), "replay", join(root, "bad-archive"))
    assert.strictEqual(r.code, 1)
    const failed = r.stdout.split("\n").filter((l) => l.startsWith("FAILED"))
    assert.lengthOf(failed, 1)
    assert.match(failed[0]!, /request\.json: request\.method: /)
    assert.notInclude(r.stdout, "kept under quarantine/") // nothing was quarantined: the archive is left as it is
    assert.isBelow(r.stdout.split("\n").length, 6, r.stdout)
  })
})
