/**
 * The deployed artifacts, end to end on loopback: `npm run bundle`'s two files, each run in a fresh
 * `node` process as Lambda would (import, then `handler(event, context)`), against the B3
 * simulator, s3rver and the Glue fake served over Glue's JSON protocol, configured only through the
 * environment: 36 indices ingested, 36 events coalesced into one run, the reconcile finding nothing left.
 */
import * as AwsClients from "@b3-pipeline/aws-adapter/AwsClients"
import * as S3ObjectStore from "@b3-pipeline/aws-adapter/S3ObjectStore"
import { startS3rver } from "@b3-pipeline/aws-adapter/testing"
import { makeGlueFake, serveGlueFake } from "@b3-pipeline/aws-adapter/testing/GlueFake"
import * as Sim from "@b3-pipeline/b3-simulator/Simulator"
import * as Catalog from "@b3-pipeline/core/Catalog"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as RefineJob from "@b3-pipeline/core/RefineJob"
import * as Trigger from "@b3-pipeline/core/Trigger"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { runMarked } from "./support/marked.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const outdir = join(root, "dist", ".test-bundles")
const BUCKET = "b3-bundles"

/** Runs `handler(event)` of a bundle in a fresh node process; its answer as JSON. */
const invoke = (file: string, event: unknown, env: Record<string, string>) =>
  Effect.tryPromise({
    try: () =>
      runMarked<any>({
        script: `
          const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
          const answer = await handler(${JSON.stringify(event)}, { awsRequestId: "bundle-test" })
          console.log("")
          console.log("ANSWER " + JSON.stringify(answer))
        `,
        marker: "ANSWER",
        env: { PATH: process.env["PATH"] ?? "", AWS_REGION: "us-east-1", ...env }
      }),
    catch: (e) => (e instanceof Error ? e : new Error(String(e)))
  })

describe("bundled handlers", () => {
  it.live(
    "36 indices: scheduledIngest bundle writes raw and reconciles; 36 onRawObjectCreated events coalesce into one Glue run; the next run finds all archived and fresh",
    () =>
      Effect.gen(function*() {
        const { bundle } = (yield* Effect.promise(() =>
          import(pathToFileURL(join(root, "scripts", "bundle.ts")).href)
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

        // The Glue fake behind Glue's JSON protocol on loopback: one run at a time, queued; a run lists
        // raw (s3rver) when it starts and runs the TypeScript refine on exactly that.
        const store = yield* Layer.build(
          S3ObjectStore.layer({ bucket: BUCKET }).pipe(Layer.provide(AwsClients.layerS3(s3.clients)))
        )
        const objectStore = Context.get(store, ObjectStore.ObjectStore)
        const catalog = yield* Catalog.makeMemory()
        const job = yield* RefineJob.makeMemory.pipe(
          Effect.provideService(ObjectStore.ObjectStore, objectStore),
          Effect.provideService(Catalog.Catalog, catalog)
        )
        const fake = makeGlueFake({ refine: { job, store: objectStore } })
        const glueEnv = { B3_GLUE_JOB: "b3-refine", B3_GLUE_ENDPOINT: yield* serveGlueFake(fake) }

        // scheduledIngest: all 36 indices from the simulator, then its reconcile (the new day is stale).
        // The schedule fires on the simulator's day (07:30 in Sao Paulo).
        const scheduled = {
          ...JSON.parse(readFileSync(new URL("./events/scheduled.json", import.meta.url), "utf8")),
          time: `${sim.today}T10:30:00Z`
        }
        const ingest = yield* invoke(files["scheduledIngest"]!, scheduled, {
          ...s3Env,
          ...glueEnv,
          B3_BASE_URL: sim.url,
          B3_INDICES: ALL_INDEX_CODES.join(",")
        })
        assert.strictEqual(ingest.results.length, 36)
        assert.isTrue(ingest.results.every((r: any) => r.ok && r.outcome === "created"), JSON.stringify(ingest.results))
        assert.deepStrictEqual(ingest.reconcile.stale, [sim.today])
        assert.strictEqual(fake.startsByDate.get(sim.today), 1)
        const parquetKey = `raw/b3_portfolio_raw/ref_date=${sim.today}/index_code=IBOV/part-00000.parquet`
        assert.strictEqual(ingest.results.find((r: any) => r.indexCode === "IBOV").parquetKey, parquetKey)

        // The 36 raw Parquet events, each to a fresh onRawObjectCreated process: the run of the date is
        // still waiting to start, so every one of them is coalesced into it.
        const parquetEvents: Array<any> = []
        while (parquetEvents.length < 36) {
          const e: any = yield* Queue.take(s3.events)
          if (/^raw\/b3_portfolio_raw\/.*\.parquet$/.test(e.Records[0].s3.object.key)) parquetEvents.push(e)
        }
        for (const event of parquetEvents) {
          const trigger = yield* invoke(files["onRawObjectCreated"]!, event, { ...s3Env, ...glueEnv })
          assert.deepStrictEqual(trigger.started, [])
          assert.deepStrictEqual(trigger.skipped.map((x: any) => x.reason), ["already-running"])
        }
        assert.strictEqual(fake.startsByDate.get(sim.today), 1) // one run for 36 writes

        // Glue runs it: one listing of the 36 objects, the refine, the manifest last.
        yield* fake.drain
        assert.strictEqual(fake.runs[0]!.state, "SUCCEEDED")
        assert.strictEqual(fake.runs[0]!.plan!.inputs.length, 36)
        assert.strictEqual(fake.maxActive(), 1)
        const fresh = yield* Trigger.freshness.pipe(Effect.provideService(ObjectStore.ObjectStore, objectStore))
        assert.deepStrictEqual(fresh.stale, [])

        // The next scheduled run of the day: everything archived, nothing stale, nothing started.
        const again = yield* invoke(files["scheduledIngest"]!, scheduled, {
          ...s3Env,
          ...glueEnv,
          B3_BASE_URL: sim.url,
          B3_INDICES: ALL_INDEX_CODES.join(",")
        })
        assert.isTrue(again.results.every((r: any) => r.outcome === "archived"))
        assert.deepStrictEqual(again.reconcile, { stale: [], started: [] })
        assert.strictEqual(fake.runs.length, 1)
      }).pipe(Effect.scoped),
    { timeout: 300_000 }
  )
})
