// temporary: builds a payload archive of N days for profiling (not committed)
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio, tradingDays } from "@b3-pipeline/core/Generate"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import * as Effect from "effect/Effect"
const days = tradingDays("2024-01-01" as RefDate, "2025-12-31" as RefDate).slice(0, Number(process.argv[3] ?? 20))
const wh = process.argv[2]!
await Effect.gen(function*() {
  for (const day of days) {
    for (const [i, code] of ALL_INDEX_CODES.entries()) {
      const segment = i % 2 === 0 ? "2" : "1"
      const p = generatePortfolio({ indexCode: code, refDate: day, segment })
      const [page] = B3Wire.encodePortfolioDay(p, { language: "pt-br" })
      yield* Pipeline.ingestPayload({
        request: { indexCode: code, method: "GetPortfolioDay", language: "pt-br", segment },
        pages: [{ bytes: page!, request: { method: "GET", url: "file:///x", params: {}, status: 200, headers: {}, startedAt: "2025-01-01T00:00:00.000Z", durationMs: 0, attempt: 1 } }],
        fetchedAt: "2025-01-01T00:00:00.000Z",
        origin: "file:x"
      } as never)
    }
  }
}).pipe(Effect.provide(LocalLive.layer({ warehouse: wh, durable: false })), Effect.runPromise)
