/**
 * The deployed `onRawObjectCreated` bundle with its source maps beside it, run as Lambda runs it: a
 * fresh `node` process without `--enable-source-maps` imports it and handles one event (its Glue
 * client pointed at the aws-adapter's Glue fake on loopback). Every file read of the process is watched (a preload
 * module wraps `node:fs`):
 * - a successful first event reads no `.map` file;
 * - a failing one (StartJobRun throttled past the adapter's retries) throws the handler's own error,
 *   message intact, whose stack names the TypeScript line that built it; the entry's map is read
 *   then, once.
 */
import { StartJobRunCommand } from "@aws-sdk/client-glue"
import { makeGlueFake, serveGlueFake } from "@b3-pipeline/aws-adapter/testing/GlueFake"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, beforeAll } from "vitest"
import { runMarked } from "./support/marked.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const outdir = join(root, "dist", ".test-maps")
const scratch = mkdtempSync(join(tmpdir(), "b3-maps-"))
const preload = join(scratch, "watch-reads.mjs")

// Records the path of every `.map` file the process opens or reads, whichever fs entry point it uses.
const PRELOAD = `
import fs from "node:fs"
import { syncBuiltinESMExports } from "node:module"
globalThis.__mapReads = []
const watch = (target, name) => {
  const original = target[name]
  target[name] = function (file, ...rest) {
    if (/\\.map$/.test(String(file))) globalThis.__mapReads.push(String(file))
    return original.call(this, file, ...rest)
  }
}
for (const name of ["readFileSync", "readFile", "openSync", "open", "createReadStream"]) watch(fs, name)
for (const name of ["readFile", "open"]) watch(fs.promises, name)
syncBuiltinESMExports()
`

/**
 * Runs `use` with the Glue fake served on loopback (no runs yet: StartJobRun answers a run id), or,
 * with `throttle`, one that refuses every StartJobRun with a ThrottlingException.
 */
const withGlue = <A>(throttle: boolean, use: (endpoint: string) => Promise<A>): Promise<A> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const fake = makeGlueFake()
    if (throttle) {
      fake.mock.on(StartJobRunCommand).rejects(
        Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" })
      )
    }
    const endpoint = yield* serveGlueFake(fake)
    return yield* Effect.promise(() => use(endpoint))
  })))

interface Outcome {
  readonly ok: boolean
  readonly answer?: { readonly started: ReadonlyArray<unknown> }
  readonly tag?: string
  readonly message?: string
  readonly stack?: string
  readonly mapReads: ReadonlyArray<string>
}

/** Imports the bundle in a fresh process and handles one event: the answer or the thrown error. */
const invoke = (file: string, event: unknown, glueEndpoint: string): Promise<Outcome> => {
  const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
      let outcome
      try {
        outcome = { ok: true, answer: await handler(${JSON.stringify(event)}, { awsRequestId: "maps-test" }) }
      } catch (e) {
        outcome = { ok: false, tag: e._tag, message: e.message, stack: e.stack }
      }
      console.log("")
      console.log("OUTCOME " + JSON.stringify({ ...outcome, mapReads: globalThis.__mapReads }))
    `
  return runMarked<Outcome>({
    script,
    marker: "OUTCOME",
    nodeArgs: ["--import", pathToFileURL(preload).href],
    env: {
      PATH: process.env["PATH"] ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      B3_GLUE_ENDPOINT: glueEndpoint,
      B3_GLUE_JOB: "b3-refine",
      B3_BUCKET: "b3-maps"
    }
  })
}

const s3Event = JSON.parse(readFileSync(new URL("./events/s3-put.json", import.meta.url), "utf8")) as {
  Records: Array<unknown>
}
const event = { Records: [s3Event.Records[0]] }
let entry = ""

beforeAll(async () => {
  writeFileSync(preload, PRELOAD)
  const { bundle } = (await import(pathToFileURL(join(root, "scripts", "bundle.ts")).href)) as {
    bundle: (o: object) => Promise<Array<{ handler: string; file: string }>>
  }
  const [built] = await bundle({ outdir, handlers: ["onRawObjectCreated"] })
  if (built === undefined) throw new Error("no bundle")
  entry = built.file
}, 120_000)

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true })
  rmSync(scratch, { recursive: true, force: true })
})

describe("onRawObjectCreated bundle and its source maps", () => {
  it("every .mjs of the asset has its map beside it, with positions but not the sources' text", () => {
    const dir = join(outdir, "onRawObjectCreated")
    const files = readdirSync(dir)
    const scripts = files.filter((f) => f.endsWith(".mjs"))
    assert.include(scripts, "index.mjs")
    for (const script of scripts) {
      assert.include(files, `${script}.map`)
      assert.include(readFileSync(join(dir, script), "utf8"), `//# sourceMappingURL=${script}.map`)
      const map = JSON.parse(readFileSync(join(dir, `${script}.map`), "utf8"))
      assert.isUndefined(map.sourcesContent, script)
    }
    const map = JSON.parse(readFileSync(join(dir, "index.mjs.map"), "utf8"))
    assert.include(map.sources, "../../../src/onRawObjectCreated.ts")
    assert.isAbove(map.mappings.length, 0)
  })

  it("a successful first event reads no source map", async () => {
    const outcome = await withGlue(false, (endpoint) => invoke(entry, event, endpoint))
    assert.isTrue(outcome.ok, JSON.stringify(outcome))
    assert.strictEqual(outcome.answer?.started.length, 1)
    assert.deepStrictEqual(outcome.mapReads, [])
  })

  it(
    "a thrown error keeps its message and its logged stack names src/onRawObjectCreated.ts; the map is read then, once",
    async () => {
      const outcome = await withGlue(true, (endpoint) => invoke(entry, event, endpoint))
      assert.isFalse(outcome.ok)
      assert.strictEqual(outcome.tag, "RetryableRefineFailure")
      assert.match(outcome.message ?? "", /^refine could not be started for raw\/.*\(request maps-test\)/)
      const stack = outcome.stack ?? ""
      assert.isTrue(stack.startsWith(`RetryableRefineFailure: ${outcome.message}`), stack)
      // the line of the source that builds the error
      const source = readFileSync(join(root, "src", "onRawObjectCreated.ts"), "utf8").split("\n")
      const built = source.findIndex((l) => l.includes("new RetryableRefineFailure(")) + 1
      assert.isAbove(built, 0)
      const frame = /src\/onRawObjectCreated\.ts:(\d+):\d+ \[file:\/\/\S*\/index\.mjs:\d+:\d+\]/.exec(stack)
      assert.isNotNull(frame, stack)
      const line = Number(frame?.[1])
      assert.isTrue(line >= built - 1 && line <= built + 5, `line ${line}, built at ${built}:\n${stack}`)
      const entryMap = join(outdir, "onRawObjectCreated", "index.mjs.map")
      assert.isTrue(existsSync(entryMap))
      assert.strictEqual(outcome.mapReads.filter((f) => f === entryMap).length, 1, outcome.mapReads.join(", "))
    },
    60_000
  )
})
