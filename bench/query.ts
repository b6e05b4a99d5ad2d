/**
 * `npm run bench -- query`: the cost of the port's one SqlValue mapping (`QueryEngine.decodeRows`)
 * next to what the engines hand over.
 *
 * - `query.duckdb.read.p50`: DuckDB runs a 200k-row query shaped like `b3_portfolio_refined` (text,
 *   DECIMAL(7,3), BIGINT, DATE, INTEGER) and hands its rows as JSON (`runAndReadAll` +
 *   `getRowsJson`), what `DuckDbQueryEngine` reads: the floor;
 * - `query.decode.duckdb-json.p50`: `decodeRows` over those rows; target: at most half the floor;
 * - `query.decode.athena-text.p50`: `decodeRows` over the same values as Athena sends them (all text);
 * - `query.decode.duckdb-columns.p50`: what `DuckDbQueryEngine` does instead of JSON rows plus
 *   `decodeRows` (`DuckDbQueryEngine.decodeResult`: DuckDB's values read column by column, then the
 *   same mapping), compared with the JSON rows' read plus their decode, measured in the same run.
 */
import { decodeRows } from "@b3-pipeline/core/QueryEngine"
import { decodeResult } from "@b3-pipeline/local-adapter/DuckDbQueryEngine"
import { DuckDBInstance } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import { ratioAtMost, SMOKE } from "./check.js"
import type { BenchRow } from "./types.js"

const ROWS = SMOKE ? 2_000 : 200_000
const RUNS = SMOKE ? 2 : 11

const p50 = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1] ?? Number.NaN
}

const SQL =
  `SELECT 'PETR' || (range % 400)::VARCHAR AS ticker, CAST((range % 100000) / 1000 AS DECIMAL(7,3)) AS weight_pct,
  (range * 7919)::BIGINT AS theoretical_qty, DATE '2020-01-01' + (range % 1500)::INTEGER AS ref_date,
  (range % 120)::INTEGER AS days_since_period_start FROM range(${ROWS})`

export async function run(): Promise<Array<BenchRow>> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" })
  const connection = await instance.connect()
  try {
    const read = async () => {
      const reader = await connection.runAndReadAll(SQL)
      return { reader, rows: reader.getRowsJson() }
    }
    const { reader, rows } = await read()
    // the engine reads a materialized result (DuckDbQueryEngine's readColumns)
    const materialized = await connection.run(SQL)
    const types = reader.columnTypes().map(String)
    const columns = reader.deduplicatedColumnNames().map((name, i) => ({ name, type: types[i] ?? "" }))
    const athenaTypes = ["varchar", "decimal(7,3)", "bigint", "date", "integer"]
    const athenaColumns = columns.map((c, i) => ({ name: c.name, type: athenaTypes[i] ?? "varchar" }))
    const text = rows.map((r) => r.map((v) => (v === null ? undefined : String(v))))
    const decodeJson = () => Effect.runSync(decodeRows(columns, rows, (r, i) => r[i]))
    const decodeText = () => Effect.runSync(decodeRows(athenaColumns, text, (r, i) => r[i]))
    const decodeColumns = () => Effect.runSync(decodeResult(materialized)).rows
    if (decodeJson().length !== ROWS || decodeText().length !== ROWS) throw new Error("bench query: wrong row count")
    if (JSON.stringify(decodeColumns()) !== JSON.stringify(decodeJson())) {
      throw new Error("bench query: the column read and the JSON rows disagree")
    }
    const readMs: Array<number> = []
    const jsonMs: Array<number> = []
    const textMs: Array<number> = []
    const jsonRowsMs: Array<number> = []
    const columnsMs: Array<number> = []
    for (let k = 0; k < RUNS; k++) {
      let t = performance.now()
      await read()
      readMs.push(performance.now() - t)
      t = performance.now()
      decodeJson()
      jsonMs.push(performance.now() - t)
      t = performance.now()
      decodeText()
      textMs.push(performance.now() - t)
      t = performance.now()
      Effect.runSync(decodeRows(columns, reader.getRowsJson(), (r, i) => r[i]))
      jsonRowsMs.push(performance.now() - t)
      t = performance.now()
      decodeColumns()
      columnsMs.push(performance.now() - t)
    }
    const floor = p50(readMs)
    const json = p50(jsonMs)
    return [
      {
        name: "query.duckdb.read.p50",
        value: floor,
        unit: "ms",
        note: `${ROWS} rows x 5 columns, runAndReadAll + getRowsJson`
      },
      {
        name: "query.decode.duckdb-json.p50",
        value: json,
        unit: "ms",
        note: "decodeRows over DuckDB's JSON rows",
        check: ratioAtMost(json, floor, "DuckDB's own read (same run)", 0.5)
      },
      {
        name: "query.decode.athena-text.p50",
        value: p50(textMs),
        unit: "ms",
        note: "decodeRows over the same values as text"
      },
      {
        name: "query.decode.duckdb-json-rows.p50",
        value: p50(jsonRowsMs),
        unit: "ms",
        note: "getRowsJson + decodeRows (what DuckDbQueryEngine did)"
      },
      {
        name: "query.decode.duckdb-columns.p50",
        value: p50(columnsMs),
        unit: "ms",
        note: `DuckDbQueryEngine.decodeResult (column by column + decodeRows) vs getRowsJson + decodeRows: ${
          (p50(columnsMs) / p50(jsonRowsMs)).toFixed(2)
        }x`
      }
    ]
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}
