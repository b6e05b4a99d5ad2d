import { B3ParseError } from "@b3-pipeline/core/B3ParseError"
import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import {
  layerMemory as ObjectStoreLayerMemory,
  ObjectStore,
  ObjectStoreError,
  recordKey
} from "@b3-pipeline/core/ObjectStore"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { decodeRawParquet } from "@b3-pipeline/core/RawParquet"
import { rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Testing from "@b3-pipeline/core/Testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { samplePayload, snapshot, text } from "./fixtures.js"

const TestLayer = RawLayer.layer.pipe(Layer.provideMerge(Testing.layerStore))
/** A store whose writes and listings fail (reads work). */
const FailingStore = Layer.effect(
  ObjectStore,
  Effect.map(ObjectStore.pipe(Effect.provide(ObjectStoreLayerMemory)), (inner) =>
    ObjectStore.of({
      ...inner,
      put: (key) => Effect.fail(new ObjectStoreError({ reason: "Unavailable", method: "put", key })),
      list: () => Stream.fail(new ObjectStoreError({ reason: "Unavailable", method: "list" }))
    }))
)
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

describe("RawLayer.layer", () => {
  it.effect("archives the exact pages and request.json, then writes the Parquet (created)", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const store = yield* ObjectStore
      const { payload, portfolio } = samplePayload({ indexCode: "IBRA", size: 45, pageSize: 20 })
      assert.strictEqual(payload.pages.length, 3)
      const result = yield* raw.write(payload, portfolio)
      const all = Buffer.concat(payload.pages.map((p) => p.bytes))
      const hash = sha256(all)
      const folder = `raw/b3_portfolio_payloads/ref_date=2025-04-07/index_code=IBRA/${hash}/`
      assert.deepStrictEqual(result, {
        indexCode: portfolio.indexCode,
        refDate: portfolio.refDate,
        parquetKey: rawParquetKey(portfolio.refDate, portfolio.indexCode),
        payloadKeys: ["page-001.json", "page-002.json", "page-003.json", "request.json"].map((f) =>
          `${folder}${f}` as ObjectKey
        ),
        rows: 45,
        outcome: "created"
      })
      for (let i = 0; i < 3; i++) {
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(result.payloadKeys[i]!)), payload.pages[i]!.bytes)
      }
      const request = JSON.parse(text(Option.getOrThrow(yield* store.get(result.payloadKeys[3]!))))
      assert.strictEqual(request.payloadSha256, hash)
      assert.strictEqual(request.fetchedAt, payload.fetchedAt)
      assert.strictEqual(request.origin, payload.origin)
      assert.deepStrictEqual(request.request, payload.request)
      assert.deepStrictEqual(
        request.pages.map((p: { sha256: string }) => p.sha256),
        payload.pages.map((p) => sha256(p.bytes))
      )
      assert.deepStrictEqual(request.pages[1].request, payload.pages[1]!.request)

      const rows = decodeRawParquet(Option.getOrThrow(yield* store.get(result.parquetKey)))
      assert.strictEqual(rows.length, 45)
      assert.strictEqual(rows[0]!.payload_sha256, hash)
      assert.strictEqual(rows[0]!.fetched_at, payload.fetchedAt)
      assert.deepStrictEqual(rows.map((r) => r.cod), [...portfolio.tickers])

      // payload objects first, the Parquet (the refine trigger) last
      const events = (yield* Testing.takePending).map(recordKey)
      assert.deepStrictEqual(events, [...result.payloadKeys, result.parquetKey])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("re-running the same payload is 'unchanged': no object, no event", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const { payload, portfolio } = samplePayload()
      yield* raw.write(payload, portfolio)
      yield* Testing.takePending
      const before = yield* snapshot
      const again = yield* raw.write(payload, portfolio)
      assert.strictEqual(again.outcome, "unchanged")
      assert.deepStrictEqual(yield* snapshot, before)
      assert.deepStrictEqual(yield* Testing.takePending, [])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("the same bytes fetched later are 'unchanged' and keep the first fetch time", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const store = yield* ObjectStore
      const { payload, portfolio } = samplePayload({ fetchedAt: "2025-04-07T09:00:00.000Z" })
      const first = yield* raw.write(payload, portfolio)
      const before = yield* snapshot
      const later = { ...payload, fetchedAt: "2025-04-07T15:30:00.000Z" }
      const second = yield* raw.write(later, portfolio)
      assert.strictEqual(second.outcome, "unchanged")
      assert.deepStrictEqual(yield* snapshot, before)
      const rows = decodeRawParquet(Option.getOrThrow(yield* store.get(first.parquetKey)))
      assert.strictEqual(rows[0]!.fetched_at, "2025-04-07T09:00:00.000Z")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a different payload for the same index and day replaces the Parquet and keeps the old archive", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const store = yield* ObjectStore
      const a = samplePayload({ seed: 1 })
      const b = samplePayload({ seed: 2, fetchedAt: "2025-04-07T11:00:00.000Z" })
      const first = yield* raw.write(a.payload, a.portfolio)
      yield* Testing.takePending
      const second = yield* raw.write(b.payload, b.portfolio)
      assert.strictEqual(second.outcome, "replaced")
      assert.strictEqual(second.parquetKey, first.parquetKey)
      for (const k of [...first.payloadKeys, ...second.payloadKeys]) assert.isTrue(Option.isSome(yield* store.head(k)))
      const rows = decodeRawParquet(Option.getOrThrow(yield* store.get(second.parquetKey)))
      assert.strictEqual(rows[0]!.payload_sha256, sha256(b.payload.pages[0]!.bytes))
      assert.deepStrictEqual(rows.map((r) => r.cod), [...b.portfolio.tickers])
      const events = (yield* Testing.takePending).map(recordKey)
      assert.strictEqual(events[events.length - 1], second.parquetKey)
      // and back to the first payload: its first fetch time, its rows
      const third = yield* raw.write({ ...a.payload, fetchedAt: "2025-04-08T00:00:00.000Z" }, a.portfolio)
      assert.strictEqual(third.outcome, "replaced")
      const back = decodeRawParquet(Option.getOrThrow(yield* store.get(third.parquetKey)))
      assert.strictEqual(back[0]!.fetched_at, a.payload.fetchedAt)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("quarantine keeps the exact bytes and an error.json naming what and where", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const store = yield* ObjectStore
      const { payload } = samplePayload({ indexCode: "SMLL", fetchedAt: "2025-04-09T08:00:00.000Z" })
      const broken = {
        ...payload,
        pages: [new TextEncoder().encode("<html>challenge</html>")].map((bytes) => ({
          bytes,
          request: payload.pages[0]!.request
        }))
      }
      const parseError = new B3ParseError({
        reason: "NotJson",
        format: "GetPortfolioDay",
        page: 1,
        detail: "not JSON",
        value: "<html>"
      })
      const key = yield* raw.quarantine(broken, parseError)
      const hash = sha256(broken.pages[0]!.bytes)
      assert.strictEqual(key, `quarantine/2025-04-09/SMLL/${hash}/error.json`)
      assert.deepStrictEqual(
        Option.getOrThrow(yield* store.get(`quarantine/2025-04-09/SMLL/${hash}/page-001.txt` as ObjectKey)),
        broken.pages[0]!.bytes
      )
      const doc = JSON.parse(text(Option.getOrThrow(yield* store.get(key))))
      assert.deepStrictEqual(doc.error, {
        _tag: "B3ParseError",
        reason: "NotJson",
        format: "GetPortfolioDay",
        page: 1,
        value: "<html>",
        detail: "not JSON",
        message: parseError.message
      })
      assert.strictEqual(doc.payloadSha256, hash)
      assert.strictEqual(doc.origin, payload.origin)
      assert.deepStrictEqual(doc.pages[0].request, payload.pages[0]!.request)
      // idempotent
      const before = yield* snapshot
      yield* raw.quarantine(broken, parseError)
      assert.deepStrictEqual(yield* snapshot, before)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("store failures become RawLayerError Store, naming the key", () =>
    Effect.gen(function*() {
      const raw = yield* RawLayer.RawLayer
      const { payload, portfolio } = samplePayload()
      const error = yield* Effect.flip(raw.write(payload, portfolio))
      assert.strictEqual(error._tag, "RawLayerError")
      assert.strictEqual(error.reason, "Store")
      assert.isTrue(error.key !== undefined && error.key.startsWith("raw/b3_portfolio_payloads/"))
      // the store's own error is kept, typed, and decides whether to try again
      const cause = error.cause
      assert.isTrue(cause instanceof ObjectStoreError)
      if (cause instanceof ObjectStoreError) assert.strictEqual(cause.reason, "Unavailable")
      assert.isTrue(error.retryable)
    }).pipe(Effect.provide(RawLayer.layer.pipe(Layer.provide(FailingStore)))))

  it("retryable follows the cause: a denied store or a bad encode is not worth retrying", () => {
    const denied = new ObjectStoreError({ reason: "AccessDenied", method: "put" })
    assert.isFalse(new RawLayer.RawLayerError({ reason: "Store", method: "write", cause: denied }).retryable)
    const throttled = new ObjectStoreError({ reason: "Throttled", method: "put" })
    assert.isTrue(new RawLayer.RawLayerError({ reason: "Store", method: "write", cause: throttled }).retryable)
    assert.isFalse(
      new RawLayer.RawLayerError({ reason: "Encode", method: "write", cause: new Error("int64 overflow") }).retryable
    )
  })
})
