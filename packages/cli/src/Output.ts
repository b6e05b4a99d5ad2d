/**
 * Rendering query results and summaries for people (table), programs (json) and spreadsheets (csv).
 * Exact values stay exact: DECIMAL and BIGINT columns are written from their digits, never through a
 * float.
 *
 * @since 0.1.0
 */
import type { SqlValue } from "@b3-pipeline/core/QueryEngine"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Stdio from "./Stdio.js"

/** @category models */
export type Format = "table" | "json" | "csv"

/** @category models */
export interface Column {
  readonly name: string
  readonly type: string
}

const isNumericType = (type: string): boolean =>
  /^(decimal|numeric|bigint|integer|int|smallint|tinyint|hugeint|double|float|real|ubigint|uinteger)/i.test(type)

const text = (v: SqlValue): string =>
  v === null ? "NULL" : typeof v === "string" ? v : typeof v === "boolean" ? (v ? "true" : "false") : String(v)

/** A JSON literal for a value; numeric columns carried as text (DECIMAL) are emitted as bare numbers. */
const jsonValue = (v: SqlValue, type: string): string => {
  if (v === null) return "null"
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : JSON.stringify(String(v))
  if (typeof v === "boolean") return v ? "true" : "false"
  if (isNumericType(type) && /^-?\d+(\.\d+)?$/.test(v)) return v
  return JSON.stringify(v)
}

/** A JSON array of row objects, one per line, nothing else. @category rendering */
export const renderJson = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>) => {
  if (rows.length === 0) return "[]\n"
  // each key's JSON text once, not once per row
  const keys = columns.map((c, i) => (i === 0 ? "" : ", ") + JSON.stringify(c.name) + ": ")
  const lines = rows.map((row) => {
    let line = "  {"
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i] as Column
      line += keys[i] + jsonValue(row[c.name] ?? null, c.type)
    }
    return line + "}"
  })
  return "[\n" + lines.join(",\n") + "\n]\n"
}

const csvCell = (v: SqlValue): string => {
  if (v === null) return ""
  const s = text(v)
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, "\"\"")}"` : s
}

/** RFC 4180 CSV with a header line. @category rendering */
export const renderCsv = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>) =>
  [
    columns.map((c) => csvCell(c.name)).join(","),
    ...rows.map((r) => columns.map((c) => csvCell(r[c.name] ?? null)).join(","))
  ]
    .join("\r\n") + "\r\n"

/** An aligned text table; numbers right-aligned. @category rendering */
export const renderTable = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>
) => {
  // column by column, with plain loops: a year's `row_counts_per_date` is 9,000 rows
  const texts = columns.map((c) => {
    const out = new Array<string>(rows.length)
    for (let r = 0; r < rows.length; r++) out[r] = text(rows[r]?.[c.name] ?? null)
    return out
  })
  const widths = columns.map((c, i) => {
    let width = c.name.length
    for (const t of texts[i] ?? []) if (t.length > width) width = t.length
    return width
  })
  const numeric = columns.map((c) => isNumericType(c.type))
  const line = (value: (i: number) => string) => {
    let s = ""
    for (let i = 0; i < columns.length; i++) {
      const v = value(i)
      const w = widths[i] ?? 0
      s += (i === 0 ? "" : " | ") + (numeric[i] === true ? v.padStart(w) : v.padEnd(w))
    }
    return s.trimEnd()
  }
  const out = [line((i) => columns[i]?.name ?? ""), widths.map((w) => "-".repeat(w)).join("-+-")]
  for (let r = 0; r < rows.length; r++) out.push(line((i) => texts[i]?.[r] ?? ""))
  out.push(`(${rows.length} row${rows.length === 1 ? "" : "s"})`)
  return out.join("\n") + "\n"
}

/** @category rendering */
export const render = (
  format: Format,
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>
): string =>
  format === "json"
    ? renderJson(columns, rows)
    : format === "csv"
    ? renderCsv(columns, rows)
    : renderTable(columns, rows)

/** Terminal escape: cursor one line up, to column 0. */
const LINE_UP = "\u001b[1A\r"

/** A progress display: `update` after each item, `done` at the end. @category progress */
export interface Progress {
  readonly update: (done: number, detail?: string) => void
  readonly done: () => void
}

/**
 * Makes progress displays on stderr, bound to the calling fiber's `Console` and `Clock` (their
 * `update` is called from plain callbacks): redrawn in place on a terminal (each line moves the
 * cursor back up over the previous one), one line per ~10% otherwise (logs).
 *
 * @category progress
 */
export const progressMaker = (
  stream: { readonly isTTY?: boolean; readonly columns?: number } = process.stderr
): Effect.Effect<(label: string, total: number) => Progress> =>
  Effect.map(Effect.runtime<never>(), (runtime) => (label, total) => {
    const run = Runtime.runSync(runtime)
    const started = run(Clock.currentTimeMillis)
    const tty = stream.isTTY === true
    const columns = stream.columns ?? 100
    let lastDecile = -1
    let drawn = false
    // on a terminal: back over the line drawn before
    const redraw = (line: string) => {
      run(Stdio.err(drawn ? LINE_UP + line : line))
      drawn = true
    }
    return {
      update: (done, detail = "") => {
        const pct = total === 0 ? 100 : Math.floor((done / total) * 100)
        if (tty) {
          const width = 24
          const filled = Math.round((pct / 100) * width)
          const bar = "#".repeat(filled) + ".".repeat(width - filled)
          redraw(
            `${label} [${bar}] ${done}/${total} ${pct}% ${detail}`.slice(0, columns - 1).padEnd(
              Math.min(100, columns - 1)
            )
          )
        } else {
          const decile = Math.floor(pct / 10)
          if (decile !== lastDecile || done === total) {
            lastDecile = decile
            run(Stdio.err(`${label}: ${done}/${total} (${pct}%) ${detail}`))
          }
        }
      },
      done: () => {
        if (tty) {
          const seconds = (run(Clock.currentTimeMillis) - started) / 1000
          redraw(`${label}: done in ${seconds.toFixed(1)} s`.padEnd(80))
        }
      }
    }
  })
