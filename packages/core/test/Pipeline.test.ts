import type { IndexCode, Language, RefDate } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES, formatDecimal, parseDecimal } from "@b3-pipeline/core/Domain"
import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import { makeCreatedRecord, ObjectStore } from "@b3-pipeline/core/ObjectStore"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import { rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FC from "effect/FastCheck"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import { samplePayload, snapshot, text } from "./fixtures.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

describe("Pipeline", () => {
  it.effect("ingest -> trigger -> refine -> query, end to end in memory", () => {
    const { payload, portfolio } = samplePayload({ indexCode: "IBOV", refDate: "2025-04-07", size: 12, pageSize: 5 })
    const source = PortfolioSource.layerMemory(new Map([["IBOV", payload.pages.map((p) => p.bytes)]]))
    return Effect.gen(function*() {
      const write = yield* Pipeline.ingest(PortfolioSource.request("IBOV" as IndexCode))
      assert.strictEqual(write.outcome, "created")
      assert.strictEqual(write.rows, 12)
      const runs = yield* Testing.runTriggers
      assert.strictEqual(runs.length, 1)
      assert.strictEqual(runs[0]!.state, "SUCCEEDED")
      assert.strictEqual(runs[0]!.rows, 12)
      const ticker = portfolio.tickers[3]!
      const rows = yield* Pipeline.queryAll(`SELECT * FROM b3_portfolio_refined WHERE ticker = '${ticker}'`)
      assert.strictEqual(rows.length, 1)
      assert.strictEqual(rows[0]!["ref_date"], "2025-04-07")
      assert.strictEqual(rows[0]!["index_code"], "IBOV")
      assert.strictEqual(rows[0]!["weight_pct"], formatDecimal(portfolio.weights[3]!, 3))
      assert.strictEqual(rows[0]!["index_constituents"], 12)

      // fetching the same portfolio again (a later fetchedAt): nothing changes, nothing triggers
      const before = yield* snapshot
      const again = yield* Pipeline.ingest(PortfolioSource.request("IBOV" as IndexCode))
      assert.strictEqual(again.outcome, "unchanged")
      assert.deepStrictEqual(yield* Testing.runTriggers, [])
      assert.deepStrictEqual(yield* snapshot, before)
    }).pipe(Effect.provide(Testing.layerMemory(source)))
  })

  it.effect("a payload that does not parse is quarantined with its exact bytes and fails with the B3ParseError", () => {
    const { payload } = samplePayload({ indexCode: "SMLL", fetchedAt: "2025-04-09T08:00:00.000Z" })
    const good = payload.pages[0]!.bytes
    const truncated = good.slice(0, Math.floor(good.length / 2))
    const bad = { ...payload, pages: [{ ...payload.pages[0]!, bytes: truncated }] }
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const error = yield* Effect.flip(Pipeline.ingestPayload(bad))
      assert.strictEqual(error._tag, "B3ParseError")
      const folder = `quarantine/2025-04-09/SMLL/${sha256(truncated)}/`
      const pages = yield* store.get(`${folder}page-001.json` as ObjectKey)
      assert.deepStrictEqual(Option.getOrThrow(pages), truncated)
      const doc = JSON.parse(text(Option.getOrThrow(yield* store.get(`${folder}error.json` as ObjectKey))))
      assert.strictEqual(doc.error._tag, "B3ParseError")
      assert.strictEqual(doc.error.reason, error._tag === "B3ParseError" ? error.reason : "")
      assert.strictEqual(doc.error.message, error.message)
      assert.strictEqual(doc.payloadSha256, sha256(truncated))
      // nothing reached the raw table, nothing triggers a refine
      assert.isTrue(Option.isNone(yield* store.head(rawParquetKey("2025-04-07" as RefDate, "SMLL" as IndexCode))))
      assert.deepStrictEqual(yield* Testing.runTriggers, [])
    }).pipe(Effect.provide(Testing.layerPorts))
  })

  it.effect.prop(
    "any bad payload (cut, flipped byte, junk) fails with a B3ParseError and is quarantined byte for byte",
    {
      cut: FC.double({ min: 0, max: 1, noNaN: true }),
      flip: FC.nat(),
      junk: FC.uint8Array({ maxLength: 200 }),
      kind: FC.constantFrom("cut" as const, "flip" as const, "junk" as const)
    },
    ({ cut, flip, junk, kind }) =>
      Effect.gen(function*() {
        const { payload } = samplePayload({
          indexCode: "IDIV",
          size: 7,
          seed: 3,
          fetchedAt: "2025-04-10T08:00:00.000Z"
        })
        const good = payload.pages[0]!.bytes
        let bytes: Uint8Array
        if (kind === "cut") bytes = good.slice(0, Math.floor(cut * good.length))
        else if (kind === "junk") bytes = junk
        else {
          bytes = good.slice()
          const at = flip % bytes.length
          bytes[at] = bytes[at] === 0x30 ? 0x41 : 0x30 // a digit becomes a letter, anything else a digit
        }
        const bad = { ...payload, pages: [{ ...payload.pages[0]!, bytes }] }
        const exit = yield* Effect.either(Pipeline.ingestPayload(bad))
        if (exit._tag === "Right") return // a flip may still be a valid portfolio: then it was stored as one
        const error = exit.left
        assert.strictEqual(error._tag, "B3ParseError")
        const store = yield* ObjectStore
        const folder = `quarantine/2025-04-10/IDIV/${sha256(bytes)}/`
        assert.isTrue(Option.isNone(yield* store.head(rawParquetKey("2025-04-07" as RefDate, "IDIV" as IndexCode))))
        const doc = JSON.parse(text(Option.getOrThrow(yield* store.get(`${folder}error.json` as ObjectKey))))
        assert.strictEqual(doc.error.reason, error._tag === "B3ParseError" ? error.reason : "")
        const pageKey = doc.pages[0].key as ObjectKey
        assert.isTrue(pageKey.startsWith(folder))
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(pageKey)), bytes)
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect("onRawObject refines raw Parquet keys and ignores every other key", () =>
    Effect.gen(function*() {
      const { payload } = samplePayload({ indexCode: "IBXX", refDate: "2025-04-07", size: 8 })
      const write = yield* Pipeline.ingestPayload(payload)
      const record = (key: string) =>
        makeCreatedRecord("memory", { key: key as ObjectKey, size: 1, etag: "00" }, new Date(0))
      for (
        const key of [
          ...write.payloadKeys,
          "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=PETR4/part-00000.parquet",
          "quarantine/2025-04-07/IBOV/x/error.json"
        ]
      ) {
        assert.isTrue(Option.isNone(yield* Pipeline.onRawObject(record(key))), key)
      }
      const runs = yield* Pipeline.onRawObject(record(write.parquetKey))
      assert.isTrue(Option.isSome(runs))
      assert.strictEqual(Option.getOrThrow(runs).length, 1)
      assert.strictEqual(Option.getOrThrow(runs)[0]!.rows, 8)
      assert.strictEqual(Option.getOrThrow(runs)[0]!.refDate, "2025-04-07")
    }).pipe(Effect.provide(Testing.layerPorts)))

  it.effect.prop(
    "ingesting the same payload twice leaves the store byte-identical to ingesting it once",
    {
      index: FC.constantFrom(...ALL_INDEX_CODES),
      day: FC.integer({ min: 0, max: 2000 }),
      size: FC.integer({ min: 1, max: 40 }),
      seed: FC.integer({ min: 0, max: 1000 }),
      segment: FC.constantFrom("1" as const, "2" as const),
      language: FC.constantFrom<Language>("pt-br", "en-us"),
      pageSize: FC.integer({ min: 5, max: 80 }),
      laterMinutes: FC.integer({ min: 1, max: 100_000 })
    },
    ({ day, index, language, laterMinutes, pageSize, seed, segment, size }) =>
      Effect.gen(function*() {
        const refDate = new Date(Date.UTC(2019, 0, 1) + day * 86_400_000).toISOString().slice(0, 10)
        const { payload } = samplePayload({ indexCode: index, refDate, size, seed, segment, language, pageSize })
        const once = yield* Pipeline.ingestPayload(payload)
        assert.strictEqual(once.outcome, "created")
        assert.strictEqual((yield* Testing.runTriggers).length, 1)
        const afterOnce = yield* snapshot
        const later = new Date(Date.parse(payload.fetchedAt) + laterMinutes * 60_000).toISOString()
        const twice = yield* Pipeline.ingestPayload({ ...payload, fetchedAt: later })
        assert.strictEqual(twice.outcome, "unchanged")
        assert.deepStrictEqual(yield* Testing.runTriggers, [])
        assert.deepStrictEqual(yield* snapshot, afterOnce)
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 12 } }
  )

  it.effect.prop(
    "refined invariants per index and day, read back through the query engine",
    {
      indexes: FC.uniqueArray(FC.constantFrom("IBOV", "SMLL", "IDIV", "IFIX", "ICO2"), { minLength: 1, maxLength: 3 }),
      seed: FC.integer({ min: 0, max: 1000 }),
      size: FC.integer({ min: 2, max: 40 }),
      segment: FC.constantFrom("1" as const, "2" as const)
    },
    ({ indexes, seed, segment, size }) =>
      Effect.gen(function*() {
        for (const index of indexes) {
          const { payload } = samplePayload({ indexCode: index, refDate: "2025-06-02", size, seed, segment })
          yield* Pipeline.ingestPayload(payload)
        }
        yield* Testing.runTriggers
        for (const index of indexes) {
          const rows = yield* Pipeline.queryAll(
            `SELECT * FROM b3_portfolio_refined WHERE ref_date = '2025-06-02' AND index_code = '${index}'`
          )
          assert.strictEqual(rows.length, size)
          const weight = (v: unknown) => Number(parseDecimal(String(v), 3))
          const total = rows.reduce((s, r) => s + weight(r["weight_pct"]), 0)
          assert.isAtMost(Math.abs(total - 100_000), 3 + size)
          for (const r of rows) {
            assert.strictEqual(r["index_constituents"], size)
            assert.strictEqual(r["period_start"], "2025-05-01")
            assert.strictEqual(r["days_since_period_start"], 32)
            assert.strictEqual(r["days_since_previous_snapshot"], null)
            if (r["sector"] === null) {
              assert.strictEqual(r["sector_weight_pct"], null)
            } else {
              const sum = rows.filter((x) => x["sector"] === r["sector"]).reduce(
                (s, x) => s + weight(x["weight_pct"]),
                0
              )
              assert.strictEqual(r["sector_weight_pct"], formatDecimal(sum, 3))
            }
          }
        }
      }).pipe(Effect.provide(Testing.layerPorts)),
    { fastCheck: { numRuns: 10 } }
  )
})
