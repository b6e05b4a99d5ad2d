/**
 * The deployed artifacts, end to end on loopback: `npm run bundle`'s two files, each run in a fresh
 * `node` process as Lambda would (import, then `handler(event, context)`), against the B3
 * simulator, s3rver and a Glue JSON-protocol stub, configured only through the environment.
 */
import { startS3rver } from "@b3-pipeline/aws-adapter/testing"
import * as Sim from "@b3-pipeline/b3-simulator/Simulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import { spawn } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const outdir = join(root, "dist", ".test-bundles")
const BUCKET = "b3-bundles"

/** Runs `handler(event)` of a bundle in a fresh node process; its answer as JSON. */
const invoke = (file: string, event: unknown, env: Record<string, string>) =>
  Effect.async<any, Error>((resume) => {
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
      const answer = await handler(${JSON.stringify(event)}, { awsRequestId: "bundle-test" })
      console.log("")
      console.log("ANSWER " + JSON.stringify(answer))
    `
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: process.env["PATH"] ?? "", AWS_REGION: "us-east-1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("ANSWER "))
      if (code !== 0 || line === undefined) resume(Effect.fail(new Error(`exit ${code}: ${err.slice(-1500)}`)))
      else resume(Effect.succeed(JSON.parse(line.slice(7))))
    })
  })

describe("bundled handlers", () => {
  it.live(
    "scheduledIngest bundle writes raw to S3 from B3; onRawObjectCreated bundle starts the Glue run",
    () =>
      Effect.gen(function*() {
        const { bundle } = (yield* Effect.promise(() =>
          import(pathToFileURL(join(root, "scripts", "bundle.mjs")).href)
        )) as {
          bundle: (o: object) => Promise<Array<{ handler: string; file: string }>>
        }
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(outdir, { recursive: true, force: true })))
        const files = Object.fromEntries(
          (yield* Effect.promise(() => bundle({ outdir, sourcemap: false }))).map((b) => [b.handler, b.file])
        )
        const sim = yield* Sim.start({})
        const s3 = yield* startS3rver([BUCKET])
        const s3Env = {
          B3_BUCKET: BUCKET,
          B3_S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER"
        }

        const scheduled = JSON.parse(readFileSync(new URL("./events/scheduled.json", import.meta.url), "utf8"))
        const ingest = yield* invoke(files["scheduledIngest"]!, scheduled, {
          ...s3Env,
          B3_BASE_URL: sim.url,
          B3_INDICES: "IBOV,SMLL"
        })
        assert.deepStrictEqual(ingest.results.map((r: any) => [r.indexCode, r.ok, r.outcome]), [
          ["IBOV", true, "created"],
          ["SMLL", true, "created"]
        ])
        const parquetKey = `raw/b3_portfolio_raw/ref_date=${sim.today}/index_code=IBOV/part-00000.parquet`
        assert.strictEqual(ingest.results[0].parquetKey, parquetKey)

        const events: Array<any> = []
        while (!events.some((e) => e.Records[0].s3.object.key === parquetKey)) events.push(yield* Queue.take(s3.events))
        const parquetEvent = events.find((e) => e.Records[0].s3.object.key === parquetKey)

        // A Glue stub that remembers the runs it started.
        const started: Array<Record<string, string>> = []
        const glue = createServer((req, res) => {
          let body = ""
          req.on("data", (d) => (body += d))
          req.on("end", () => {
            const target = String(req.headers["x-amz-target"])
            res.setHeader("content-type", "application/x-amz-json-1.1")
            if (target.endsWith(".StartJobRun")) {
              started.push(JSON.parse(body).Arguments)
              return res.end(JSON.stringify({ JobRunId: `jr_${started.length}` }))
            }
            res.end(JSON.stringify({ JobRuns: [] }))
          })
        })
        yield* Effect.acquireRelease(
          Effect.promise(() => new Promise<void>((ok) => glue.listen(0, "127.0.0.1", ok))),
          () => Effect.sync(() => glue.close())
        )
        const trigger = yield* invoke(files["onRawObjectCreated"]!, parquetEvent, {
          ...s3Env,
          B3_GLUE_JOB: "b3-refine",
          B3_GLUE_ENDPOINT: `http://127.0.0.1:${(glue.address() as AddressInfo).port}`
        })
        assert.deepStrictEqual(trigger.started, [{ key: parquetKey, runId: "jr_1", refDate: sim.today }])
        assert.strictEqual(started[0]!["--source_key"], parquetKey)
        assert.strictEqual(started[0]!["--bucket"], BUCKET)
      }).pipe(Effect.scoped),
    { timeout: 120_000 }
  )
})
