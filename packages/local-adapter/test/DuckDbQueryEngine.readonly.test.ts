/**
 * The local query engine only reads the warehouse's two tables: no file written anywhere (not even in
 * the table folders), no database attached, no file read outside the table folders, and the SQL
 * cannot lift these limits. Each refusal is a `QueryError` with reason `NotAllowed`.
 */
import type { QueryError } from "@b3-pipeline/core/QueryEngine"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { PAYLOAD_PREFIX } from "@b3-pipeline/core/Tables"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import * as DuckDbQueryEngine from "../src/DuckDbQueryEngine.js"
import { cleanupWarehouses, generate, tempWarehouse, treeHashes, writeRaw } from "./fixtures.js"

afterAll(cleanupWarehouses)

const warehouse = tempWarehouse()
for (const p of generate(["IBOV"], ["2025-10-03"])) writeRaw(warehouse, p)
const archived = path.join(warehouse, PAYLOAD_PREFIX, "ref_date=2025-10-03/index_code=IBOV/abc/page-001.json")
fs.mkdirSync(path.dirname(archived), { recursive: true })
fs.writeFileSync(archived, "{\"secret\": 1}\n")
const outside = path.join(tempWarehouse(), "outside.csv")
fs.writeFileSync(outside, "a,b\n1,2\n")
const tableFile = path.join(warehouse, "raw/b3_portfolio_raw/ref_date=2025-10-03/index_code=IBOV/evil.parquet")

const engine = DuckDbQueryEngine.layer({ warehouse, threads: 1 }).pipe(Layer.provide(NodeContext.layer))

const refused = (sql: string) =>
  Effect.flip(QueryEngine.collect(sql)).pipe(
    Effect.map((e: QueryError) => {
      assert.strictEqual(e.reason, "NotAllowed", `${sql}: ${e.message}`)
      return e.message
    })
  )

describe("DuckDbQueryEngine is read-only and confined to the warehouse's tables", () => {
  it.effect("reads both tables (and SHOW/DESCRIBE/WITH still work)", () =>
    Effect.gen(function*() {
      const before = treeHashes(warehouse)
      const [row] = yield* QueryEngine.collect("SELECT count(*) AS n FROM b3_portfolio_raw")
      assert.isAbove(Number(row!["n"]), 0)
      assert.deepStrictEqual(yield* QueryEngine.collect("SELECT count(*) AS n FROM b3_portfolio_refined"), [{ n: 0 }])
      assert.isAbove((yield* QueryEngine.collect("DESCRIBE b3_portfolio_raw")).length, 5)
      assert.isAbove((yield* QueryEngine.collect("SHOW TABLES")).length, 1)
      assert.deepStrictEqual(yield* QueryEngine.collect("WITH a AS (SELECT 1 AS x) SELECT x FROM a"), [{ x: 1 }])
      assert.deepStrictEqual(treeHashes(warehouse), before)
    }).pipe(Effect.provide(engine)))

  it.effect("COPY ... TO, EXPORT, ATTACH, INSERT/CREATE and configuration changes fail, and write nothing", () =>
    Effect.gen(function*() {
      const before = treeHashes(warehouse)
      const copyOut = yield* refused(`COPY (SELECT 1 AS a) TO '${path.join(path.dirname(outside), "x.csv")}'`)
      assert.match(copyOut, /COPY|Permission|disabled/)
      // into the table folder itself (which the engine may read): refused by the statement gate
      assert.match(yield* refused(`COPY (SELECT 1 AS a) TO '${tableFile}' (FORMAT parquet)`), /statement 1 is a COPY/)
      assert.match(yield* refused(`ATTACH '${path.join(warehouse, "raw/x.duckdb")}' AS x`), /ATTACH/)
      assert.match(yield* refused("ATTACH ':memory:' AS y"), /ATTACH/)
      yield* refused(`EXPORT DATABASE '${path.join(warehouse, "raw/b3_portfolio_raw/export")}'`)
      yield* refused("CREATE TABLE t AS SELECT 1")
      yield* refused("SET enable_external_access = true")
      yield* refused("SELECT 1; COPY (SELECT 1) TO '/tmp/b3-never.csv'")
      assert.isFalse(fs.existsSync(tableFile))
      assert.isFalse(fs.existsSync("/tmp/b3-never.csv"))
      assert.deepStrictEqual(treeHashes(warehouse), before)
    }).pipe(Effect.provide(engine)))

  it.effect("no file outside the two tables' folders can be read: not /etc/passwd, not the payload archive", () =>
    Effect.gen(function*() {
      assert.match(yield* refused("SELECT * FROM read_csv('/etc/passwd')"), /\/etc\/passwd/)
      yield* refused(`SELECT * FROM read_csv('${outside}')`)
      yield* refused(`SELECT * FROM read_text('${archived}')`)
      yield* refused(
        `SELECT * FROM read_parquet('${path.join(warehouse, "raw/b3_portfolio_raw/../../outside.parquet")}')`
      )
      yield* refused("SELECT * FROM read_csv('https://example.com/x.csv')")
    }).pipe(Effect.provide(engine)))
})
