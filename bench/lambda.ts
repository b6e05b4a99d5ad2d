/**
 * Lambda benchmark: the deployed bundles (code-split, SDK bundled: `npm run bundle`) against the
 * alternatives (one file; the SDK left to the runtime; `--enable-source-maps`), and the cold start
 * of each handler: a fresh `node` process imports the bundle and handles one event, configured only
 * through the environment:
 * - `onRawObjectCreated`: one real S3 ObjectCreated:Put record, its Glue client pointed at a stub on
 *   127.0.0.1 (GetJobRuns -> none, StartJobRun -> a run id);
 * - `scheduledIngest`: one index (IBOV) fetched from the B3 simulator and written to an S3 stub
 *   (HeadObject -> 404, PutObject -> 200) on 127.0.0.1.
 *
 * "import + first event" = from the start of the import to the handler's answer (target < 100 ms for
 * onRawObjectCreated); "cold start" adds Node's own boot (process start, performance.timeOrigin).
 * CPU is the process's user + system time from the import to the answer: on a shared machine it moves
 * much less than wall time (an idle machine's wall time is close to it). Medians of RUNS processes
 * per variant. The source maps ship beside the bundle, as deployed (positions only, no sources'
 * text), in every variant: the deployed configuration runs without a flag and reads them only when
 * an error leaves a handler (src/internal/stack.ts); the `--enable-source-maps` variants show what
 * the flag would cost. "first error's stack mapped" is that deferred cost: the first `mapStack` of
 * a stack naming the bundle (map read + parse + lookup), in this process.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/lambda.ts`.
 */
import * as Sim from "@b3-pipeline/b3-simulator/Simulator"
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { below, SMOKE } from "./check.js"
import { benchNode, benchNodeVersion } from "./cli.js"
import { median, round } from "./stats.js"
import type { BenchRow } from "./types.js"

const RUNS = SMOKE ? 1 : 15
const here = dirname(fileURLToPath(import.meta.url))
const lambdaRoot = resolve(here, "..", "packages", "lambda-entry")

interface BundleResult {
  readonly handler: string
  readonly file: string
  readonly bytes: number
}
type BundleFn = (options: {
  sdk: "bundled" | "external"
  outdir: string
  minify?: boolean
  splitting?: boolean
}) => Promise<Array<BundleResult>>

interface ColdRun {
  readonly importMs: number
  readonly handleMs: number
  readonly totalMs: number
  readonly cpuMs: number
  readonly wallMs: number
}

/** A Glue JSON-protocol stub: enough of GetJobRuns/StartJobRun for the trigger. */
const startGlueStub = async () => {
  let starts = 0
  const server = createServer((req, res) => {
    const target = String(req.headers["x-amz-target"] ?? "")
    req.resume()
    req.on("end", () => {
      res.setHeader("content-type", "application/x-amz-json-1.1")
      if (target.endsWith(".GetJobRuns")) return res.end(JSON.stringify({ JobRuns: [] }))
      if (target.endsWith(".StartJobRun")) return res.end(JSON.stringify({ JobRunId: `jr_bench_${++starts}` }))
      res.statusCode = 400
      res.end(JSON.stringify({ __type: "InvalidInputException", message: `unexpected ${target}` }))
    })
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  return { server, port: (server.address() as AddressInfo).port, starts: () => starts }
}

/** An S3 REST stub (path style): every object is absent until put; puts are accepted and counted. */
const startS3Stub = async () => {
  let puts = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      if (req.method === "PUT") {
        puts++
        res.setHeader("etag", "\"00000000000000000000000000000000\"")
        return res.end()
      }
      res.statusCode = 404
      res.setHeader("content-type", "application/xml")
      res.end(
        req.method === "HEAD" ? undefined : "<Error><Code>NoSuchKey</Code><Message>absent</Message></Error>"
      )
    })
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  return { server, port: (server.address() as AddressInfo).port, puts: () => puts }
}

const coldRun = (
  file: string,
  event: unknown,
  env: Record<string, string>,
  check: string,
  nodeArgs: ReadonlyArray<string> = []
): Promise<ColdRun> =>
  new Promise((ok, fail) => {
    const script = `
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
      const t1 = performance.now()
      const summary = await handler(${JSON.stringify(event)}, { awsRequestId: "bench" })
      const t2 = performance.now()
      const cpu = process.cpuUsage(c0)
      if (!(${check})) throw new Error("unexpected answer: " + JSON.stringify(summary))
      console.log("")
      console.log("BENCH " + JSON.stringify({
        importMs: t1 - t0, handleMs: t2 - t1, totalMs: t2, cpuMs: (cpu.user + cpu.system) / 1000
      }))
    `
    const began = performance.now()
    const child = spawn(benchNode, [...nodeArgs, "--input-type=module", "-e", script], {
      cwd: dirname(file),
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    child.on("exit", (code) => {
      const wallMs = performance.now() - began
      if (code !== 0) return fail(new Error(`cold run exited ${code}: ${err.slice(-2000)}`))
      const line = out.split("\n").find((l) => l.startsWith("BENCH "))
      if (line === undefined) return fail(new Error(`no result from the cold run: ${out.slice(-2000)}`))
      ok({ ...JSON.parse(line.slice(6)), wallMs })
    })
  })

/** Bytes of the files of a handler's asset folder with that suffix (`.mjs`: entry + chunks). */
const assetBytes = (file: string, suffix = ".mjs"): number =>
  readdirSync(dirname(file)).filter((f) => f.endsWith(suffix)).reduce(
    (n, f) => n + statSync(join(dirname(file), f)).size,
    0
  )

export async function run(): Promise<Array<BenchRow>> {
  const { bundle } = (await import(pathToFileURL(join(lambdaRoot, "scripts", "bundle.ts")).href)) as {
    bundle: BundleFn
  }
  // Inside the package (dist/ is ignored by git and lint) so the external variant resolves
  // @aws-sdk/* from node_modules, as the Lambda runtime resolves its own copy.
  const builds = {
    split: { sdk: "bundled", splitting: true, label: "deployed: split, SDK bundled" },
    single: { sdk: "bundled", splitting: false, label: "one file, SDK bundled" },
    external: { sdk: "external", splitting: true, label: "split, runtime's SDK" }
  } as const
  const rows: Array<BenchRow> = []
  const files: Record<string, string> = {}
  for (const [name, b] of Object.entries(builds)) {
    if (SMOKE && name !== "split") continue
    const outdir = join(lambdaRoot, "dist", ".bench", name)
    for (const r of await bundle({ sdk: b.sdk, splitting: b.splitting, outdir })) {
      files[`${r.handler}.${name}`] = r.file
      rows.push({
        name: `bundle ${r.handler} (${b.label})`,
        value: Math.round(assetBytes(r.file) / 102.4) / 10,
        unit: "KiB",
        note: `all .mjs files of the asset; entry ${Math.round(r.bytes / 1024)} KiB; minified ESM, node22`
      })
      if (name === "split") {
        const entryMap = `${r.file}.map`
        rows.push({
          name: `source maps ${r.handler} (${b.label})`,
          value: Math.round(assetBytes(r.file, ".map") / 102.4) / 10,
          unit: "KiB",
          note: `all .map files of the asset (shipped, no sources' text); entry's ${
            existsSync(entryMap) ? Math.round(statSync(entryMap).size / 1024) : 0
          } KiB`
        })
      }
    }
  }

  const s3Event = JSON.parse(
    readFileSync(join(lambdaRoot, "test", "events", "s3-put.json"), "utf8")
  ) as { Records: Array<unknown> }
  const scheduled = JSON.parse(readFileSync(join(lambdaRoot, "test", "events", "scheduled.json"), "utf8"))
  const glue = await startGlueStub()
  const s3 = await startS3Stub()
  const sim = await Sim.startServer({})
  const credentials = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench" }
  const handlers = {
    onRawObjectCreated: {
      event: { Records: [s3Event.Records[0]] },
      env: {
        ...credentials,
        B3_GLUE_ENDPOINT: `http://127.0.0.1:${glue.port}`,
        B3_GLUE_JOB: "b3-refine",
        B3_BUCKET: "b3-bench"
      },
      check: "summary.started.length === 1"
    },
    scheduledIngest: {
      event: scheduled,
      env: {
        ...credentials,
        B3_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
        B3_BUCKET: "b3-bench",
        B3_BASE_URL: sim.url,
        B3_INDICES: "IBOV"
      },
      check: "summary.results.length === 1 && summary.results[0].ok"
    }
  } as const
  try {
    const variants = [
      { handler: "onRawObjectCreated", build: "split", args: [], extra: ", maps shipped, no flag" },
      {
        handler: "onRawObjectCreated",
        build: "split",
        args: ["--enable-source-maps"],
        extra: ", maps shipped, --enable-source-maps"
      },
      { handler: "onRawObjectCreated", build: "single", args: [], extra: "" },
      { handler: "onRawObjectCreated", build: "external", args: [], extra: "" },
      { handler: "scheduledIngest", build: "split", args: [], extra: ", maps shipped, no flag" },
      {
        handler: "scheduledIngest",
        build: "split",
        args: ["--enable-source-maps"],
        extra: ", maps shipped, --enable-source-maps"
      }
    ] as const
    const chosen = variants.filter((v) => !SMOKE || (v.build === "split" && v.args.length === 0))
    const runOnce = (v: (typeof variants)[number]) => {
      const file = files[`${v.handler}.${v.build}`]
      if (file === undefined) throw new Error(`bench: lambda: no ${v.build} bundle of ${v.handler}`)
      const h = handlers[v.handler]
      return coldRun(file, h.event, h.env, h.check, v.args)
    }
    for (const v of chosen) await runOnce(v) // warm the OS file cache
    // Round-robin, one run of each variant per round: a shared machine's drift (another job
    // starting, the disk settling) then falls on every variant alike, not on whichever ran last.
    const runsOf: Array<Array<ColdRun>> = chosen.map(() => [])
    for (let i = 0; i < RUNS; i++) {
      for (const [k, v] of chosen.entries()) runsOf[k]?.push(await runOnce(v))
    }
    for (const [k, v] of chosen.entries()) {
      const runs = runsOf[k] ?? []
      const imp = median(runs.map((r) => r.importMs))
      const handle = median(runs.map((r) => r.handleMs))
      const importAndEvent = round(median(runs.map((r) => r.importMs + r.handleMs)))
      const label = `${v.handler} (${builds[v.build].label}${v.extra})`
      const deployed = v.build === "split" && v.args.length === 0
      rows.push({
        name: `import + first event ${label}`,
        value: importAndEvent,
        unit: "ms",
        note: `import ${imp.toFixed(0)} ms + first event ${handle.toFixed(0)} ms; cold start with Node's boot ${
          round(median(runs.map((r) => r.totalMs)))
        } ms; CPU import + event ${
          round(median(runs.map((r) => r.cpuMs)))
        } ms; median of ${RUNS}, variants interleaved; Node ${benchNodeVersion}`,
        ...(deployed && v.handler === "onRawObjectCreated" ? { check: below(importAndEvent, 100, "ms") } : {})
      })
    }
    // The deferred cost of the maps: the first error of a process maps its stack (entry's map read and
    // parsed once; later errors reuse it).
    const { mapStack } = (await import(pathToFileURL(join(lambdaRoot, "src", "internal", "stack.ts")).href)) as {
      mapStack: (stack: string) => string
    }
    for (const handler of ["onRawObjectCreated", "scheduledIngest"] as const) {
      const file = files[`${handler}.split`]
      if (file === undefined) continue
      // a frame in the middle of the bundle's longest line (its code, not the banner)
      const lines = readFileSync(file, "utf8").split("\n").map((l) => l.length)
      const line = lines.indexOf(Math.max(...lines))
      const stack = `Error: bench\n    at f (${pathToFileURL(file).href}:${line + 1}:${
        Math.ceil((lines[line] ?? 0) / 2)
      })`
      const t0 = performance.now()
      const first = mapStack(stack)
      const t1 = performance.now()
      mapStack(stack)
      const t2 = performance.now()
      rows.push({
        name: `first error's stack mapped ${handler} (deployed)`,
        value: round(t1 - t0),
        unit: "ms",
        note: `once per process: entry's map read + parsed (${
          Math.round(statSync(`${file}.map`).size / 1024)
        } KiB); next error ${(t2 - t1).toFixed(2)} ms; ${first === stack ? "frame not mapped" : "frame mapped"}`
      })
    }
  } finally {
    glue.server.close()
    s3.server.close()
    await sim.close()
    rmSync(join(lambdaRoot, "dist", ".bench"), { recursive: true, force: true })
  }
  return rows
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const row of await run()) console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ""}`)
}
