/**
 * Payload and store helpers shared by the core tests (not a test file itself).
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { IndexCode, Language, Portfolio, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { Payload } from "@b3-pipeline/core/PortfolioSource"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** A GetPortfolioDay payload of `pages` as B3 would send it. */
export const payloadOfPages = (
  indexCode: IndexCode,
  pages: ReadonlyArray<Uint8Array>,
  options: { readonly fetchedAt?: string; readonly language?: Language; readonly origin?: string } = {}
): Payload => {
  const fetchedAt = options.fetchedAt ?? "2025-04-07T09:00:00.000Z"
  const language = options.language ?? "pt-br"
  return {
    request: { indexCode, method: "GetPortfolioDay", language, segment: "2" },
    fetchedAt,
    origin: options.origin ?? "test",
    pages: pages.map((bytes, i) => ({
      bytes,
      request: {
        method: "GET",
        url: `https://example.test/GetPortfolioDay/${indexCode}/${i + 1}`,
        params: { index: indexCode, language, pageNumber: i + 1, pageSize: 9999, segment: "2" },
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        startedAt: fetchedAt,
        durationMs: 12,
        attempt: 1
      }
    }))
  }
}

/** A portfolio and its GetPortfolioDay payload. */
export const samplePayload = (
  options: {
    readonly indexCode?: string
    readonly refDate?: string
    readonly seed?: number
    readonly size?: number
    readonly segment?: "1" | "2"
    readonly language?: Language
    readonly pageSize?: number
    readonly fetchedAt?: string
  } = {}
): { readonly portfolio: Portfolio; readonly payload: Payload } => {
  const language = options.language ?? "pt-br"
  const portfolio = generatePortfolio({
    indexCode: (options.indexCode ?? "IBOV") as IndexCode,
    refDate: (options.refDate ?? "2025-04-07") as RefDate,
    seed: options.seed ?? 1,
    language,
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.segment !== undefined ? { segment: options.segment } : {})
  })
  const pages = B3Encode.encodePortfolioDay(
    portfolio,
    options.pageSize !== undefined ? { language, pageSize: options.pageSize } : { language }
  )
  const payload = payloadOfPages(portfolio.indexCode, pages, {
    language,
    ...(options.fetchedAt !== undefined ? { fetchedAt: options.fetchedAt } : {})
  })
  return { portfolio, payload }
}

/** Every object of the store: key -> bytes (a snapshot to compare). */
export const snapshot = Effect.gen(function*() {
  const store = yield* ObjectStore
  const infos = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("")))
  const out = new Map<string, Uint8Array>()
  for (const info of infos) out.set(info.key, Option.getOrThrow(yield* store.get(info.key)))
  return out
})

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
