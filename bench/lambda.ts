/**
 * Lambda benchmark: bundle sizes of both handlers with the AWS SDK bundled or left to the runtime
 * (`@aws-sdk/*` external), and the cold start of `onRawObjectCreated`: a fresh `node` process
 * imports the bundle and handles one real S3 ObjectCreated:Put record, its Glue client pointed at
 * a stub on 127.0.0.1 (GetJobRuns -> none, StartJobRun -> a run id).
 *
 * "cold start" = process start (performance.timeOrigin) to the handler's answer, which includes
 * Node's own boot; "import" and "first event" split it. Medians of RUNS processes per variant.
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/lambda.ts`.
 */
import { spawn } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { BenchRow } from "./types.js"

const RUNS = 7
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
}) => Promise<Array<BundleResult>>

interface ColdRun {
  readonly importMs: number
  readonly handleMs: number
  readonly totalMs: number
  readonly wallMs: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const round = (x: number): number => Math.round(x * 10) / 10

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

const coldRun = (
  file: string,
  event: unknown,
  env: Record<string, string>,
  nodeArgs: ReadonlyArray<string> = []
): Promise<ColdRun> =>
  new Promise((ok, fail) => {
    const script = `
      const t0 = performance.now()
      const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)})
      const t1 = performance.now()
      const summary = await handler(${JSON.stringify(event)}, { awsRequestId: "bench" })
      const t2 = performance.now()
      if (summary.started.length !== 1) throw new Error("no run started: " + JSON.stringify(summary))
      console.log("")
      console.log("BENCH " + JSON.stringify({ importMs: t1 - t0, handleMs: t2 - t1, totalMs: t2 }))
    `
    const began = performance.now()
    const child = spawn(process.execPath, [...nodeArgs, "--input-type=module", "-e", script], {
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

export async function run(): Promise<Array<BenchRow>> {
  const { bundle } = (await import(pathToFileURL(join(lambdaRoot, "scripts", "bundle.mjs")).href)) as {
    bundle: BundleFn
  }
  // Inside the package (dist/ is ignored by git and lint) so the external variant resolves
  // @aws-sdk/* from node_modules, as the Lambda runtime resolves its own copy.
  const outdirs = {
    bundled: join(lambdaRoot, "dist", ".bench", "bundled"),
    external: join(lambdaRoot, "dist", ".bench", "external")
  } as const
  const rows: Array<BenchRow> = []
  const files: Record<string, string> = {}
  for (const sdk of ["bundled", "external"] as const) {
    for (const r of await bundle({ sdk, outdir: outdirs[sdk] })) {
      files[`${r.handler}.${sdk}`] = r.file
      rows.push({
        name: `bundle ${r.handler} (${sdk} SDK)`,
        value: Math.round(r.bytes / 102.4) / 10,
        unit: "KiB",
        note: "esbuild, minified ESM, node22"
      })
    }
  }

  const s3Event = JSON.parse(
    readFileSync(join(lambdaRoot, "test", "events", "s3-put.json"), "utf8")
  ) as { Records: Array<unknown> }
  const event = { Records: [s3Event.Records[0]] }
  const stub = await startGlueStub()
  const env = {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    B3_GLUE_ENDPOINT: `http://127.0.0.1:${stub.port}`,
    B3_GLUE_JOB: "b3-refine",
    B3_BUCKET: "b3-bench"
  }
  try {
    const variants = [
      { sdk: "bundled", label: "bundled SDK", args: [] },
      { sdk: "external", label: "external SDK", args: [] },
      { sdk: "bundled", label: "bundled SDK, --enable-source-maps", args: ["--enable-source-maps"] }
    ] as const
    for (const { args, label, sdk } of variants) {
      const file = files[`onRawObjectCreated.${sdk}`]!
      await coldRun(file, event, env, args) // warm the OS file cache
      const runs: Array<ColdRun> = []
      for (let i = 0; i < RUNS; i++) runs.push(await coldRun(file, event, env, args))
      const imp = median(runs.map((r) => r.importMs))
      const handle = median(runs.map((r) => r.handleMs))
      rows.push({
        name: `cold start onRawObjectCreated (${label})`,
        value: round(median(runs.map((r) => r.totalMs))),
        unit: "ms",
        note: `process start -> answer; import ${imp.toFixed(0)} ms + first event ${
          handle.toFixed(0)
        } ms; median of ${RUNS}`
      })
      rows.push({
        name: `cold start onRawObjectCreated (${label}), import + event only`,
        value: round(imp + handle),
        unit: "ms",
        note: "without Node's own boot (target < 100 ms)"
      })
      rows.push({
        name: `process wall onRawObjectCreated (${label})`,
        value: round(median(runs.map((r) => r.wallMs))),
        unit: "ms",
        note: "spawn to exit"
      })
    }
  } finally {
    stub.server.close()
    rmSync(join(lambdaRoot, "dist", ".bench"), { recursive: true, force: true })
  }
  return rows
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const row of await run()) console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ""}`)
}
