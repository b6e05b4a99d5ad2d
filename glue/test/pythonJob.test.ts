import type { RefDate } from "@b3-pipeline/core/Domain"
import * as Tables from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { jobScriptPath, REFINE_SQL_FILE, visualCodeDir } from "../src/GlueAssets.js"

const python = (code: string, cwd: string = path.dirname(jobScriptPath)): string =>
  execFileSync("python3", ["-c", code], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" }
  })

const compile = (file: string) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "pyc-"))
  try {
    // py_compile with an explicit cfile so nothing is written into the source tree
    python(
      `import py_compile,sys; py_compile.compile(sys.argv[1] if len(sys.argv)>1 else ${JSON.stringify(file)}, cfile=${
        JSON.stringify(path.join(out, "x.pyc"))
      }, doraise=True)`
    )
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

describe("refine_job.py", () => {
  const script = fs.readFileSync(jobScriptPath, "utf8")

  it("compiles (py_compile), and so do the visual CustomCode bodies", () => {
    compile(jobScriptPath)
    for (const f of fs.readdirSync(visualCodeDir).filter((f) => f.endsWith(".py"))) compile(path.join(visualCodeDir, f))
  })

  it("a syntax error is caught by the same check", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pybad-"))
    const bad = path.join(dir, "bad.py")
    fs.writeFileSync(bad, "def f(:\n  pass\n")
    try {
      assert.throws(() => compile(bad))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reads the shipped refine.sql and writes with dynamic partition overwrite set before the SparkContext", () => {
    assert.include(script, `REFINE_SQL_FILE = "${REFINE_SQL_FILE}"`)
    const conf = script.indexOf("\"spark.sql.sources.partitionOverwriteMode\", \"dynamic\"")
    const context = script.indexOf("SparkContext.getOrCreate(")
    assert.isAbove(conf, -1)
    assert.isAbove(context, conf)
    assert.include(script, ".partitionBy(*PARTITION_COLUMNS)")
    assert.include(script, "batch_create_partition")
  })

  it("its defaults match Tables.ts", () => {
    const out = JSON.parse(python("import json, refine_job as j; print(json.dumps([j.DEFAULTS, j.PARTITION_COLUMNS]))"))
    assert.deepStrictEqual(out, [
      {
        database: Tables.DATABASE,
        raw_table: Tables.RAW_TABLE,
        refined_table: Tables.REFINED_TABLE,
        refine_sql: "refine.sql"
      },
      Tables.refinedPartitionKeys.map((k) => k.name)
    ])
  })

  it("parses Glue job arguments and rejects bad ones with the argument's name", () => {
    const out = JSON.parse(python(`
import json, refine_job as j
ok = j.parse_args(["--JOB_NAME", "job", "--bucket", "b", "--ref_date", "2025-04-07", "--index_code", "IBOV",
                   "--enable-glue-datacatalog", "true", "--job-bookmark-option", "job-bookmark-disable"])
errors = []
for argv in (["--JOB_NAME", "job", "--ref_date", "2025-04-07"],
             ["--JOB_NAME", "job", "--bucket", "b", "--ref_date", "2025-02-30"],
             ["--JOB_NAME", "job", "--bucket", "b", "--ref_date", "07/04/2025"],
             ["--JOB_NAME", "job", "--bucket", "b", "--ref_date", "2025-04-07", "--refined_table", "x;drop"]):
    try:
        j.parse_args(argv)
        errors.append(None)
    except j.JobArgumentError as e:
        errors.append(str(e))
print(json.dumps([ok, errors]))
`))
    assert.strictEqual(out[0].bucket, "b")
    assert.strictEqual(out[0].index_code, "IBOV")
    assert.strictEqual(out[0].refined_table, "b3_portfolio_refined")
    assert.include(out[1][0], "--bucket")
    assert.include(out[1][1], "calendar date")
    assert.include(out[1][2], "--ref_date")
    assert.include(out[1][3], "--refined_table")
  })

  it("finds raw partitions with the key grammar of Tables.parseRawParquetKey", () => {
    const keys = [
      "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet",
      "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=SMLL/part-00000.parquet",
      "raw/b3_portfolio_raw/ref_date=2025-04-04/index_code=IBOV/part-00000.parquet",
      "raw/b3_portfolio_raw/ref_date=2025-04-04/index_code=IBOV/.tmp-123",
      "raw/b3_portfolio_payloads/ref_date=2025-04-04/index_code=IBOV/x.parquet",
      "raw/b3_portfolio_raw/ref_date=2025-4-4/index_code=IBOV/part-00000.parquet",
      "raw/b3_portfolio_raw/ref_date=2025-04-04/index_code=ibov/part-00000.parquet"
    ]
    const out = JSON.parse(python(
      `import json, sys, refine_job as j; print(json.dumps(j.raw_partitions(json.loads(sys.argv[1]), j.DEFAULTS)))`
        .replace("sys.argv[1]", JSON.stringify(JSON.stringify(keys)))
    ))
    const expected = keys.flatMap((k) => {
      const p = Tables.parseRawParquetKey(k)
      return p === undefined ? [] : [[p.indexCode, p.refDate]]
    }).sort()
    assert.deepStrictEqual(out, expected)
    assert.strictEqual(out.length, 3)
  })

  it("puts the partition columns last and notices stale ticker folders", () => {
    const out = JSON.parse(python(`
import json, refine_job as j
cols = j.output_columns(["ref_date", "index_code", "company", "ticker", "weight_pct"])
keys = ["refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=PETR4/part-0.parquet",
        "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=VALE3/part-0.parquet",
        "refined/b3_portfolio_refined/ref_date=2025-04-08/ticker=ITUB4/part-0.parquet"]
try:
    j.output_columns(["company"])
    missing = None
except ValueError as e:
    missing = str(e)
print(json.dumps([cols, j.refined_tickers_in_listing(keys, j.DEFAULTS, "2025-04-07"), missing, len(j.chunks(list(range(230)), 100))]))
`))
    assert.deepStrictEqual(out[0], ["index_code", "company", "weight_pct", "ref_date", "ticker"])
    assert.deepStrictEqual(out[1], ["PETR4", "VALE3"])
    assert.include(out[2], "ref_date")
    assert.strictEqual(out[3], 3)
  })
})

describe("visual CustomCode bodies", () => {
  it("each body, wrapped the way Glue Studio wraps it (def from ClassName), compiles", async () => {
    const { loadVisualSources, visualGraph } = await import("../src/visualJob.js")
    const graph = visualGraph({ ...loadVisualSources(), bucket: "b" })
    const custom = Object.values(graph).filter((n) => n.CustomCode !== undefined).map((n) => n.CustomCode!)
    assert.strictEqual(custom.length, 2)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pyvisual-"))
    try {
      for (const c of custom) {
        const indented = c.Code!.split("\n").map((l) => (l === "" ? l : `    ${l}`)).join("\n")
        const file = path.join(dir, `${c.ClassName}.py`)
        fs.writeFileSync(file, `def ${c.ClassName}(glueContext, dfc) -> DynamicFrameCollection:\n${indented}\n`)
        compile(file)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("refine_job.py: one listing, manifest last, next dates after a backfill", () => {
  const script = fs.readFileSync(jobScriptPath, "utf8")
  const keys = [
    "raw/b3_portfolio_raw/ref_date=2025-04-04/index_code=IBOV/part-00000.parquet",
    "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet",
    "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=SMLL/part-00000.parquet",
    "raw/b3_portfolio_raw/ref_date=2025-04-09/index_code=SMLL/part-00000.parquet",
    "raw/b3_portfolio_raw/ref_date=2025-04-10/index_code=IBOV/part-00000.parquet",
    "raw/b3_portfolio_payloads/ref_date=2025-04-07/index_code=IBOV/x/page-001.json"
  ]
  const sha = (k: string) => createHash("sha256").update(k).digest("hex")
  const raw = Trigger.rawStateOf(
    keys.filter((k) => k.includes("b3_portfolio_raw/")).map((key) => ({ key: key as never, etag: sha(key) }))
  )

  it("plans, next dates and the manifest are core's (Trigger.planOf / impliedDates / manifestOf)", () => {
    const out = JSON.parse(python(`
import json, sys, refine_job as j
keys = json.loads(sys.argv[1]) if len(sys.argv) > 1 else ${JSON.stringify(keys)}
objs = j.raw_objects(keys, j.DEFAULTS)
shas = ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, sha(k)])))}
plan = j.plan_of(objs, "2025-04-07")
m = j.manifest_of(plan, shas, 12, ["VALE3", "PETR4"], "jr_1", "2025-04-07T21:00:00.000Z")
print(json.dumps([plan, j.next_dates(objs, "2025-04-07"), j.next_dates(objs, "2025-04-04"), m,
  j.manifest_matches(m, plan, shas), j.manifest_matches(dict(m, previous={"IBOV": None, "SMLL": None}), plan, shas),
  j.manifest_key("2025-04-07")]))
`))
    const plan = Trigger.planOf(raw, "2025-04-07" as RefDate)
    assert.deepStrictEqual(out[0].inputs, plan.inputs.map((i) => ({ indexCode: i.indexCode, key: i.key })))
    assert.deepStrictEqual(out[0].previous, plan.previous)
    const implied = (d: string) =>
      Trigger.coalesce(
        (raw.byDate.get(d as RefDate) ?? []).map((i) => ({ refDate: d as RefDate, indexCode: i.indexCode })),
        raw
      ).filter((x) => x !== d)
    assert.deepStrictEqual(out[1], implied("2025-04-07"))
    assert.deepStrictEqual(out[1], ["2025-04-09", "2025-04-10"])
    assert.deepStrictEqual(out[2], implied("2025-04-04"))
    const expected = Trigger.manifestOf(
      plan,
      { rows: 12, tickers: ["VALE3", "PETR4"], runId: "jr_1" },
      new Date("2025-04-07T21:00:00.000Z")
    )
    assert.deepStrictEqual(out[3], expected)
    assert.isTrue(Either.isRight(Trigger.decodeManifest(new TextEncoder().encode(JSON.stringify(out[3])))))
    assert.strictEqual(Trigger.staleness(raw, "2025-04-07" as RefDate, out[3]), undefined)
    assert.isTrue(out[4])
    assert.isFalse(out[5]) // a changed previous date is stale (PreviousChanged)
    assert.strictEqual(out[6], Trigger.manifestKey("2025-04-07" as RefDate))
  })

  it("lists raw once, reads the listed keys (no folder glob), writes the manifest after data and partitions", () => {
    const main = script.slice(script.indexOf("def main():"))
    assert.strictEqual(main.match(/list_keys\(s3, bucket, raw_prefix\(args\)\)/g)?.length, 1)
    assert.notInclude(main, ".parquet(\"%sref_date=%s/\"")
    assert.include(main, ".parquet(*[\"s3://%s/%s\" % (bucket, i[\"key\"]) for i in plan[\"inputs\"]])")
    const write = main.indexOf(".partitionBy(*PARTITION_COLUMNS).parquet(refined_base)")
    const partitions = main.indexOf("glue.batch_create_partition(")
    const manifest = main.indexOf("s3.put_object(")
    assert.include(main.slice(manifest, manifest + 120), "Key=manifest_key(date)")
    assert.isAbove(partitions, write)
    assert.isAbove(manifest, partitions)
  })

  it("the stale-ticker cleanup removes only tickers absent from the new output; the etag is S3's, unquoted", () => {
    const out = JSON.parse(python(`
import json, refine_job as j
print(json.dumps([j.stale_tickers(["PETR4", "VALE3", "ITUB4"], ["PETR4", "ITUB4", "WEGE3"]),
  j.etag_of({"ETag": '"9b2cf535f27731c974343645a3985328"'}), j.etag_of({"Key": "k"})]))
`))
    assert.deepStrictEqual(out, [["VALE3"], "9b2cf535f27731c974343645a3985328", ""])
  })
})
