import * as Tables from "@b3-pipeline/core/Tables"
import { assert, describe, it } from "@effect/vitest"
import { SparkSQL, TrinoSQL } from "dt-sql-parser"
import { readRefineSql, readValidationQueries } from "../src/GlueAssets.js"

const spark = new SparkSQL()
const trino = new TrinoSQL()

/** `source ... AS alias` pairs, one per select-list line (`cod AS ticker`, `CAST(part AS ...) AS weight_pct`). */
const renamesIn = (sql: string): ReadonlyArray<readonly [string, string]> =>
  sql.split("\n").flatMap((line) => {
    const m = /^\s*(?:CAST\(\s*)?(?:\w+\.)?(\w+)\b.*\bAS\s+(\w+)\s*,?\s*$/i.exec(line)
    const [, source, alias] = m ?? []
    return source === undefined || alias === undefined ? [] : [[source, alias] as const]
  })

describe("refine.sql", () => {
  const sql = readRefineSql()

  it("parses with the Spark SQL grammar (zero syntax errors)", () => {
    assert.deepStrictEqual(spark.validate(sql), [])
  })

  it("a deliberately broken refine SQL fails the same check", () => {
    assert.isAbove(spark.validate(sql.replace(/GROUP BY/, "GROUP BY BY")).length, 0)
    assert.isAbove(spark.validate("SELECT a FROM t GROUP x").length, 0)
  })

  it("(A) aggregates with GROUP BY", () => {
    assert.match(sql, /\bGROUP\s+BY\b/i)
    assert.match(sql, /\b(COUNT|SUM)\s*\(/i)
  })

  it("(B) renames at least two raw columns to refined names", () => {
    const raw = new Set(Tables.rawColumns.map((c) => c.name))
    const refined = new Set([...Tables.refinedColumns, ...Tables.refinedPartitionKeys].map((c) => c.name))
    const renames = renamesIn(sql).filter(([from, to]) => from !== to && raw.has(from) && refined.has(to))
    assert.isAtLeast(new Set(renames.map(([, to]) => to)).size, 2, JSON.stringify(renames))
  })

  it("(C) computes dates (period start, day differences)", () => {
    assert.match(sql, /\b(make_date|date_add|last_day|unix_date|datediff)\s*\(/i)
    assert.match(sql, /\bdays_since_period_start\b/)
  })

  it("reads raw and raw_dates and outputs every refined column plus the partition columns", () => {
    assert.match(sql, /\bFROM\s+raw\b/i)
    assert.match(sql, /\bFROM\s+raw_dates\b/i)
    for (const c of [...Tables.refinedColumns, ...Tables.refinedPartitionKeys]) {
      assert.match(sql, new RegExp(`\\bAS\\s+${c.name}\\b`), c.name)
    }
  })
})

describe("validation queries (Athena / Trino)", () => {
  it("the broken-query check can fail", () => {
    assert.isAbove(trino.validate("SELECT ref_date, FROM FROM b3_portfolio_refined").length, 0)
    assert.deepStrictEqual(
      trino.validate("SELECT ref_date, COUNT(*) FROM \"default\".b3_portfolio_refined GROUP BY 1"),
      []
    )
  })

  it("every glue/sql/validation/*.sql parses as Trino SQL", () => {
    const queries = readValidationQueries()
    assert.isAbove(queries.length, 0)
    for (const q of queries) {
      assert.deepStrictEqual(trino.validate(q.sql), [], q.name)
    }
  })
})
