/**
 * The quick path of `b3 query` (`QuickQuery.plan` + `QueryMain`) answers exactly as the full program:
 * a bundle built into a temporary folder runs each command line twice, through its entry (`b3.mjs`,
 * which takes the quick path) and through the chunk of `Run.ts` (the command tree, as every other
 * command line runs), and both must print the same stdout and stderr and end with the same exit code:
 * results in each format, the warehouse refusals, an unreadable `--file`, SQL errors, DuckDB failing
 * to load, and the lines the quick path leaves to the program. A loader hook records which chunks
 * the entry loads: the quick path's never hold @effect/cli, nor does anything its chunk can import.
 */
import { assert, describe, it } from "@effect/vitest"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, beforeAll } from "vitest"
import { plan } from "../src/QuickQuery.js"
import type { Metafile } from "./support/bundle.js"
import { buildBundle, inputsReached, metafile, outputOf, repo, runFile } from "./support/bundle.js"
import { runInProcess } from "./support/inProcess.js"
import type { Ran } from "./support/runB3.js"

const root = mkdtempSync(join(tmpdir(), "b3-quick-query-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const outdir = join(root, "bundle")
const wh = join(root, "warehouse")
const sample = fileURLToPath(new URL("../../../fixtures/b3/IBOVDia_03-10-25.csv", import.meta.url))
const validation = join(repo, "glue", "sql", "validation")

// The bundle's copy lives outside the repository: DuckDB's native bindings (a CommonJS package it
// requires) are found through NODE_PATH, and not found without it.
const env = (extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", NODE_PATH: join(repo, "node_modules") }
  delete e["B3_WAREHOUSE"]
  delete e["B3_HEAP_BUDGET"]
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k]
    else e[k] = v
  }
  return e
}

let meta: Metafile
let program: string
beforeAll(async () => {
  const built = await buildBundle(outdir)
  assert.strictEqual(built.code, 0, built.stderr)
  meta = metafile(outdir)
  program = outputOf(meta, "packages/cli/src/Run.ts")
  // loads each module through a resolve hook that appends its URL to $B3_TEST_LOADED
  writeFileSync(
    join(outdir, "record-hook.mjs"),
    "import { appendFileSync } from \"node:fs\"\n" +
      "export const resolve = async (specifier, context, next) => {\n" +
      "  const r = await next(specifier, context)\n" +
      "  if (process.env.B3_TEST_LOADED) appendFileSync(process.env.B3_TEST_LOADED, r.url + \"\\n\")\n" +
      "  return r\n" +
      "}\n"
  )
  writeFileSync(
    join(outdir, "record.mjs"),
    "import { register } from \"node:module\"\nregister(new URL(\"./record-hook.mjs\", import.meta.url))\n"
  )
  const ingest = await runInProcess(["--warehouse", wh, "ingest", "--file", sample])
  assert.strictEqual(ingest.code, 0, ingest.stderr)
  mkdirSync(join(root, "not-a-warehouse", "stuff"), { recursive: true })
}, 180_000)

interface Line {
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
}

/** The line through the bundle's entry (quick path when it takes it) and through the full program. */
const both = async (line: Line): Promise<{ readonly quick: Ran; readonly full: Ran }> => {
  const e = env(line.env)
  const options = { cwd: line.cwd ?? root }
  const [quick, full] = await Promise.all([
    runFile(join(outdir, "b3.mjs"), line.args, e, options),
    runFile(program, line.args, e, options)
  ])
  return { quick, full }
}

const same = async (line: Line, code: number): Promise<Ran> => {
  const { full, quick } = await both(line)
  const label = `b3 ${line.args.join(" ")}`
  assert.deepStrictEqual(quick, full, label)
  assert.strictEqual(quick.code, code, `${label}: ${quick.stderr}`)
  return quick
}

/** The chunks of the bundle that the entry loaded for `args`. */
const loaded = async (args: ReadonlyArray<string>, code: number): Promise<Array<string>> => {
  const log = join(root, `loaded-${Math.random().toString(36).slice(2)}.txt`)
  const r = await runFile(join(outdir, "b3.mjs"), args, env({ B3_TEST_LOADED: log }), {
    nodeArgs: ["--import", pathToFileURL(join(outdir, "record.mjs")).href]
  })
  assert.strictEqual(r.code, code, r.stderr)
  return readFileSync(log, "utf8").split("\n").filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u))
}

const inputsOf = (files: ReadonlyArray<string>): Array<string> => [
  ...inputsReached(meta, files, { dynamic: false })
]

describe("QuickQuery.plan", () => {
  const file = join(validation, "top10_ibov_latest.sql")

  it("takes a plain b3 query on the local target", () => {
    assert.deepStrictEqual(plan(["query", "SELECT 1"]), {
      sql: "SELECT 1",
      file: undefined,
      format: "table",
      warehouse: undefined
    })
    assert.deepStrictEqual(plan(["--warehouse", "A", "query", "--format=csv", "SELECT 1", "--target", "local"]), {
      sql: "SELECT 1",
      file: undefined,
      format: "csv",
      warehouse: "A"
    })
    // the subcommand's --warehouse wins over the root's, as in Globals.resolve
    assert.deepStrictEqual(plan(["--warehouse=A", "--target=local", "query", "--warehouse", "B", "--file", file]), {
      sql: undefined,
      file,
      format: "table",
      warehouse: "B"
    })
  })

  it("leaves every other line to the program", () => {
    for (
      const args of [
        [],
        ["query"],
        ["status"],
        ["query", "SELECT 1", "SELECT 2"],
        ["query", "SELECT 1", "--file", file],
        ["query", "--file", join(root, "missing.sql")],
        ["query", "--file", root],
        ["query", "--help"],
        ["query", "-h", "SELECT 1"],
        ["--help", "query", "SELECT 1"],
        ["query", "--format", "JSON", "SELECT 1"],
        ["query", "--FORMAT", "json", "SELECT 1"],
        ["query", "--format", "json", "--format", "csv", "SELECT 1"],
        ["--warehouse", "A", "--warehouse", "B", "query", "SELECT 1"],
        ["--target", "aws", "query", "SELECT 1"],
        ["query", "--target=aws", "SELECT 1"],
        ["query", "--target", "gcp", "SELECT 1"],
        ["query", "--warehouse", "", "SELECT 1"],
        ["query", "--warehouse"],
        ["query", "--", "SELECT 1"],
        ["query", "-1"],
        ["--format", "json", "query", "SELECT 1"],
        ["--file", file, "query"],
        ["query", "--completions", "bash"],
        ["query", "--log-level", "debug", "SELECT 1"],
        ["nope", "query", "SELECT 1"]
      ]
    ) {
      assert.isUndefined(plan(args), `b3 ${args.join(" ")}`)
    }
  })
})

describe("b3 query: quick path and full program answer alike", () => {
  it("results in each format, the warehouse from --warehouse (either side), $B3_WAREHOUSE or ./warehouse", async () => {
    const json = await same({
      args: ["--warehouse", wh, "query", "--format", "json", "SELECT count(*) AS n FROM b3_portfolio_refined"]
    }, 0)
    assert.deepStrictEqual(JSON.parse(json.stdout), [{ n: 82 }])
    await same({
      args: [
        "query",
        "SELECT ticker, weight_pct, theoretical_qty, ref_date, sector FROM b3_portfolio_refined ORDER BY ticker LIMIT 7",
        "--warehouse=" + wh
      ]
    }, 0)
    const csv = await same({
      args: [
        "--warehouse",
        join(root, "elsewhere"),
        "query",
        "--warehouse",
        wh,
        "--format=csv",
        "--target",
        "local",
        "SELECT weight_pct, theoretical_qty FROM b3_portfolio_refined WHERE ticker = 'ALOS3'"
      ]
    }, 0)
    assert.strictEqual(csv.stdout, "weight_pct,theoretical_qty\r\n0.544,466632333\r\n")
    await same({ args: ["query", "SELECT 1 AS one, NULL AS nothing, 'a|b' AS text"], env: { B3_WAREHOUSE: wh } }, 0)
    await same({ args: ["query", "SELECT count(*) AS n FROM b3_portfolio_raw"], cwd: root }, 0)
    await same({ args: ["--warehouse", wh, "query", "SELECT * FROM b3_portfolio_refined WHERE false"] }, 0)
    await same({
      args: ["--warehouse", wh, "query", "SELECT 2 AS x"],
      env: { B3_HEAP_BUDGET: "report" }
    }, 0)
  })

  it("the validation queries, with --file, in each format", async () => {
    for (const name of ["row_counts_per_date", "sector_totals_latest", "ticker_history_petr4", "top10_ibov_latest"]) {
      for (const format of ["table", "json", "csv"]) {
        await same({
          args: ["--warehouse", wh, "query", "--file", join(validation, `${name}.sql`), "--format", format]
        }, 0)
      }
    }
  })

  it("a missing or mistyped warehouse folder (exit 2)", async () => {
    const missing = await same({ args: ["--warehouse", join(root, "nope"), "query", "SELECT 1"] }, 2)
    assert.match(missing.stderr, /no such warehouse folder/)
    const foreign = await same({ args: ["query", "--warehouse", join(root, "not-a-warehouse"), "SELECT 1"] }, 2)
    assert.match(foreign.stderr, /is not a warehouse/)
    // no flag, no $B3_WAREHOUSE: ./warehouse of a folder without one
    await same({ args: ["query", "SELECT 1"], cwd: join(root, "not-a-warehouse") }, 2)
  })

  it("an --file that cannot be read (SqlFileError, exit 1)", async () => {
    // a regular file that cannot be read: root reads any file mode, but not /proc/self/mem at offset 0
    let unreadable = "/proc/self/mem"
    if (process.getuid?.() !== 0) {
      unreadable = join(root, "secret.sql")
      writeFileSync(unreadable, "SELECT 1")
      chmodSync(unreadable, 0)
    }
    const r = await same({ args: ["--warehouse", wh, "query", "--file", unreadable] }, 1)
    assert.match(r.stderr, /cannot read the SQL file/)
  })

  it("SQL errors: syntax, no such table, not allowed, empty text (exit 1)", async () => {
    const cases: ReadonlyArray<readonly [string, RegExp]> = [
      ["SELEC 1", /query failed \(Syntax\)/],
      ["SELECT * FROM no_such_table", /query failed \(NoSuchTable\)/],
      ["SELECT nope FROM b3_portfolio_refined", /query failed \(Syntax\)/],
      ["CREATE TABLE t AS SELECT 1", /query failed \(NotAllowed\)/],
      ["SELECT 1; COPY (SELECT 1) TO 'x.csv'", /query failed \(NotAllowed\)/],
      ["SELECT * FROM read_csv('/etc/passwd')", /query failed/],
      ["", /query failed/]
    ]
    for (const [sql, reason] of cases) {
      const r = await same({ args: ["--warehouse", wh, "query", sql] }, 1)
      assert.match(r.stderr, reason, sql)
    }
  })

  it("DuckDB that cannot load (its bindings not found: exit 1)", async () => {
    const r = await same({ args: ["--warehouse", wh, "query", "SELECT 1"], env: { NODE_PATH: undefined } }, 1)
    assert.match(r.stderr, /@duckdb\/node-bindings/)
  })

  it("lines the quick path leaves to the program", async () => {
    const q = join(validation, "top10_ibov_latest.sql")
    await same({ args: ["--warehouse", wh, "query"] }, 2)
    await same({ args: ["--warehouse", wh, "query", "SELECT 1", "--file", q] }, 2)
    await same({ args: ["--warehouse", wh, "query", "--file", join(root, "missing.sql")] }, 2)
    await same({ args: ["--warehouse", wh, "query", "--format", "xml", "SELECT 1"] }, 2)
    await same({ args: ["--warehouse", wh, "query", "--format", "json", "--format", "csv", "SELECT 1"] }, 2)
  })
})

describe("the quick path's modules", () => {
  it("hold no @effect/cli, nor does anything the quick path's chunk can import", () => {
    // the entry's static imports (bin.ts imports Run.ts and QueryMain.ts on demand), then the quick path's
    const quick = new Set([
      ...inputsReached(meta, [join(outdir, "b3.mjs")], { dynamic: false }),
      ...inputsReached(meta, [outputOf(meta, "packages/cli/src/QueryMain.ts")], { dynamic: true })
    ])
    assert.include([...quick], "packages/cli/src/QueryMain.ts")
    assert.include([...quick], "packages/local-adapter/src/DuckDbQueryEngine.ts")
    for (const input of quick) {
      assert.notMatch(input, /@effect\/cli|@effect\/printer|packages\/cli\/src\/(Cli|Main|Run)\.ts/)
    }
  })

  it("are what a quick line loads; any other line loads the program", async () => {
    const quick = await loaded(["--warehouse", wh, "query", "SELECT 1"], 0)
    const inputs = inputsOf(quick)
    assert.include(inputs, "packages/cli/src/QueryMain.ts")
    assert.include(inputs, "packages/local-adapter/src/DuckDbQueryEngine.ts")
    assert.notInclude(quick, resolve(program))
    for (const input of inputs) assert.notMatch(input, /@effect\/cli|NodeContext/)
    const full = await loaded(["--warehouse", wh, "query"], 2)
    assert.include(full, resolve(program))
    assert.isTrue(inputsOf(full).some((i) => /@effect\/cli/.test(i)))
  })
})
