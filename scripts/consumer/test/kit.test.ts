// The exported test kit, as another team would use it: a property test on the kit's arbitraries,
// and the ObjectStore contract suite run against an adapter written here.
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import type { ObjectInfo, ObjectKey } from "@b3-pipeline/core/ObjectStore"
import { checkKey, checkPrefix, ObjectStore, ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { Arbitraries, ObjectStoreContract } from "@b3-pipeline/core/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { createHash } from "node:crypto"
import { assert, describe, it } from "vitest"

describe("test kit arbitraries", () => {
  it("a generated portfolio survives GetPortfolioDay encode -> decode", () => {
    fc.assert(
      fc.property(
        Arbitraries.portfolio({ maxSize: 40, refDate: Arbitraries.pastRefDate }),
        Arbitraries.language,
        (portfolio, language) => {
          const pages = B3Encode.encodePortfolioDay(portfolio, { language })
          const payload = {
            request: {
              indexCode: portfolio.indexCode,
              method: "GetPortfolioDay" as const,
              language,
              segment: "2" as const
            },
            pages: pages.map((bytes) => ({
              bytes,
              request: {
                method: "GET",
                url: "test://",
                params: {},
                status: 200,
                headers: {},
                startedAt: "2025-01-01T00:00:00Z",
                durationMs: 0,
                attempt: 1
              }
            })),
            fetchedAt: "2025-01-01T00:00:00Z",
            origin: "test"
          }
          const decoded = Effect.runSync(B3Wire.decodePayload(payload))
          assert.strictEqual(decoded.indexCode, portfolio.indexCode)
          assert.strictEqual(decoded.refDate, portfolio.refDate)
          assert.strictEqual(decoded.size, portfolio.size)
        }
      ),
      { numRuns: 25 }
    )
  })
})

// A tiny adapter of our own: a Map, with copies in and out; no event feed (like S3).
const makeMapStore = Effect.sync(() => {
  const objects = new Map<string, Uint8Array>()
  const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
  // the version identity: the digest, as the memory store does (S3 would give its ETag)
  const info = (key: ObjectKey, bytes: Uint8Array): ObjectInfo => ({
    key,
    size: bytes.byteLength,
    etag: digest(bytes),
    sha256: digest(bytes)
  })
  return ObjectStore.of({
    bucket: "map",
    put: (key, body) =>
      Effect.map(checkKey("put", key), (k) => {
        const before = objects.get(k)
        const same = before !== undefined && Buffer.from(before).equals(Buffer.from(body))
        if (!same) objects.set(k, new Uint8Array(body))
        return { ...info(k, body), written: !same }
      }),
    get: (key) =>
      Effect.map(
        checkKey("get", key),
        (k) => Option.map(Option.fromNullable(objects.get(k)), (b) => new Uint8Array(b))
      ),
    head: (key) =>
      Effect.map(checkKey("head", key), (k) => Option.map(Option.fromNullable(objects.get(k)), (b) => info(k, b))),
    list: (prefix) =>
      Stream.unwrap(Effect.map(checkPrefix("list", prefix), (p) =>
        Stream.fromIterable(
          [...objects.keys()].filter((k) => k.startsWith(p)).sort().map((k) => {
            const { etag, key, size } = info(k as ObjectKey, objects.get(k)!)
            return { key, size, etag }
          })
        ))),
    delete: (key) => Effect.map(checkKey("delete", key), (k) => void objects.delete(k)),
    events: Stream.fail(new ObjectStoreError({ reason: "Unavailable", method: "events", detail: "no event feed" }))
  })
})

ObjectStoreContract.suite("consumer Map store", Layer.effect(ObjectStore, makeMapStore), { events: false, numRuns: 20 })
