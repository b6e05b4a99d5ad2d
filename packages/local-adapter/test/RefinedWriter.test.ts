import type { RefDate } from "@b3-pipeline/core/Domain"
import { decodeRefinedParquet } from "@b3-pipeline/core/Refine"
import { refinedColumns } from "@b3-pipeline/core/Tables"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { literal, open } from "../src/internal/duckdb.js"
import * as RefinedWriter from "../src/RefinedWriter.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

// Rows with every kind of value: nulls in the nullable columns, accents, the decimals' extremes.
const ROWS = `(VALUES
  ('IBOV', 'PETR4', 'PETROBRAS', 9999.999, 4566457123, 'PN', 'Petróleo, Gás e Biocombustíveis', 87, 12.5, DATE '2025-01-01', 3, 1, DATE '2025-01-06'),
  ('SMLL', 'PETR4', 'PETROBRAS', 0.001, 1, 'PN  N2', NULL, 3, NULL, DATE '2025-01-01', 3, NULL, DATE '2025-01-06'),
  ('IBOV', 'VALE3', 'VALE', -1.250, 9223372036854775807, 'ON', 'Mineração', 87, 100.000, DATE '2025-01-01', 3, 4, DATE '2025-01-06'),
  ('IBOV', 'ABEV3', 'AMBEV S/A', 3.141, 42, 'ON', 'Bebidas', 87, 3.141, DATE '2025-01-01', 4, 1, DATE '2025-01-07'))
  AS t(index_code, ticker, company, weight_pct, theoretical_qty, share_class, sector, index_constituents,
    sector_weight_pct, period_start, days_since_period_start, days_since_previous_snapshot, ref_date)`

/** A DuckDB instance holding ROWS as the refine's `refined` table (cast to the refined table's column types). */
const refinedRows = Effect.gen(function*() {
  const db = yield* open({ threads: 1 })
  const types = refinedColumns.map((c) => `CAST(${c.name} AS ${c.type.toUpperCase()}) AS ${c.name}`).join(", ")
  yield* db.run(`CREATE TEMP TABLE refined AS SELECT ${types}, ref_date, ticker FROM ${ROWS}`)
  return db
})

describe("RefinedWriter", () => {
  it.effect("writes each ticker's file with DuckDB's types and values, readable by core's reader", () => {
    const dir = tempWarehouse()
    return Effect.gen(function*() {
      const db = yield* refinedRows
      const staged = yield* RefinedWriter.readDate(db, "2025-01-06" as RefDate)
      assert.deepStrictEqual(staged.tickers, ["PETR4", "VALE3"])
      assert.strictEqual(staged.rows, 3)
      yield* staged.write(path.join(dir, "ours"))
      // the same rows written by DuckDB's own COPY
      yield* db.run(`COPY (SELECT * EXCLUDE (ref_date) FROM refined WHERE ref_date = DATE '2025-01-06'
        ORDER BY ticker, index_code) TO ${literal(path.join(dir, "duck"))} (FORMAT parquet, PARTITION_BY (ticker))`)
      for (const ticker of staged.tickers) {
        const ours = path.join(dir, "ours", "ref_date=2025-01-06", `ticker=${ticker}`, "part-00000.parquet")
        const duck = fs.readdirSync(path.join(dir, "duck", `ticker=${ticker}`))
          .map((f) => path.join(dir, "duck", `ticker=${ticker}`, f))[0] ?? ""
        const describe = (file: string) =>
          Effect.map(
            db.all(`DESCRIBE SELECT * FROM read_parquet(${literal(file)}, hive_partitioning = false)`),
            (r) => r.getRowsJS().map((row) => [row[0], row[1]])
          )
        const rows = (file: string) =>
          Effect.map(
            db.all(`SELECT * FROM read_parquet(${literal(file)}, hive_partitioning = false)`),
            (r) => r.getRowsJS().map(String)
          )
        assert.deepStrictEqual(yield* describe(ours), yield* describe(duck))
        assert.deepStrictEqual(yield* rows(ours), yield* rows(duck))
        assert.deepStrictEqual(decodeRefinedParquet(fs.readFileSync(ours)), decodeRefinedParquet(fs.readFileSync(duck)))
      }
      assert.deepStrictEqual(
        decodeRefinedParquet(
          fs.readFileSync(path.join(dir, "ours", "ref_date=2025-01-06", "ticker=PETR4", "part-00000.parquet"))
        ).map((r) => [r.index_code, r.weight_pct, r.theoretical_qty, r.sector, r.sector_weight_pct, r.period_start]),
        [
          ["IBOV", 9999999, 4566457123n, "Petróleo, Gás e Biocombustíveis", 12500, "2025-01-01"],
          ["SMLL", 1, 1n, null, null, "2025-01-01"]
        ]
      )
      // a date without rows stages nothing
      const none = yield* RefinedWriter.readDate(db, "2025-02-03" as RefDate)
      assert.deepStrictEqual([none.tickers, none.rows], [[], 0])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
  })

  it.effect("a staging folder that cannot be written fails the write with the filesystem's error", () => {
    const dir = tempWarehouse()
    return Effect.gen(function*() {
      const db = yield* refinedRows
      const staged = yield* RefinedWriter.readDate(db, "2025-01-06" as RefDate)
      const blocked = path.join(dir, "a-file")
      fs.writeFileSync(blocked, "not a folder")
      const error = yield* Effect.flip(staged.write(path.join(blocked, "staging")))
      assert.strictEqual((error as { readonly code?: unknown }).code, "ENOTDIR")
      assert.strictEqual(fs.readFileSync(blocked, "utf8"), "not a folder")
    }).pipe(Effect.scoped)
  })
})
