import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as LocalLive from "../src/LocalLive.js"
import * as RefineSql from "../src/RefineSql.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

const glueSql = new URL("../../../glue/sql/", import.meta.url)

describe("RefineSql", () => {
  it.effect("inside the repository the sources read glue/sql itself (the single refine.sql)", () =>
    Effect.gen(function*() {
      const sql = yield* RefineSql.load()
      assert.strictEqual(sql.refine, fs.readFileSync(new URL("refine.sql", glueSql), "utf8"))
      assert.strictEqual(sql.compat, fs.readFileSync(new URL("duckdb-compat.sql", glueSql), "utf8"))
    }))

  it.effect("a folder without refine.sql fails LocalLive's construction with a typed error naming it", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "b3-nosql-"))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(LocalLive.layer({ warehouse: tempWarehouse(), sqlDir: empty })).pipe(Effect.scoped)
      )
      assert.strictEqual(error._tag, "RefineSqlError")
      if (error._tag !== "RefineSqlError") return
      assert.strictEqual(error.reason, "Missing")
      assert.deepStrictEqual(error.searched, [empty])
      assert.include(error.message, empty)
    }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(empty, { recursive: true, force: true }))))
  })

  it.effect("refine.sql present but duckdb-compat.sql missing names the missing file", () => {
    const half = fs.mkdtempSync(path.join(os.tmpdir(), "b3-halfsql-"))
    fs.copyFileSync(new URL("refine.sql", glueSql), path.join(half, "refine.sql"))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(RefineSql.load(half))
      assert.strictEqual(error.reason, "Missing")
      assert.strictEqual(error.file, path.join(half, "duckdb-compat.sql"))
    }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(half, { recursive: true, force: true }))))
  })
})
