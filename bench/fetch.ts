/**
 * Fetch benchmark: one day of all 36 indices (Domain.ALL_INDEX_CODES) from the local B3 simulator over real HTTP (undici),
 * through B3HttpSource.fetchMany (concurrency 2), decoded with B3Wire and written to an in-memory
 * object store by RawLayer. Once without faults, once with 20% of requests answered 520 (seeded),
 * retried by the source's production schedule (500 ms exponential back-off with jitter).
 *
 * Run alone: `npx tsx --conditions=@b3-pipeline/source bench/fetch.ts`.
 */
import * as Faults from "@b3-pipeline/b3-simulator/Faults"
import * as Sim from "@b3-pipeline/b3-simulator/Simulator"
import * as B3HttpSource from "@b3-pipeline/core/B3HttpSource"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type { BenchRow } from "./types.js"

interface DayResult {
  readonly wallMs: number
  readonly fetchMs: number
  readonly requests: number
  readonly faults: number
  readonly rows: number
  readonly failed: number
}

const oneDay = (sim: Sim.Simulator, concurrency: number, pageSize = 9999): Promise<DayResult> => {
  const live = Layer.mergeAll(
    B3HttpSource.layer({ baseUrl: sim.url, origin: "simulated", pageSize, politeDelay: "0 millis" }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    ),
    RawLayer.layer.pipe(Layer.provide(ObjectStore.layerMemory))
  )
  const program = Effect.gen(function*() {
    const raw = yield* RawLayer.RawLayer
    sim.stats.reset()
    const started = performance.now()
    const outcomes = yield* B3HttpSource.fetchMany(ALL_INDEX_CODES, {}, { concurrency })
    const fetchMs = performance.now() - started
    let rows = 0
    let failed = 0
    for (const o of outcomes) {
      if (Either.isLeft(o.result)) {
        failed++
        continue
      }
      const payload = o.result.right
      const portfolio = yield* B3Wire.decodePayload(payload)
      const written = yield* raw.write(payload, portfolio)
      rows += written.rows
    }
    return {
      wallMs: performance.now() - started,
      fetchMs,
      requests: sim.stats.total,
      faults: sim.stats.faults,
      rows,
      failed
    }
  })
  return Effect.runPromise(Effect.provide(program, live))
}

export async function run(): Promise<Array<BenchRow>> {
  const sim = await Sim.startServer({})
  try {
    await oneDay(sim, 2) // warm-up: JIT, generator and encoder caches, connection pool
    const clean: Array<DayResult> = []
    for (let i = 0; i < 3; i++) clean.push(await oneDay(sim, 2))
    const c = [...clean].sort((a, b) => a.wallMs - b.wallMs)[1]
    if (c === undefined) throw new Error("bench: fetch: no clean day was measured")
    const p20 = await oneDay(sim, 2, 20)
    sim.setFaults(Faults.random(0.2, 2024))
    const f = await oneDay(sim, 2)
    const note = `${ALL_INDEX_CODES.length} indices, ${c.rows} rows, concurrency 2, simulator on 127.0.0.1`
    return [
      {
        name: "fetch.day.wall",
        value: Math.round(c.wallMs),
        unit: "ms",
        note: `${note}; fetch+decode+raw write, median of 3`
      },
      { name: "fetch.day.fetch_only", value: Math.round(c.fetchMs), unit: "ms", note },
      {
        name: "fetch.day.requests_per_s",
        value: Math.round(c.requests / (c.fetchMs / 1000)),
        unit: "req/s",
        note: `${c.requests} requests`
      },
      {
        name: "fetch.day.pagesize20.wall",
        value: Math.round(p20.wallMs),
        unit: "ms",
        note: `pageSize 20 as B3's web page asks: ${p20.requests} requests instead of ${c.requests} (politeDelay 0)`
      },
      {
        name: "fetch.day520.wall",
        value: Math.round(f.wallMs),
        unit: "ms",
        note: `20% 520s (seed 2024): ${f.faults} faults in ${f.requests} requests, ${f.failed} indices failed; ` +
          "default back-off 500 ms x2 with jitter"
      },
      {
        name: "fetch.day520.requests_per_s",
        value: Math.round(f.requests / (f.fetchMs / 1000)),
        unit: "req/s"
      }
    ]
  } finally {
    await sim.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((rows) => console.table(rows), (e) => {
    console.error(e)
    process.exitCode = 1
  })
}
