/**
 * The edges a new user hits first: global options before or after the subcommand, help text without
 * escapes or filler, reading commands on a folder that is not a warehouse, `b3 run` following
 * `B3_BASE_URL`. Commands run in-process (`Main.main` with a capturing `Console`); the help and
 * parse-error texts run as child processes of the real `bin/b3.js`, whose output is a pipe (what
 * "no escapes unless a terminal" is about). Data comes from the simulator on 127.0.0.1 only.
 */
import { startServer } from "@b3-pipeline/b3-simulator/Simulator"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { assert, describe, it } from "@effect/vitest"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { cleanHelp, useColour } from "../src/Help.js"
import { runInProcess } from "./support/inProcess.js"
import { bin, runB3 } from "./support/runB3.js"

const root = mkdtempSync(join(tmpdir(), "b3-edges-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["B3_WAREHOUSE"]
  delete env["B3_BASE_URL"]
  delete env["NO_COLOR"]
  return env
}

/** In this process, without the user's B3_WAREHOUSE, B3_BASE_URL and NO_COLOR (plus `env`). */
const b3 = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Result> =>
  runInProcess(args, { B3_WAREHOUSE: undefined, B3_BASE_URL: undefined, NO_COLOR: undefined, ...env })

/** As a child process (a pipe for stdout and stderr). */
const b3Process = (args: ReadonlyArray<string>): Promise<Result> => runB3(root, args, baseEnv())

const wh = join(root, "wh")
const count = "SELECT count(*) AS n FROM b3_portfolio_raw"

beforeAll(async () => {
  const r = await b3(["run", "--warehouse", wh, "--index", "IBOV", "--source", "simulated"])
  assert.strictEqual(r.code, 0, r.stderr)
  assert.match(r.stderr, /new warehouse at .*wh/)
}, 120_000)

describe("global options", () => {
  it("--warehouse and --target work before and after the subcommand, for every command shape", async () => {
    const before = await b3(["--warehouse", wh, "query", count, "--format", "json"])
    const after = await b3(["query", "--warehouse", wh, count, "--format", "json"])
    const last = await b3(["query", count, "--format", "json", "--warehouse", wh, "--target", "local"])
    for (const r of [before, after, last]) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.isAbove(JSON.parse(r.stdout)[0].n, 0)
    }
    const status = await b3(["status", "--target", "local", "--warehouse", wh])
    assert.strictEqual(status.code, 0, status.stderr)
    assert.match(status.stdout, /IBOV/)
    const report = await b3(["report", "--warehouse", wh, "--out", join(root, "r.html")])
    assert.strictEqual(report.code, 0, report.stderr)
    const refine = await b3(["refine", "--warehouse", wh, "--date", "2025-10-03"])
    assert.strictEqual(refine.code, 0, refine.stderr)
    assert.match(refine.stdout, /2025-10-03: SUCCEEDED/)
    // an argument after the option (replay DIR) and a subcommand option after it (run --index)
    const dir = join(root, "empty-dir")
    mkdirSync(dir, { recursive: true })
    const replay = await b3(["replay", "--warehouse", wh, dir])
    assert.strictEqual(replay.code, 2)
    assert.match(replay.stderr, /no \.csv\/\.json\/\.txt payloads found/)
    const run = await b3(["run", "--warehouse", wh, "--index", "IB/OV"])
    assert.strictEqual(run.code, 2)
    assert.match(run.stderr, /invalid index code/)
  })

  it("the subcommand's --warehouse wins over the root's", async () => {
    const r = await b3(["--warehouse", join(root, "nowhere"), "query", "--warehouse", wh, count])
    assert.strictEqual(r.code, 0, r.stderr)
  })

  it("every subcommand's --help lists the global options, a description for each option, and no escapes", async () => {
    const commands = ["run", "ingest", "replay", "refine", "query", "status", "report", "forget"]
    const helps = await Promise.all(commands.map((cmd) => b3Process([cmd, "--help"])))
    for (const [k, cmd] of commands.entries()) {
      {
        const r = helps[k]!
        assert.strictEqual(r.code, 0, `${cmd}: ${r.stderr}`)
        assert.include(r.stdout, "--warehouse DIR", cmd)
        assert.include(r.stdout, "--target local | aws", cmd)
        assert.notMatch(r.stdout, /\x1b/, `${cmd}: escape codes in piped help`)
        assert.notInclude(r.stdout, "A user-defined piece of text", cmd)
        assert.notMatch(r.stdout, /^\s*An existing file\.$/m, cmd)
        // each option heading (at column 0) is followed by its own description (indented)
        const lines = r.stdout.split(/^OPTIONS$/m)[1]!.split("\n").filter((l) => l.trim() !== "")
        const headings = lines.flatMap((l, i) => /^(--|\(-)/.test(l) ? [i] : [])
        assert.isAbove(headings.length, 2, cmd)
        headings.forEach((h, k) => {
          const body = lines.slice(h + 1, headings[k + 1] ?? lines.length)
            .filter((l) => !/^\s*(This setting is optional\.|This option may be repeated.*)$/.test(l))
          assert.isAbove(body.length, 0, `${cmd}: ${lines[h]} has no description`)
        })
      }
    }
  })

  it("replay --concurrency: the default in its help (4), and below 1 a usage error", async () => {
    const help = await b3Process(["replay", "--help"])
    assert.strictEqual(help.code, 0, help.stderr)
    assert.match(help.stdout, /--concurrency integer\n\n\s+Payloads ingested at once \(default 4[:)]/)
    const dir = join(root, "replay-concurrency")
    mkdirSync(dir, { recursive: true })
    for (const n of ["0", "-2"]) {
      const r = await b3(["replay", "--warehouse", wh, dir, "--concurrency", n])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, `--concurrency must be at least 1 (got ${n})`)
    }
  })

  it("the root --help lists the global options and the subcommands without escapes", async () => {
    const r = await b3Process(["--help"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.include(r.stdout, "--warehouse DIR")
    assert.match(r.stdout, /forget|query/)
    assert.notMatch(r.stdout, /\x1b/)
  })

  it("escapes only on a terminal without NO_COLOR; the generic type lines go", () => {
    const saved = process.env["NO_COLOR"]
    try {
      delete process.env["NO_COLOR"]
      assert.isTrue(useColour({ isTTY: true }))
      assert.isFalse(useColour({ isTTY: false }))
      assert.isFalse(useColour({}))
      process.env["NO_COLOR"] = "1"
      assert.isFalse(useColour({ isTTY: true }))
    } finally {
      if (saved === undefined) delete process.env["NO_COLOR"]
      else process.env["NO_COLOR"] = saved
    }
    const help = "\x1b[1m--index\x1b[0m\n\n  A user-defined piece of text.\n\n  Index code\n"
    assert.strictEqual(cleanHelp(help, false), "--index\n\n  Index code\n")
    assert.strictEqual(cleanHelp(help, true), "\x1b[1m--index\x1b[0m\n\n  Index code\n")
  })

  it("parse errors on stderr carry no escapes either", async () => {
    const r = await b3Process(["query", "--format", "xml", "SELECT 1"])
    assert.strictEqual(r.code, 2)
    assert.notMatch(r.stderr, /\x1b/)
    assert.match(r.stderr, /table, json, csv/)
  })
})

describe("b3 status", () => {
  it("names a run record it cannot read (not JSON, or not a run's shape) and goes on", async () => {
    const dir = join(wh, "runs", "2000-01-01")
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, "run-a.json"), "{ not json")
    writeFileSync(join(dir, "run-b.json"), JSON.stringify({ command: "run", startedAt: "2000-01-01T00:00:00Z" }))
    try {
      const r = await b3(["status", "--warehouse", wh])
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stdout, "runs/2000-01-01/run-a.json: unreadable run record")
      assert.include(r.stdout, "runs/2000-01-01/run-b.json: unreadable run record")
      assert.match(r.stdout, /^ {2}\S+ {2}run {5}1 ok, 0 failed, \d+ refine\(s\)$/m) // the real run still shows
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("a folder that is not a warehouse", () => {
  it("reading commands fail with exit 2 naming the folder, and create nothing", async () => {
    const missing = join(root, "typo-warehouse")
    const empty = join(root, "empty-folder")
    mkdirSync(empty, { recursive: true })
    const cases: Array<[string, ReadonlyArray<string>]> = [
      [missing, ["query", "SELECT count(*) FROM b3_portfolio_refined"]],
      [empty, ["status"]],
      [missing, ["report", "--out", join(root, "x.html")]],
      [empty, ["refine"]]
    ]
    for (const [dir, args] of cases) {
      const r = await b3(["--warehouse", dir, ...args])
      assert.strictEqual(r.code, 2, `${args[0]} on ${dir}: ${r.stdout}`)
      assert.include(r.stderr, dir)
      assert.match(r.stderr, /no such warehouse folder|is not a warehouse/)
      assert.strictEqual(r.stdout, "")
    }
    assert.isFalse(existsSync(missing))
    assert.deepStrictEqual(readdirSync(empty), [])
    // $B3_WAREHOUSE is checked the same way
    const env = await b3(["status"], { B3_WAREHOUSE: missing })
    assert.strictEqual(env.code, 2)
    assert.include(env.stderr, missing)
  })

  it("a writing command creates a new warehouse and says so; it will not write into an unrelated folder", async () => {
    const fresh = join(root, "fresh")
    const r = await b3(["ingest", "--warehouse", fresh, "--file", bin]) // not a payload: fails, but the warehouse exists
    assert.strictEqual(r.code, 1)
    assert.include(r.stderr, `new warehouse at ${fresh}`)
    assert.isTrue(existsSync(join(fresh, "runs"))) // the failed run is recorded
    const status = await b3(["status", "--warehouse", fresh])
    assert.strictEqual(status.code, 0, status.stderr)
    const unrelated = join(root, "documents")
    mkdirSync(unrelated, { recursive: true })
    writeFileSync(join(unrelated, "notes.txt"), "mine")
    const refused = await b3(["ingest", "--warehouse", unrelated, "--file", bin])
    assert.strictEqual(refused.code, 2)
    assert.match(refused.stderr, /is not empty and is not a warehouse/)
    assert.deepStrictEqual(readdirSync(unrelated), ["notes.txt"])
  })
})

describe("b3 report", () => {
  it("headings follow --locale: Portuguese by default, English with en-US", async () => {
    const [pt, en] = await Promise.all([
      b3(["report", "--warehouse", wh, "--out", join(root, "pt.html")]),
      b3(["report", "--warehouse", wh, "--out", join(root, "en.html"), "--locale", "en-US"])
    ])
    assert.strictEqual(pt.code, 0, pt.stderr)
    assert.strictEqual(en.code, 0, en.stderr)
    const h2 = (file: string) =>
      [...readFileSync(join(root, file), "utf8").matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1])
    assert.deepStrictEqual(h2("pt.html"), [
      "Maiores participações",
      "Participação por setor",
      "Participação ao longo do tempo",
      "Entradas e saídas"
    ])
    assert.deepStrictEqual(h2("en.html"), [
      "Top weights",
      "Weight by sector",
      "Weight over time",
      "Entering and leaving"
    ])
  })
})

describe("b3 status and b3 forget", () => {
  // IBOV on Thu 2025-04-17, Tue 22 and Thu 24: Good Friday, a weekend and Tiradentes (Mon 21) closed
  // B3 in between, so the only trading day missing is Wed 23
  const gaps = join(root, "gaps")
  beforeAll(async () => {
    for (const date of ["2025-04-17", "2025-04-22", "2025-04-24"]) {
      const r = await b3(["run", "--warehouse", gaps, "--index", "IBOV", "--source", "simulated", "--date", date])
      assert.strictEqual(r.code, 0, r.stderr)
    }
  }, 180_000)

  it("status shows per index the B3 trading days missing between its first and last date", async () => {
    const r = await b3(["status", "--warehouse", gaps])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /trading days missing between each index's first and last date \(B3 calendar\)/)
    assert.match(r.stdout, /^ {2}IBOV {3}1: 2025-04-23$/m)
  })

  it("forget removes one (index, date) from raw and refined, keeps its payload, logs it and re-refines the next date", async () => {
    const sql = "SELECT ref_date, count(*) AS n, max(days_since_previous_snapshot) AS gap FROM b3_portfolio_refined " +
      "WHERE index_code = 'IBOV' GROUP BY ref_date ORDER BY ref_date"
    const q = async () => {
      const r = await b3(["query", "--warehouse", gaps, sql, "--format", "json"])
      assert.strictEqual(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as Array<{ ref_date: string; n: number; gap: number | null }>
    }
    const before = await q()
    assert.deepStrictEqual(before.map((r) => [r.ref_date, r.gap]), [
      ["2025-04-17", null],
      ["2025-04-22", 5],
      ["2025-04-24", 2]
    ])
    const archive = join(gaps, "raw/b3_portfolio_payloads/ref_date=2025-04-22/index_code=IBOV")
    const payloadFiles = () =>
      readdirSync(archive, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) =>
        [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name)).toString("base64")] as const
      )
    const payloadsBefore = payloadFiles()
    assert.isAbove(payloadsBefore.length, 0)

    const r = await b3(["forget", "--warehouse", gaps, "--index", "ibov", "--date", "2025-04-22"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      /forgot IBOV 2025-04-22: removed raw\/b3_portfolio_raw\/ref_date=2025-04-22\/index_code=IBOV\//
    )
    assert.match(r.stdout, /1 payload\(s\) kept/)
    assert.match(r.stdout, /refine: .*2025-04-22.*2025-04-24/)

    // raw and refined no longer hold it; the next date now counts from 2025-04-17 (7 days)
    assert.isFalse(
      existsSync(join(gaps, "raw/b3_portfolio_raw/ref_date=2025-04-22/index_code=IBOV/part-00000.parquet"))
    )
    assert.deepStrictEqual((await q()).map((x) => [x.ref_date, x.n, x.gap]), [
      [before[0]!.ref_date, before[0]!.n, null],
      [before[2]!.ref_date, before[2]!.n, 7]
    ])
    const raw = await b3([
      "query",
      "--warehouse",
      gaps,
      "SELECT count(*) AS n FROM b3_portfolio_raw WHERE ref_date = DATE '2025-04-22'",
      "--format",
      "json"
    ])
    assert.deepStrictEqual(JSON.parse(raw.stdout), [{ n: 0 }])
    // the payload bytes are untouched
    assert.deepStrictEqual(payloadFiles(), payloadsBefore)
    // the run log has it, and status shows it
    const status = await b3(["status", "--warehouse", gaps])
    assert.match(status.stdout, /forget {2}1 ok, 0 failed/)
    assert.match(status.stdout, /forgot IBOV 2025-04-22/)
    // forgetting what is not there is a usage error that changes nothing
    const again = await b3(["forget", "--warehouse", gaps, "--index", "IBOV", "--date", "2025-04-22"])
    assert.strictEqual(again.code, 2)
    assert.match(again.stderr, /nothing to forget: the raw table holds no IBOV on 2025-04-22/)
  })
})

describe("b3 query is read-only and confined to the warehouse", () => {
  it("COPY ... TO, read_csv('/etc/passwd') and ATTACH fail with a clear error and change nothing", async () => {
    const snapshot = () =>
      readdirSync(wh, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) =>
        join(e.parentPath, e.name)
      ).sort()
    const before = snapshot()
    const target = join(wh, "_catalog", "b3_portfolio_raw", "table.json")
    const cases: Array<[string, RegExp]> = [
      [`COPY (SELECT 1 AS a) TO '${target}'`, /COPY|disabled by configuration/],
      [`COPY (SELECT 1 AS a) TO '${join(wh, "raw/b3_portfolio_raw/x.parquet")}'`, /statement 1 is a COPY/],
      ["SELECT * FROM read_csv('/etc/passwd')", /\/etc\/passwd.*disabled by configuration/],
      [`ATTACH '${join(wh, "raw/b3_portfolio_raw/db.duckdb")}' AS x`, /statement 1 is a ATTACH/]
    ]
    const results = await Promise.all(cases.map(([sql]) => b3(["query", "--warehouse", wh, sql])))
    for (const [k, [sql, pattern]] of cases.entries()) {
      const r = results[k]!
      assert.strictEqual(r.code, 1, `${sql}: ${r.stdout}`)
      assert.match(r.stderr, /query failed \(NotAllowed\)/, sql)
      assert.match(r.stderr, pattern, sql)
      assert.strictEqual(r.stdout, "")
    }
    assert.deepStrictEqual(snapshot(), before)
  })
})

describe("B3_BASE_URL", () => {
  it("b3 run fetches from the server B3_BASE_URL names", async () => {
    const sim = await startServer({ today: "2025-06-02" as RefDate })
    try {
      const dir = join(root, "mirror")
      const r = await b3(["run", "--warehouse", dir, "--index", "SMLL"], {
        B3_BASE_URL: sim.url,
        B3_POLITE_DELAY: "0 millis"
      })
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stderr, `B3 API at ${sim.url}`)
      assert.match(r.stdout, /SMLL\s+2025-06-02\s+\d+\s+created/)
      assert.isAbove(sim.stats.byMethod["GetPortfolioDay"] ?? 0, 0)
    } finally {
      await sim.close()
    }
  })

  it("is documented in b3 run --help", async () => {
    const r = await b3(["run", "--help"])
    assert.include(r.stdout, "B3_BASE_URL")
  })
})
