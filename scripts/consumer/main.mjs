// Plain Node (no TypeScript loader): the installed packages' compiled dist/ only.
// Decodes the sample with the codec, runs the pipeline on the memory layers and on LocalLive in a
// temporary folder, and reads the refined row of PETR4 back from each. Exits non-zero on any mismatch.
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import * as Payloads from "@b3-pipeline/core/Payloads"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import * as Testing from "@b3-pipeline/core/Testing"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const sample = process.argv[2]
if (sample === undefined) throw new Error("usage: node main.mjs SAMPLE.csv")
const check = (ok, what) => {
  if (!ok) throw new Error(`consumer check failed: ${what}`)
  console.log(`ok - ${what}`)
}
const SQL = "SELECT * FROM b3_portfolio_refined WHERE ticker = 'PETR4'"

// 1. the codec, on bytes
const payload = await Effect.runPromise(Payloads.fromBytes(new Uint8Array(readFileSync(sample)), { name: sample }))
const portfolio = Effect.runSync(B3Wire.decodePayload(payload))
check(portfolio.indexCode === "IBOV" && portfolio.refDate === "2025-10-03", "codec: IBOV 2025-10-03")
check(portfolio.size === 82, `codec: 82 rows (got ${portfolio.size})`)

// 2. the pipeline on the memory layers
const memoryRows = await Effect.runPromise(
  Effect.gen(function*() {
    const write = yield* Pipeline.ingestPayload(payload)
    check(write.outcome === "created", "memory: raw written")
    yield* Testing.runTriggers
    return yield* Pipeline.queryAll(SQL)
  }).pipe(Effect.provide(Testing.layerMemory(PortfolioSource.layerMemory(new Map()))))
)
check(memoryRows.length === 1 && memoryRows[0].weight_pct === "6.341", "memory: refined PETR4 weight 6.341")

// 3. the pipeline on LocalLive (filesystem + DuckDB) in a temporary folder, from the file
const warehouse = mkdtempSync(join(tmpdir(), "b3-consumer-warehouse-"))
try {
  const localRows = await Effect.runPromise(
    Effect.gen(function*() {
      const fromFile = yield* Payloads.fromFile(sample)
      const write = yield* Pipeline.ingestPayload(fromFile)
      check(write.outcome === "created", "local: raw written")
      yield* (yield* LocalTrigger).flush
      return yield* Pipeline.queryAll(SQL)
    }).pipe(Effect.provide(LocalLive.layer({ warehouse })), Effect.provide(NodeFileSystem.layer))
  )
  check(localRows.length === 1, "local: one refined PETR4 row")
  check(String(localRows[0].weight_pct) === "6.341", `local: weight 6.341 (got ${localRows[0].weight_pct})`)
  check(String(localRows[0].ref_date) === "2025-10-03", "local: ref_date 2025-10-03")
} finally {
  rmSync(warehouse, { recursive: true, force: true })
}
console.log("main.mjs: all checks passed")
