import type { RefDate } from "@b3-pipeline/core/Domain"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as ServingFiles from "../src/ServingFiles.js"
import { listServing } from "../src/ServingLayout.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

/** A serving copy's folder with empty files of these names (`month=.../name`): only names matter here. */
const folder = (files: ReadonlyArray<string>): ServingFiles.ServingTable => {
  const root = path.join(tempWarehouse(), "serving", "t")
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true })
    fs.writeFileSync(path.join(root, f), "")
  }
  return { root, columns: "*", order: "ref_date", format: "FORMAT parquet" }
}

const days = (month: string, n: number) =>
  Array.from({ length: n }, (_, i) => `month=${month}/ref_date=${month}-${String(i + 1).padStart(2, "0")}.parquet`)

describe("ServingFiles: which months are compacted, what a listing serves", () => {
  it("compacts a closed month with date files, never the open one (its date files cost a query little)", () => {
    // the open month with a month's worth of date files: only the closed month with a date file is due
    const a = folder([
      "month=2025-03/part-00000.parquet",
      "month=2025-04/part-00000.parquet",
      ...days("2025-04", 1),
      ...days("2025-05", 23)
    ])
    assert.deepStrictEqual(ServingFiles.closedMonths(a, "2025-05"), ["2025-04"])
    // a later date passed in (a new month's first date, before its file exists) closes the open month too
    assert.deepStrictEqual(ServingFiles.closedMonths(a, "2025-06"), ["2025-04", "2025-05"])
    // a month of bases only: nothing due
    assert.deepStrictEqual(ServingFiles.closedMonths(folder(["month=2025-05/part-00000.parquet"]), "2025-05"), [])
  })

  it("lists bases and date files; names of other shapes (temp files, a date of another month) are not served", () => {
    const t = folder([
      "month=2025-05/part-00000.parquet",
      "month=2025-05/ref_date=2025-05-02.parquet",
      "month=2025-05/.tmp-1234",
      "month=2025-05/ref_date=2025-06-02.parquet",
      "month=2025-06/ref_date=2025-06-02.parquet",
      "year=2025/part-00000.parquet"
    ])
    const listing = listServing(t.root)
    assert.deepStrictEqual(listing.bases, [{
      month: "2025-05",
      file: path.join(t.root, "month=2025-05", "part-00000.parquet")
    }])
    assert.deepStrictEqual(
      listing.dated.map((d) => [d.date, path.relative(t.root, d.file)]),
      [["2025-05-02", "month=2025-05/ref_date=2025-05-02.parquet"], [
        "2025-06-02",
        "month=2025-06/ref_date=2025-06-02.parquet"
      ]]
    )
    // the writers list a month as the readers do
    assert.deepStrictEqual(ServingFiles.monthFiles(t, "2025-05").dated.map((d) => d.date), ["2025-05-02"])
    assert.strictEqual(
      ServingFiles.monthFiles(t, "2025-05").base,
      path.join(t.root, "month=2025-05", "part-00000.parquet")
    )
    assert.deepStrictEqual(
      ServingFiles.monthDates(["ref_date=2025-05-02", "ref_date=2025-05-01", "ref_date=2025-06-01", "x"], "2025-05", [
        "2025-05-02" as RefDate
      ]),
      ["2025-05-01" as RefDate]
    )
  })
})
