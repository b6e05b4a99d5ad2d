/**
 * Test helpers: raw partitions written straight from generated portfolios, and refined files read
 * back with core's exact Parquet reader.
 */
import type { IndexCode, Portfolio, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import { decodeRawParquet, encodeRawParquet } from "@b3-pipeline/core/RawParquet"
import type { RawRow, RefinedRow } from "@b3-pipeline/core/Refine"
import { decodeRefinedParquet } from "@b3-pipeline/core/Refine"
import { rawParquetKey, REFINED_PREFIX } from "@b3-pipeline/core/Tables"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const rawMeta = (p: Portfolio) => ({
  payloadSha256: createHash("sha256").update(`${p.indexCode}${p.refDate}`).digest("hex"),
  fetchedAt: `${p.refDate}T09:00:00.000Z`
})

/** Writes the raw partition of a portfolio into a warehouse folder; returns its rows. */
export const writeRaw = (warehouse: string, p: Portfolio): Array<RawRow> => {
  const bytes = encodeRawParquet(p, rawMeta(p))
  const file = path.join(warehouse, rawParquetKey(p.refDate, p.indexCode))
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, bytes)
  return decodeRawParquet(bytes).map((r) => ({ ...r, ref_date: p.refDate, index_code: p.indexCode }))
}

export const generate = (indexCodes: ReadonlyArray<string>, dates: ReadonlyArray<string>, seed = 1, size?: number) =>
  dates.flatMap((d) =>
    indexCodes.map((c, i) =>
      generatePortfolio({
        indexCode: c as IndexCode,
        refDate: d as RefDate,
        seed: seed + i,
        ...(size !== undefined ? { size } : {}),
        segment: i % 2 === 0 ? "2" : "1"
      })
    )
  )

/** Every refined row of a date, read from the Hive tree with core's reader (partition values from the path). */
export const readRefinedDate = (warehouse: string, refDate: string): Array<RefinedRow> => {
  const dir = path.join(warehouse, REFINED_PREFIX, `ref_date=${refDate}`)
  if (!fs.existsSync(dir)) return []
  const out: Array<RefinedRow> = []
  for (const t of fs.readdirSync(dir).sort()) {
    const ticker = t.replace(/^ticker=/, "")
    const files = fs.readdirSync(path.join(dir, t))
    for (const f of files.sort()) {
      for (const row of decodeRefinedParquet(fs.readFileSync(path.join(dir, t, f)))) {
        out.push({ ...row, ref_date: refDate as RefDate, ticker })
      }
    }
  }
  return out
}

/** sha256 of every file under a folder, by relative path. */
export const treeHashes = (root: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else out[path.relative(root, full)] = createHash("sha256").update(fs.readFileSync(full)).digest("hex")
    }
  }
  walk(root)
  return out
}

const created: Array<string> = []

/** A fresh warehouse folder (removed by `cleanupWarehouses`). */
export const tempWarehouse = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "b3-wh-"))
  created.push(dir)
  return dir
}

/** Removes the warehouses made so far (each test file calls it in `afterAll`). */
export const cleanupWarehouses = (): void => {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
}
