/**
 * `b3 --help`, `b3 --version` and `b3 <command> --help` answered from the help snapshot of the
 * bundle (`QuickAnswer`): a bundle built into a temporary folder by `scripts/build-cli.mjs` must hold
 * exactly what the sources print, escapes included, and print it byte for byte as the program does;
 * command lines outside the snapshot still run the program.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll } from "vitest"
import { generate } from "../src/HelpSnapshot.js"
import type { Snapshot } from "../src/QuickAnswer.js"
import { answer, key, snapshotOf } from "../src/QuickAnswer.js"
import { buildBundle, repo, runFile } from "./support/bundle.js"
import { runInProcess } from "./support/inProcess.js"

const outdir = mkdtempSync(join(tmpdir(), "b3-quick-"))
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" }
  delete e["B3_WAREHOUSE"]
  return e
}

/** The built bundle, as a child process whose stdout and stderr are pipes. */
const bundle = (args: ReadonlyArray<string>) => runFile(join(outdir, "b3.mjs"), args, env())

/** The sources, in this process. */
const source = (args: ReadonlyArray<string>) => runInProcess(args, { NO_COLOR: "1", B3_WAREHOUSE: undefined })

let snapshot: Snapshot
beforeAll(async () => {
  const built = await buildBundle(outdir)
  assert.strictEqual(built.code, 0, built.stderr)
  snapshot = JSON.parse(readFileSync(join(outdir, "b3.help.json"), "utf8"))
}, 120_000)

describe("the help snapshot", () => {
  it("holds what the sources print for each command line, escapes included", async () => {
    assert.deepStrictEqual(snapshot, await generate())
    const lines = Object.keys(snapshot.answers)
    for (
      const args of [[], ["--help"], ["-h"], ["--version"], ["query", "--help"], ["run", "-h"], ["report", "--help"]]
    ) {
      assert.include(lines, key(args))
    }
    // the root help, and a help for each of the 8 commands, with -h and --help
    assert.strictEqual(lines.length, 4 + 8 * 2)
    assert.match(snapshot.answers[key(["--help"])]!.prints[0]!.args[0]!, /\x1b\[/)
  })

  it("is printed by the bundle as the program prints it", async () => {
    for (const line of Object.keys(snapshot.answers)) {
      const args = JSON.parse(line) as Array<string>
      const [fromBundle, fromSource] = await Promise.all([bundle(args), source(args)])
      assert.deepStrictEqual(fromBundle, fromSource, `b3 ${args.join(" ")}`)
      assert.notMatch(fromBundle.stdout, /\x1b/)
    }
  })

  it("b3 --version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(repo, "packages", "cli", "package.json"), "utf8"))
    const r = await bundle(["--version"])
    assert.strictEqual(r.code, 0)
    assert.strictEqual(r.stdout.trim(), version)
  })

  it("leaves every other command line to the program", async () => {
    for (
      const args of [["--help", "query"], ["query"], ["nope", "--help"], ["--warehouse", outdir, "status", "--help"]]
    ) {
      const [fromBundle, fromSource] = await Promise.all([bundle(args), source(args)])
      assert.deepStrictEqual(fromBundle, fromSource, `b3 ${args.join(" ")}`)
    }
    assert.strictEqual((await bundle(["query"])).code, 2)
  })

  it("answers nothing without a snapshot, and only the bundle has one", () => {
    assert.isFalse(answer(pathToFileURL(join(outdir, "missing.json")), ["--help"]))
    assert.isFalse(answer(pathToFileURL(join(outdir, "b3.help.json")), ["status"]))
    assert.isUndefined(snapshotOf(pathToFileURL(join(outdir, "bin.js")).href))
    assert.strictEqual(
      snapshotOf(pathToFileURL(join(outdir, "b3.mjs")).href)?.href,
      pathToFileURL(join(outdir, "b3.help.json")).href
    )
  })
})
