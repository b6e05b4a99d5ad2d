/**
 * CLI start-up benchmark: how soon `b3` answers, measured as users see it (spawn of
 * `packages/cli/bin/b3.js` to exit, median of RUNS processes). Builds the bundle first, so the
 * entry runs the esbuild bundle and not the TypeScript sources.
 *
 * - `b3 --version`, `b3 --help`, `b3 query --help`: target < 150 ms (answered from the help
 *   snapshot, dist/b3.help.json); `node -e 0` alone is printed as the floor;
 * - `b3 query "SELECT 1"` on an empty warehouse (DuckDB loaded, no data);
 * - what the entry loads: the static import closure of dist/b3.mjs (from esbuild's metafile), and
 *   that of the program every other command line loads (src/Run.ts) before its command's handler,
 *   must hold none of DuckDB, parquet-wasm, the AWS SDK, the HTTP client or the report renderer;
 *   nor must `b3 query`'s, which runs without the program (src/QueryMain.ts: DuckDB, but not Arrow,
 *   the Parquet writer or @effect/cli).
 *
 * `bench/local.ts` uses `timeCli` for `b3 query` and `b3 run` on the warehouse it builds.
 * `BENCH_NODE=/path/to/node` takes every CLI figure (here and in `bench/local.ts`) with that Node; on
 * Node 22.1+ the warm-up run fills the compile cache that `bin/b3.js` enables, as a user's first run does.
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/cli.ts`.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { below, SMOKE } from "./check.js"
import { median, round } from "./stats.js"
import type { BenchRow } from "./types.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = path.join(root, "packages", "cli", "bin", "b3.js")
const dist = path.join(root, "packages", "cli", "dist")
const RUNS = SMOKE ? 2 : 11

/**
 * The Node that runs every `b3` process the bench times: `BENCH_NODE` (a path to another `node`, e.g.
 * Node 22, whose module compile cache `bin/b3.js` turns on), else the bench's own.
 */
export const benchNode = process.env["BENCH_NODE"] !== undefined && process.env["BENCH_NODE"] !== "" ?
  process.env["BENCH_NODE"] :
  process.execPath

/** `benchNode`'s version, as the notes print it. */
export const benchNodeVersion: string = (() => {
  const r = spawnSync(benchNode, ["--version"], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`bench: BENCH_NODE=${benchNode} does not run: ${r.stderr || r.error}`)
  return r.stdout.trim()
})()

/** Builds the CLI bundle (dist/b3.mjs + chunks), as `npm ci` does. */
export const buildCli = (): void => {
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "build-cli.mjs")], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`build-cli failed: ${r.stderr}`)
}

/**
 * CPU ms (user + system) of this process's reaped children, from /proc/self/stat (Linux; clock ticks
 * of 10 ms). Wall time on a shared machine mostly measures the other jobs; CPU time much less so.
 */
const childrenCpuMs = (): number => {
  try {
    const fields = fs.readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ")
    return (Number(fields[13]) + Number(fields[14])) * 10 // cutime, cstime (fields 16, 17)
  } catch {
    return NaN
  }
}

export interface CliTime {
  readonly wallMs: number
  readonly cpuMs: number
}

/**
 * The environment of a `b3` process the bench measures: no NODE_OPTIONS, and the bundle only (a
 * source edited during the bench would make the entry fall back to the sources through tsx, seconds
 * rather than milliseconds: `B3_CLI_REQUIRE_BUNDLE` makes it fail instead of printing that figure).
 */
export const cliEnv = (): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = { ...process.env }
  delete env["B3_CLI_FROM_SOURCE"]
  delete env["NODE_OPTIONS"]
  env["B3_CLI_REQUIRE_BUNDLE"] = "1"
  return env
}

/** One `b3 ...args` process: wall ms from spawn to exit and its CPU ms; fails on a non-zero exit. */
export const timeCliOnce = (args: ReadonlyArray<string>, command: ReadonlyArray<string> = [bin]): Promise<CliTime> =>
  new Promise((ok, fail) => {
    const env = cliEnv()
    const cpu0 = childrenCpuMs()
    const t0 = performance.now()
    const child = spawn(benchNode, [...command, ...args], { env, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("exit", (code) => {
      const wallMs = performance.now() - t0
      if (code !== 0) fail(new Error(`b3 ${args.join(" ")} exited ${code}: ${err.slice(-1000)}`))
      else ok({ wallMs, cpuMs: childrenCpuMs() - cpu0 })
    })
  })

/** Medians of `runs` processes of `b3 ...args`, after one warm-up (file cache). */
export const timeCli = async (
  args: ReadonlyArray<string>,
  runs = RUNS,
  command?: ReadonlyArray<string>
): Promise<CliTime> => {
  await timeCliOnce(args, command)
  const times: Array<CliTime> = []
  for (let i = 0; i < runs; i++) times.push(await timeCliOnce(args, command))
  return { wallMs: round(median(times.map((t) => t.wallMs))), cpuMs: round(median(times.map((t) => t.cpuMs))) }
}

/** The note of a CLI figure: CPU time and the machine's load while it was measured. */
export const cliNote = (t: CliTime, what: string, runs: number = RUNS): string =>
  `${what}; CPU ${t.cpuMs} ms; median of ${runs}; Node ${benchNodeVersion}; load average ${
    (os.loadavg()[0] ?? NaN).toFixed(1)
  }`

/**
 * Inputs of the static import closure of the entry (the modules `b3 --version` evaluates) and of the
 * chunks of `sources` (e.g. `src/Run.ts`: what every command line outside the help snapshot evaluates).
 */
const closure = (sources: ReadonlyArray<string>): { files: Array<string>; inputs: Array<string> } => {
  const meta = JSON.parse(fs.readFileSync(path.join(dist, "meta.json"), "utf8")) as {
    outputs: Record<
      string,
      {
        imports: Array<{ path: string; kind: string; external?: boolean }>
        inputs: object
        entryPoint?: string
      }
    >
  }
  const key = (f: string) => Object.keys(meta.outputs).find((k) => path.resolve(root, k) === path.resolve(f))
  const seen = new Set<string>()
  const inputs = new Set<string>()
  const visit = (k: string | undefined) => {
    if (k === undefined || seen.has(k)) return
    seen.add(k)
    const out = meta.outputs[k]
    if (out === undefined) throw new Error(`the bundle's metafile has no output ${k}`)
    for (const i of Object.keys(out.inputs)) inputs.add(i)
    for (const imp of out.imports) {
      if (imp.kind !== "import-statement") continue
      if (imp.external === true) inputs.add(imp.path)
      else visit(key(path.resolve(root, imp.path)))
    }
  }
  visit(key(path.join(dist, "b3.mjs")))
  for (const source of sources) {
    const chunk = Object.keys(meta.outputs).find((k) => meta.outputs[k]?.entryPoint === source)
    if (chunk === undefined) throw new Error(`the bundle's metafile has no chunk of ${source}`)
    visit(chunk)
  }
  return { files: [...seen], inputs: [...inputs] }
}

const HEAVY = [/@duckdb/, /parquet-wasm/, /@aws-sdk/, /apache-arrow/, /undici/, /cli\/src\/report\//, /b3-simulator/]
// `b3 query` (local target, the quick path) loads DuckDB, and nothing of the ingest (Arrow, the Parquet
// writer) nor the command tree (@effect/cli)
const QUERY_HEAVY = [...HEAVY.filter((h) => !h.test("@duckdb")), /hyparquet-writer/, /@effect\/cli/]

const LOADS = [
  { name: "entry: heavy packages loaded by --version, --help", sources: [], heavy: HEAVY },
  {
    name: "program: heavy packages loaded before a command's handler",
    sources: ["packages/cli/src/Run.ts"],
    heavy: HEAVY
  },
  {
    name: "b3 query: packages loaded that it does not use",
    sources: [
      "packages/cli/src/QueryMain.ts",
      "packages/cli/src/LocalQuery.ts",
      "packages/cli/src/commands/queryResult.ts"
    ],
    heavy: QUERY_HEAVY
  }
]

export async function run(): Promise<Array<BenchRow>> {
  buildCli()
  const loads = LOADS.map((load) => {
    const c = closure(load.sources)
    return {
      name: load.name,
      files: c.files.length,
      heavy: c.inputs.filter((i) => load.heavy.some((h) => h.test(i))),
      bytes: c.files.reduce((n, f) => n + fs.statSync(path.resolve(root, f)).size, 0)
    }
  })
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "b3-bench-cli-"))
  fs.mkdirSync(path.join(empty, "raw")) // an empty warehouse (a folder without any is refused)
  try {
    const node = await timeCli([], RUNS, ["-e", "0"])
    const version = await timeCli(["--version"])
    const help = await timeCli(["--help"])
    const queryHelp = await timeCli(["query", "--help"])
    const select1 = await timeCli(["--warehouse", empty, "query", "SELECT 1"])
    return [
      { name: "node -e 0 (floor)", value: node.wallMs, unit: "ms", note: cliNote(node, "Node's own start") },
      {
        name: "b3 --version",
        value: version.wallMs,
        unit: "ms",
        note: cliNote(version, "spawn of bin/b3.js to exit"),
        check: below(version.wallMs, 150, "ms")
      },
      {
        name: "b3 --help",
        value: help.wallMs,
        unit: "ms",
        note: cliNote(help, "spawn to exit"),
        check: below(help.wallMs, 150, "ms")
      },
      {
        name: "b3 query --help",
        value: queryHelp.wallMs,
        unit: "ms",
        note: cliNote(queryHelp, "spawn to exit"),
        check: below(queryHelp.wallMs, 150, "ms")
      },
      {
        name: "b3 query \"SELECT 1\" (empty warehouse)",
        value: select1.wallMs,
        unit: "ms",
        note: cliNote(select1, "DuckDB loaded, no data")
      },
      ...loads.map((l) => ({
        name: l.name,
        value: l.heavy.length,
        unit: "modules",
        note: `${l.files} files, ${Math.round(l.bytes / 1024)} KiB evaluated at start${
          l.heavy.length > 0 ? `; ${l.heavy.slice(0, 3).join(", ")}` : ""
        }`,
        check: below(l.heavy.length, 1, "modules")
      }))
    ]
  } finally {
    fs.rmSync(empty, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const r of await run()) console.log(`${r.name}: ${r.value} ${r.unit}${r.note ? ` (${r.note})` : ""}`)
}
