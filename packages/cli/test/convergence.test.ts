/**
 * The refined table converges to the raw table through the real CLI: `b3 replay` killed with
 * SIGKILL at several moments then re-run once, two replays at once, a query during a refine. Each
 * result is compared with a clean run's (the served rows, the refined files byte for byte, the
 * manifests' inputs), and no `.tmp-*`, `_staging/` or lock file may be left. The writers that are
 * killed, that race for the lock or that run during a query are child processes of the real
 * `bin/b3.js`; the commands that only look (query, status) and the re-runs run in-process.
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as WriterLock from "@b3-pipeline/local-adapter/WriterLock"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { runInProcess } from "./support/inProcess.js"
import { bin, runB3 } from "./support/runB3.js"

const root = mkdtempSync(join(tmpdir(), "b3-converge-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const CODES = ["IBOV", "SMLL", "IDIV"] as const
const DAYS = ["2025-04-25", "2025-04-28", "2025-04-29", "2025-04-30", "2025-05-02", "2025-05-05"] as const
const corpus = join(root, "corpus")

const env = { ...process.env, NO_COLOR: "1" }
const b3 = (warehouse: string, ...args: Array<string>) => runInProcess(["--warehouse", warehouse, ...args])
const b3Process = (warehouse: string, ...args: Array<string>) => runB3(root, ["--warehouse", warehouse, ...args], env)
const b3Async = (warehouse: string, ...args: Array<string>) => {
  const child = spawn(process.execPath, [bin, "--warehouse", warehouse, ...args], { cwd: root, env })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d) => (stdout += String(d)))
  child.stderr.on("data", (d) => (stderr += String(d)))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  return { child, done, stderr: () => stderr }
}

const walk = (dir: string): Array<string> =>
  existsSync(dir) ?
    readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => join(e.parentPath, e.name)) :
    []

/** What a user can observe of the refined table: served rows, refined files, manifests' inputs. */
const observe = async (warehouse: string) => {
  const rows = await b3(
    warehouse,
    "query",
    "SELECT * FROM b3_portfolio_refined ORDER BY ref_date, ticker, index_code",
    "--format",
    "csv"
  )
  assert.strictEqual(rows.code, 0, rows.stderr)
  const refinedDir = join(warehouse, "refined")
  const files = walk(refinedDir).filter((f) => f.endsWith(".parquet")).sort().map((f) =>
    `${relative(refinedDir, f)} ${createHash("sha256").update(readFileSync(f)).digest("hex")}`
  )
  const manifestDir = join(warehouse, "_manifests/b3_portfolio_refined")
  const manifests = walk(manifestDir).filter((f) => f.endsWith(".json")).sort().map((f) => {
    const m = JSON.parse(readFileSync(f, "utf8"))
    // an input's etag is this warehouse's version identity of the raw file (stat-based): every input
    // has one, and the rest must equal a clean run's
    const inputs = (m.inputs as Array<{ indexCode: string; key: string; etag?: unknown }>).map((i) => {
      if (typeof i.etag !== "string" || i.etag === "") throw new Error(`${f}: input ${i.key} without an etag`)
      return { indexCode: i.indexCode, key: i.key }
    })
    return JSON.stringify([m.refDate, inputs, m.previous, m.rows, m.tickers])
  })
  return { rows: rows.stdout, files, manifests }
}

/** Files a finished writer must not leave. */
const leftovers = (warehouse: string) =>
  walk(warehouse).filter((f) => /(^|\/)(\.tmp-[^/]*|_staging|\.b3-writer\.[a-z]+)$/.test(f))

let clean: Awaited<ReturnType<typeof observe>>
let cleanMillis = 0

beforeAll(async () => {
  mkdirSync(corpus, { recursive: true })
  for (const day of DAYS) {
    for (const code of CODES) {
      const p = generatePortfolio({ indexCode: code as IndexCode, refDate: day as RefDate, size: 12 })
      const [y, m, d] = day.split("-")
      writeFileSync(join(corpus, `${code}Dia_${d}-${m}-${y!.slice(2)}.csv`), B3Encode.encodeCsv(p))
    }
  }
  const wh = join(root, "clean")
  const started = Date.now()
  const r = await b3Process(wh, "replay", corpus) // a process: its time sets the kills' deadlines
  cleanMillis = Date.now() - started
  assert.strictEqual(r.code, 0, r.stderr + r.stdout)
  clean = await observe(wh)
  assert.strictEqual(clean.manifests.length, DAYS.length)
  assert.deepStrictEqual(leftovers(wh), [])
}, 120_000)

/** Kills `b3 replay` with SIGKILL once `when` holds (polled) or after `deadline` ms. */
const killWhen = async (warehouse: string, when: () => boolean, deadline: number) => {
  const { child, done } = b3Async(warehouse, "replay", corpus)
  const started = Date.now()
  let hit = false
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      if (child.exitCode !== null || child.signalCode !== null) {
        clearInterval(tick)
        resolve()
      } else if (when() || Date.now() - started > deadline) {
        hit = when()
        ;(child as ChildProcess).kill("SIGKILL")
        clearInterval(tick)
        resolve()
      }
    }, 1)
  })
  const result = await done
  return { killed: result.signal === "SIGKILL", hit }
}

const count = (dir: string, test: (name: string) => boolean) =>
  existsSync(dir) ? readdirSync(dir).filter(test).length : 0

describe("b3 converges after kills and concurrent writers", () => {
  it("SIGKILL during ingest, during refine and during the serving swap; one re-run equals a clean run", async () => {
    const wh = join(root, "killed")
    const rawDay = join(wh, "raw/b3_portfolio_raw")
    const manifests = join(wh, "_manifests/b3_portfolio_refined")
    const serving = join(wh, "serving/b3_portfolio_refined")
    /** Temp files of the serving copy (a base or a date file being written), in any month's folder. */
    const servingTemps = () =>
      existsSync(serving) ?
        readdirSync(serving).reduce((n, month) => n + count(join(serving, month), (f) => f.startsWith(".tmp-")), 0) :
        0
    // during ingest: some raw dates written, the refine not started
    const ingest = await killWhen(wh, () => count(rawDay, (n) => n.startsWith("ref_date=")) >= 2, cleanMillis * 3)
    assert.isTrue(ingest.killed, "the first replay was not killed")
    // during refine: some dates committed, others not
    const refine = await killWhen(wh, () => count(manifests, (n) => n.endsWith(".json")) >= 2, cleanMillis * 3)
    // during the serving swap: a temp serving file exists (a window of milliseconds: a few tries, as
    // each killed run leaves dates stale for the next one to refine again)
    let swap = { killed: false, hit: false }
    for (let k = 0; k < 4 && !swap.hit; k++) {
      swap = await killWhen(wh, () => servingTemps() > 0, cleanMillis * 3)
    }
    const status = await b3(wh, "status")
    assert.strictEqual(status.code, 0)
    if (refine.killed && refine.hit) assert.match(status.stdout, /STALE date|up to date/)
    const rerun = await b3(wh, "replay", corpus)
    assert.strictEqual(rerun.code, 0, rerun.stderr + rerun.stdout)
    assert.deepStrictEqual(await observe(wh), clean)
    assert.deepStrictEqual(leftovers(wh), [])
    assert.match((await b3(wh, "status")).stdout, /up to date with the raw table/)
    // what was hit is printed for the record (timing decides the narrow serving window)
    process.stdout.write(
      `kills: ingest ${ingest.hit}, refine ${refine.killed && refine.hit}, serving swap ${swap.killed && swap.hit}\n`
    )
  }, 180_000)

  it("two replays at once: both exit 0 (one waits for the lock) and the result equals a clean run", async () => {
    const wh = join(root, "concurrent")
    const a = b3Async(wh, "replay", corpus)
    const b = b3Async(wh, "replay", corpus)
    const [ra, rb] = await Promise.all([a.done, b.done])
    assert.strictEqual(ra.code, 0, ra.stderr)
    assert.strictEqual(rb.code, 0, rb.stderr)
    assert.match(ra.stderr + rb.stderr, /waiting for the writer lock of .* held by pid \d+/)
    assert.deepStrictEqual(await observe(wh), clean)
    assert.deepStrictEqual(leftovers(wh), [])
  }, 180_000)

  it("a second writer waits for the lock with one line; --no-wait fails with exit 1 naming the holder", async () => {
    const wh = join(root, "held")
    assert.strictEqual((await b3(wh, "ingest", "--file", join(corpus, "SMLLDia_25-04-25.csv"))).code, 0)
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(WriterLock.acquire(wh, { command: "test holder" }).pipe(Scope.extend(scope)))
    const file = join(corpus, "IBOVDia_25-04-25.csv")
    const refused = await b3Process(wh, "ingest", "--file", file, "--no-wait")
    assert.strictEqual(refused.code, 1, refused.stdout)
    assert.match(refused.stderr, new RegExp(`is being written by pid ${process.pid} on .*test holder`))
    const waiting = b3Async(wh, "ingest", "--file", file)
    const started = Date.now()
    while (!/waiting for the writer lock/.test(waiting.stderr()) && Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 300))
    assert.isNull(waiting.child.exitCode, "the second writer did not wait")
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const r = await waiting.done
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(r.stderr.split("\n").filter((l) => /waiting for the writer lock/.test(l)).length, 1)
    assert.match(r.stdout, /1 new/)
    assert.deepStrictEqual(leftovers(wh), [])
  }, 120_000)

  it("a query during a refine sees the whole table, before or after", async () => {
    const wh = join(root, "busy")
    assert.strictEqual((await b3(wh, "replay", corpus)).code, 0)
    const sql = "SELECT count(*) AS n, count(DISTINCT ref_date) AS d, sum(weight_pct) AS w FROM b3_portfolio_refined"
    const total = await b3(wh, "query", sql)
    assert.strictEqual(total.code, 0, total.stderr)
    const refine = b3Async(wh, "refine", "--all")
    const answers: Array<string> = []
    while (refine.child.exitCode === null && answers.length < 30) {
      await new Promise((r) => setTimeout(r, 1)) // lets the child's exit be seen
      const q = await b3(wh, "query", sql)
      assert.strictEqual(q.code, 0, q.stderr)
      answers.push(q.stdout)
    }
    const r = await refine.done
    assert.strictEqual(r.code, 0, r.stderr)
    assert.isAbove(answers.length, 0)
    for (const a of answers) assert.strictEqual(a, total.stdout)
    assert.deepStrictEqual(await observe(wh), clean)
    assert.deepStrictEqual(leftovers(wh), [])
  }, 180_000)
})
