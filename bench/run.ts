/**
 * `npm run bench`: runs every benchmark module and prints one table of figures and ratios.
 * Figures are medians measured in this run; machines are shared and noisy, so read the ratios.
 *
 * `npm run bench -- codecs parquet` runs only the named modules.
 */
import type { BenchRow } from "./types.js"

const modules: ReadonlyArray<readonly [string, () => Promise<{ run: () => Promise<ReadonlyArray<BenchRow>> }>]> = [
  ["codecs", () => import("./codecs.js")],
  ["parquet", () => import("./parquet.js")],
  ["fetch", () => import("./fetch.js")],
  ["local", () => import("./local.js")],
  ["lambda", () => import("./lambda.js")]
]

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"))
const format = (v: number): string =>
  Math.abs(v) >= 1000 ?
    Math.round(v).toLocaleString("en-US") :
    Math.abs(v) >= 10 ?
    v.toFixed(1) :
    v.toFixed(3)

const all: Array<readonly [string, BenchRow]> = []
for (const [name, load] of modules) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  process.stderr.write(`bench: ${name}...\n`)
  const started = Date.now()
  try {
    const rows = await (await load()).run()
    for (const row of rows) all.push([name, row])
    process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  } catch (e) {
    process.stderr.write(`bench: ${name} FAILED: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
    process.exitCode = 1
  }
}

const w = {
  group: Math.max(5, ...all.map(([g]) => g.length)),
  name: Math.max(4, ...all.map(([, r]) => r.name.length)),
  value: Math.max(5, ...all.map(([, r]) => format(r.value).length)),
  unit: Math.max(4, ...all.map(([, r]) => r.unit.length))
}
const line = (g: string, n: string, v: string, u: string, note: string) =>
  `${g.padEnd(w.group)}  ${n.padEnd(w.name)}  ${v.padStart(w.value)}  ${u.padEnd(w.unit)}  ${note}`.trimEnd()
process.stdout.write(line("bench", "figure", "value", "unit", "note") + "\n")
process.stdout.write("-".repeat(w.group + w.name + w.value + w.unit + 16) + "\n")
for (const [g, r] of all) process.stdout.write(line(g, r.name, format(r.value), r.unit, r.note ?? "") + "\n")
