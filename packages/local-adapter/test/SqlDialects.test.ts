/**
 * The refine SQL is ONE text for Spark 3.5 (Glue) and DuckDB: here it must pass Spark's grammar
 * (DuckDB runs it in the other tests). The validation queries must pass Trino's (Athena) grammar.
 * dt-sql-parser checks grammar only; functions are checked by the DuckDB runs and by the list of
 * constructs refine.sql avoids (shared/aws-glue.md).
 */
import { assert, describe, it } from "@effect/vitest"
import { SparkSQL, TrinoSQL } from "dt-sql-parser"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

const sqlDir = fileURLToPath(new URL("../../../glue/sql/", import.meta.url))
const read = (name: string) => fs.readFileSync(`${sqlDir}${name}`, "utf8")

describe("SQL dialects", () => {
  it("refine.sql passes the Spark SQL grammar", () => {
    const spark = new SparkSQL()
    assert.deepStrictEqual(spark.validate(read("refine.sql")).map((e) => e.message), [])
    // the checker is not vacuous: DuckDB-only syntax is rejected
    assert.isAbove(spark.validate("SELECT 7 // 2 AS x FROM raw").length, 0)
  })

  it("refine.sql stays in the subset Spark and DuckDB share", () => {
    const sql = read("refine.sql").split("\n").map((l) => l.replace(/--.*$/, "")).join("\n")
    for (
      const [pattern, why] of [
        [/::/, "DuckDB-only cast"],
        [/\bQUALIFY\b/i, "DuckDB-only"],
        [/`/, "backticks are rejected by DuckDB"],
        [/\bsplit\s*\(/i, "0-based in Spark, 1-based in DuckDB; regex in Spark"],
        [/\b(dayofweek|weekday|datediff|date_format|to_date|avg)\s*\(/i, "differs between the engines"],
        [/\bconcat\s*\(/i, "NULL handling differs"],
        [/"/, "a string literal in Spark, an identifier in DuckDB"]
      ] as const
    ) {
      assert.notMatch(sql, pattern, why)
    }
    // every aggregate is cast to the table's type
    for (const m of sql.matchAll(/\b(SUM|COUNT)\s*\(/gi)) {
      assert.match(sql.slice(Math.max(0, m.index! - 6), m.index!), /CAST\($/i, `${m[0]} must be CAST`)
    }
  })

  for (const name of fs.readdirSync(`${sqlDir}validation`).filter((f) => f.endsWith(".sql")).sort()) {
    it(`validation/${name} passes the Trino (Athena) grammar`, () => {
      const errors = new TrinoSQL().validate(read(`validation/${name}`))
      assert.deepStrictEqual(errors.map((e) => e.message), [])
    })
  }
})
