import type { CodeGenConfigurationNode } from "@aws-sdk/client-glue"
import * as Tables from "@b3-pipeline/core/Tables"
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { readRefineSql, REFINE_SQL_FILE, visualJobJsonPath } from "../src/GlueAssets.js"
import {
  customCode,
  loadVisualSources,
  nodeIds,
  renderVisualJobJson,
  toJobUpdate,
  visualGraph,
  visualJobRequest
} from "../src/visualJob.js"

const sources = loadVisualSources()
const request = visualJobRequest({
  ...sources,
  bucket: "data-bucket",
  jobName: "b3-refine-visual-test",
  roleArn: "arn:aws:iam::123456789012:role/glue",
  scriptLocation: "s3://data-bucket/glue-scripts/generated/refine_visual.py",
  tempDir: "s3://data-bucket/glue-temp/"
})
const graph = request.CodeGenConfigurationNodes!
const nodes = Object.values(graph)
/** The one kind a node has, with its body (`["SparkSQL", {...}]`). */
const kindOf = (node: CodeGenConfigurationNode): readonly [string, { Inputs?: Array<string> }] => {
  const kinds = Object.entries(node).filter(([, v]) => v !== undefined)
  assert.strictEqual(kinds.length, 1, JSON.stringify(kinds.map(([k]) => k)))
  const [kind] = kinds
  assert.isDefined(kind)
  return kind
}
/** The node with this id (failing the test when the graph has none). */
const nodeOf = (id: string, of: Record<string, CodeGenConfigurationNode> = graph): CodeGenConfigurationNode => {
  const node = of[id]
  assert.isDefined(node, `node ${id}`)
  return node
}

describe("visual job definition", () => {
  it("the committed refine-job.visual.json is up to date (run `npm run generate -w @b3-pipeline/glue`)", () => {
    assert.isTrue(fs.existsSync(visualJobJsonPath))
    assert.strictEqual(fs.readFileSync(visualJobJsonPath, "utf8"), renderVisualJobJson())
  })

  it("is deterministic and uses placeholders, not a real bucket or role", () => {
    const a = renderVisualJobJson(sources)
    assert.strictEqual(a, renderVisualJobJson(sources))
    const parsed = JSON.parse(a)
    assert.strictEqual(parsed.Role, "${JobRoleArn}")
    assert.strictEqual(parsed.Name, "${JobName}")
    assert.include(a, "s3://${Bucket}/refined/b3_portfolio_refined/")
    assert.strictEqual(parsed.JobMode, "VISUAL")
  })

  it("is a Glue 5.0 VISUAL job on 2 G.1X workers with bookmarks off", () => {
    assert.strictEqual(request.JobMode, "VISUAL")
    assert.strictEqual(request.GlueVersion, "5.0")
    assert.strictEqual(request.WorkerType, "G.1X")
    assert.strictEqual(request.NumberOfWorkers, 2)
    assert.strictEqual(request.DefaultArguments?.["--job-bookmark-option"], "job-bookmark-disable")
    assert.strictEqual(request.DefaultArguments?.["--bucket"], "data-bucket")
    assert.strictEqual(request.Command?.Name, "glueetl")
    assert.notInclude(request.Command?.ScriptLocation ?? "", "refine_job.py")
  })

  it("every node has exactly one kind, and every input names a node of the graph", () => {
    const ids = new Set(Object.keys(graph))
    for (const node of nodes) {
      const [kind, body] = kindOf(node)
      const inputs = body.Inputs ?? []
      for (const input of inputs) assert.isTrue(ids.has(input), `${kind} input ${input}`)
    }
  })

  it("reads the raw Parquet from raw/b3_portfolio_raw/ and maps every raw column", () => {
    const source = nodeOf(nodeIds.rawSource).S3ParquetSource!
    assert.deepStrictEqual(source.Paths, [`s3://data-bucket/${Tables.RAW_PREFIX}`])
    const mapping = nodeOf(nodeIds.mapRaw).ApplyMapping!.Mapping!
    assert.deepStrictEqual(
      mapping.map((m) => m.ToKey),
      [...Tables.rawColumns, ...Tables.rawPartitionKeys].map((c) => c.name)
    )
    assert.isTrue(mapping.every((m) => m.Dropped === false && m.FromType === m.ToType))
  })

  it("the SparkSQL node embeds refine.sql verbatim with aliases raw and raw_dates", () => {
    const sqlNodes = nodes.filter((n) => n.SparkSQL !== undefined)
    assert.strictEqual(sqlNodes.length, 1)
    const sql = sqlNodes[0]?.SparkSQL
    assert.isDefined(sql)
    assert.strictEqual(sql.SqlQuery, readRefineSql())
    assert.deepStrictEqual(sql.SqlAliases?.map((a) => a.Alias).sort(), ["raw", "raw_dates"])
    for (const alias of sql.SqlAliases!) assert.include(sql.Inputs!, alias.From!)
    // (A) aggregation, (C) date calculation: inside the SparkSQL text
    assert.match(sql.SqlQuery!, /\bGROUP\s+BY\b/i)
    assert.match(sql.SqlQuery!, /\bmake_date\s*\(|\bunix_date\s*\(|\bdate_add\s*\(/i)
    // output schema: refined columns then partition columns
    assert.deepStrictEqual(
      sql.OutputSchemas?.[0]?.Columns?.map((c) => c.Name),
      [...Tables.refinedColumns, ...Tables.refinedPartitionKeys].map((c) => c.name)
    )
  })

  it("(B) the graph renames at least two columns (SparkSQL aliases of raw columns)", () => {
    const raw = new Set(Tables.rawColumns.map((c) => c.name))
    const sql = nodeOf(nodeIds.refineSql).SparkSQL!.SqlQuery!
    const renamed = [...sql.matchAll(/\b(\w+)\s+AS\s+(\w+)\b/gi)].filter((m) =>
      m[1] !== undefined && raw.has(m[1]) && m[1] !== m[2]
    )
    assert.isAtLeast(renamed.length, 2)
  })

  it("writes refined/ partitioned by [[ref_date],[ticker]] and updates default.b3_portfolio_refined", () => {
    const targets = nodes.filter((n) => n.S3GlueParquetTarget !== undefined).map((n) => n.S3GlueParquetTarget!)
    assert.strictEqual(targets.length, 1)
    const [target] = targets
    assert.isDefined(target)
    assert.deepStrictEqual(target.PartitionKeys, [["ref_date"], ["ticker"]])
    assert.strictEqual(target.Path, "s3://data-bucket/refined/b3_portfolio_refined/")
    assert.strictEqual(target.SchemaChangePolicy?.EnableUpdateCatalog, true)
    assert.strictEqual(target.SchemaChangePolicy?.Database, "default")
    assert.strictEqual(target.SchemaChangePolicy?.Table, "b3_portfolio_refined")
    assert.deepStrictEqual(target.Inputs, [nodeIds.pickRefined])
  })

  it("the purge CustomCode sits between the SQL and the sink, and can be left out", () => {
    const purge = nodeOf(nodeIds.purge).CustomCode!
    assert.deepStrictEqual(purge.Inputs, [nodeIds.refineSql])
    assert.strictEqual(purge.ClassName, "PurgeRefinedDate")
    assert.include(purge.Code!, "\"retentionPeriod\": 0")
    assert.include(purge.Code!, `REFINED_PREFIX = "${Tables.REFINED_PREFIX}"`)
    assert.include(purge.Code!, `DATABASE = "${Tables.DATABASE}"`)
    const without = visualGraph({ ...sources, bucket: "b", purge: false })
    assert.isUndefined(without[nodeIds.purge])
    assert.deepStrictEqual(nodeOf(nodeIds.refinedTarget, without).S3GlueParquetTarget!.Inputs, [nodeIds.refineSql])
  })

  it("the select CustomCode uses the raw prefix of Tables.ts and feeds both collection picks", () => {
    const select = nodeOf(nodeIds.selectRawDate).CustomCode!
    assert.strictEqual(select.ClassName, "SelectRawDate")
    assert.include(select.Code!, `RAW_PREFIX = "${Tables.RAW_PREFIX}"`)
    assert.strictEqual(nodeOf(nodeIds.pickRaw).SelectFromCollection!.Index, 0)
    assert.strictEqual(nodeOf(nodeIds.pickRawDates).SelectFromCollection!.Index, 1)
  })

  it("every CustomCode is a function body only: Glue Studio writes the `def` from ClassName", () => {
    const custom = nodes.filter((n) => n.CustomCode !== undefined).map((n) => n.CustomCode!)
    assert.strictEqual(custom.length, 2)
    for (const c of custom) {
      assert.notMatch(c.Code!, /^\s*def\s/, c.ClassName)
      assert.notMatch(c.Code!, new RegExp(`^\\s*def\\s+${c.ClassName}\\s*\\(`, "m"), c.ClassName)
      assert.match(c.Code!, /^\S/, `${c.ClassName}: dedented`)
      assert.match(c.Code!, /\breturn\b/, c.ClassName)
    }
  })

  it("the check above fails on a CustomCode that still carries its def line", () => {
    const withDef = { ClassName: "F", Code: "def F(glueContext, dfc) -> DynamicFrameCollection:\n    return dfc\n" }
    assert.match(withDef.Code, /^\s*def\s/)
    assert.throws(() => customCode("x = 1\n", "n"), /must be one function/)
    assert.throws(() => customCode("def F(glueContext, dfc):\n    return dfc\nprint(1)\n", "n"), /top-level/)
    assert.deepStrictEqual(
      customCode("# note\ndef F(glueContext, dfc):\n    a = 1\n\n    if a:\n        return dfc\n", "n"),
      {
        ClassName: "F",
        Code: "a = 1\n\nif a:\n    return dfc\n"
      }
    )
  })

  it("the select node reads exactly the keys of its one listing (no second listing of the date)", () => {
    const code = nodeOf(nodeIds.selectRawDate).CustomCode!.Code!
    assert.strictEqual(code.match(/list_objects_v2/g)?.length, 1)
    assert.include(code, "for key in sorted(date_keys)")
    assert.notInclude(code, "ref_date=%s/\" % (base")
  })

  it("UpdateJob payload resends every field but the name", () => {
    const update = toJobUpdate(request)
    assert.isFalse("Name" in update)
    assert.deepStrictEqual(Object.keys(update).sort(), Object.keys(request).filter((k) => k !== "Name").sort())
  })

  it("the SQL file name the script job opens is the shipped one", () => {
    assert.strictEqual(REFINE_SQL_FILE, "refine.sql")
  })
})
