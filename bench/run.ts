/**
 * `npm run bench`: runs every benchmark module and prints one table of figures and ratios.
 * Figures are medians measured in this run; machines are shared and noisy, so read the ratios.
 *
 * `npm run bench -- codecs parquet` runs only the named modules. A figure with a target also prints
 * what it is compared with (a bound, or a baseline or floor measured in this run), the ratio and
 * whether the target is met; a closing table lists the targets alone. `BENCH_SMOKE=1` runs every
 * module at a tiny size (CI's smoke test: it checks that the benches run, not their figures).
 */
import type { BenchRow } from "./types.js"

const modules: ReadonlyArray<readonly [string, () => Promise<{ run: () => Promise<ReadonlyArray<BenchRow>> }>]> = [
  ["codecs", () => import("./codecs.js")],
  ["parquet", () => import("./parquet.js")],
  ["fetch", () => import("./fetch.js")],
  ["local", () => import("./local.js")],
  ["query", () => import("./query.js")],
  ["lambda", () => import("./lambda.js")],
  ["cli", () => import("./cli.js")]
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

const ratio = (r: BenchRow): string => r.check === undefined ? "" : `${r.check.ratio.toFixed(2)}x`
const against = (r: BenchRow): string =>
  r.check === undefined ? "" : r.check.against === "bound" ? "" : `${format(r.check.reference)} ${r.unit}`
const verdict = (r: BenchRow): string =>
  r.check === undefined ?
    "" :
    `${r.check.goal}${r.check.against === "bound" ? "" : ` vs ${r.check.against}`}: ${
      r.check.referenceOnly !== undefined ?
        `${r.check.met ? "met" : "not met"} here, for reference only (${r.check.referenceOnly})` :
        r.check.met ?
        "met" :
        "NOT MET"
    }`

const table = (rows: ReadonlyArray<readonly [string, BenchRow]>, withNotes: boolean) => {
  const head = ["bench", "figure", "value", "unit", "compared with", "ratio", withNotes ? "target / note" : "target"]
  const cells = rows.map(([g, r]) => [
    g,
    r.name,
    format(r.value),
    r.unit,
    against(r),
    ratio(r),
    [verdict(r), withNotes ? r.note ?? "" : ""].filter((x) => x !== "").join("; ")
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)))
  const right = new Set([2, 4, 5])
  const line = (c: ReadonlyArray<string>) =>
    c.map((x, i) => i === c.length - 1 ? x : right.has(i) ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0)).join(
      "  "
    )
      .trimEnd()
  return [line(head), "-".repeat(widths.reduce((a, b) => a + b + 2, 0)), ...cells.map(line)].join("\n") + "\n"
}

process.stdout.write(table(all, true))
const targets = all.filter(([, r]) => r.check !== undefined && r.check.referenceOnly === undefined)
const referenceOnly = all.filter(([, r]) => r.check?.referenceOnly !== undefined)
if (targets.length > 0) {
  const met = targets.filter(([, r]) => r.check?.met === true).length
  process.stdout.write(`\ntargets: ${met} of ${targets.length} met\n`)
  process.stdout.write(table(targets, false))
}
if (referenceOnly.length > 0) {
  const met = referenceOnly.filter(([, r]) => r.check?.met === true).length
  process.stdout.write(
    `\nchecked for reference only (targets defined for another size): ${met} of ${referenceOnly.length} met here\n`
  )
  process.stdout.write(table(referenceOnly, false))
}
