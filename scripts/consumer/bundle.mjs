// Bundling as a consumer does: an S3-only entry must not pull Glue or Athena; a Lambda of our own,
// built with lambda-entry's esbuild recipe, must run from another folder (parquet-wasm's .wasm).
import { buildOptions, copyParquetWasm } from "@b3-pipeline/lambda-entry/Esbuild"
import * as esbuild from "esbuild"
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

const sample = process.argv[2]

// 1. S3 only
const s3 = await esbuild.build({
  stdin: {
    contents: "export { layer } from \"@b3-pipeline/aws-adapter/S3ObjectStore\"\n" +
      "export { layer as s3Client } from \"@b3-pipeline/aws-adapter/ClientS3\"",
    resolveDir: process.cwd()
  },
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  metafile: true,
  outfile: "s3-only.mjs",
  logLevel: "error"
})
const inputs = Object.keys(s3.metafile.inputs)
const has = (name) => inputs.some((f) => f.includes(`/${name}/`))
if (!has("client-s3")) throw new Error("the S3-only bundle has no S3 client?")
if (has("client-glue") || has("client-athena")) throw new Error("the S3-only bundle pulls Glue or Athena")
console.log(
  `ok - S3-only bundle: client-s3 in, client-glue/client-athena out (${
    (s3.outputFiles[0].contents.byteLength / 1024).toFixed(0)
  } KiB)`
)

// 2. our own Lambda: decode a payload, write and read back its raw Parquet
writeFileSync(
  "handler.mjs",
  `import * as B3Wire from "@b3-pipeline/core/B3Wire"
import * as Payloads from "@b3-pipeline/core/Payloads"
import * as RawParquet from "@b3-pipeline/core/RawParquet"
import { Effect } from "effect"
export const handler = async (event) => {
  const payload = await Effect.runPromise(Payloads.fromBytes(Buffer.from(event.body, "base64"), { name: event.name }))
  const portfolio = Effect.runSync(B3Wire.decodePayload(payload))
  const parquet = RawParquet.encodeRawParquet(portfolio, { payloadSha256: "0".repeat(64), fetchedAt: payload.fetchedAt })
  return { rows: RawParquet.decodeRawParquet(parquet).length, parquetBytes: parquet.byteLength }
}
`
)
const options = buildOptions({ entry: "handler.mjs", outdir: "lambda-out" })
const result = await esbuild.build({ ...options, logLevel: "error" })
const wasm = copyParquetWasm(result.metafile, options)
if (wasm === undefined) throw new Error("the Lambda uses Parquet but no .wasm was copied")
const elsewhere = mkdtempSync(join(tmpdir(), "b3-lambda-asset-"))
try {
  cpSync("lambda-out", elsewhere, { recursive: true })
  const { handler } = await import(pathToFileURL(join(elsewhere, "index.mjs")).href)
  const out = await handler({ body: readFileSync(sample).toString("base64"), name: sample })
  if (out.rows !== 82) throw new Error(`own Lambda: expected 82 rows, got ${JSON.stringify(out)}`)
  console.log(`ok - own Lambda bundled with the recipe runs from another folder: ${JSON.stringify(out)}`)
} finally {
  rmSync(elsewhere, { recursive: true, force: true })
}
