import { DuckDBInstance } from "@duckdb/node-api"
import fs from "node:fs"
const db = await DuckDBInstance.create(":memory:", { threads: "1" })
const c = await db.connect()
const run = async (s) => { const t = performance.now(); const r = await c.runAndReadAll(s); console.log(((performance.now()-t)|0)+"ms", s.slice(0,60).replace(/\s+/g," ")); return r }
for (const s of fs.readFileSync("glue/sql/duckdb-compat.sql","utf8").split("\n").map(l=>l.replace(/--.*$/,"")).join("\n").split(";").map(s=>s.trim()).filter(Boolean)) await run(s)
await run(`SET memory_limit='${process.env.ML ?? "256MB"}'`)
const refine = fs.readFileSync("glue/sql/refine.sql","utf8").split("\n").map(l=>l.replace(/--.*$/,"")).join("\n").trim().replace(/;\s*$/,"")
await run(`CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM read_parquet('/tmp/pb/r1/raw/b3_portfolio_raw/ref_date=2024-01-*/*/*.parquet', hive_partitioning=true, hive_types={'ref_date': DATE, 'index_code': VARCHAR})`)
await run(`CREATE OR REPLACE TEMP TABLE raw_dates AS SELECT DISTINCT index_code, ref_date FROM raw`)
await run(`CREATE OR REPLACE TEMP TABLE refined AS ${refine}`)
console.log((await run(`SELECT count(*) FROM refined`)).getRowsJS())
console.log((await run(`SELECT * FROM duckdb_memory()`)).getRowsJS().filter(r=>r[1]>0n))
fs.rmSync("/tmp/pb/stage",{recursive:true,force:true}); fs.mkdirSync("/tmp/pb/stage")
if (process.env.MOF) await run(`SET partitioned_write_max_open_files=${process.env.MOF}`)
const dates = (await run(`SELECT DISTINCT CAST(ref_date AS VARCHAR) FROM refined ORDER BY 1`)).getRowsJS().map(r=>r[0])
const t0=performance.now()
for (const d of dates) await run(`COPY (SELECT * EXCLUDE(index_code, ref_date), index_code FROM refined WHERE ref_date = DATE '${d}' ORDER BY ticker, index_code) TO '/tmp/pb/stage/ref_date=${d}' (FORMAT parquet, PARTITION_BY (ticker), OVERWRITE_OR_IGNORE, COMPRESSION uncompressed)`)
console.log("copy total", performance.now()-t0, "rss", process.memoryUsage.rss()/1e6)
