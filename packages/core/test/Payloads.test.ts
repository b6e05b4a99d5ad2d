import * as B3Wire from "@b3-pipeline/core/B3Wire"
import * as Payloads from "@b3-pipeline/core/Payloads"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/b3/${name}`, import.meta.url))

describe("Payloads", () => {
  it.effect("fromFile: a downloaded CSV gets its index from the name, its method from the bytes, a FILE record", () =>
    Effect.gen(function*() {
      const file = fixture("IBOVDia_03-10-25.csv")
      const payload = yield* Payloads.fromFile(file)
      assert.strictEqual(payload.request.indexCode, "IBOV")
      assert.strictEqual(payload.request.method, "GetDownloadPortfolioDay")
      assert.strictEqual(payload.pages.length, 1)
      assert.deepStrictEqual(payload.pages[0]!.bytes, new Uint8Array(readFileSync(file)))
      assert.strictEqual(payload.pages[0]!.request.method, "FILE")
      assert.strictEqual(payload.pages[0]!.request.url, `file://${file}`)
      assert.strictEqual(payload.origin, `file:${file}`)
      const portfolio = yield* B3Wire.decodePayload(payload)
      assert.strictEqual(portfolio.refDate, "2025-10-03")
      assert.strictEqual(portfolio.size, 82)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("fromBytes: a CSV's title line names the index; JSON needs one; the date can be supplied", () =>
    Effect.gen(function*() {
      const csv = new Uint8Array(readFileSync(fixture("IBOVDia_03-10-25.csv")))
      const fromCsv = yield* Payloads.fromBytes(csv, { fetchedAt: "2025-10-03T20:00:00.000Z" })
      assert.strictEqual(fromCsv.request.indexCode, "IBOV")
      assert.strictEqual(fromCsv.fetchedAt, "2025-10-03T20:00:00.000Z")
      assert.strictEqual(fromCsv.pages[0]!.request.method, "BYTES")

      const json = new Uint8Array(readFileSync(fixture("GetTheoricalPortfolio_IBOV_pt-br_2022-05.json")))
      const missing = yield* Effect.flip(Payloads.fromBytes(json))
      assert.strictEqual(missing._tag, "PayloadInputError")
      assert.strictEqual(missing.reason, "UnknownIndex")
      const theorical = yield* Payloads.fromBytes(json, { indexCode: "IBOV" as never, refDate: "2022-05-02" as never })
      assert.strictEqual(theorical.request.method, "GetTheoricalPortfolio")
      const portfolio = yield* B3Wire.decodePayload(theorical)
      assert.strictEqual(portfolio.refDate, "2022-05-02")
    }))

  it.effect("fromFile: a missing file is a typed Unreadable error naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Payloads.fromFile("/nonexistent/IBOVDia_01-01-25.csv"))
      assert.strictEqual(error.reason, "Unreadable")
      assert.strictEqual(error.path, "/nonexistent/IBOVDia_01-01-25.csv")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
