import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import { suite } from "@b3-pipeline/core/testing/ObjectStoreContract"
import { assert, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as AwsClients from "../src/AwsClients.js"
import * as S3ObjectStore from "../src/S3ObjectStore.js"
import { startS3rver } from "../src/testing/index.js"

const BUCKET = "b3-test"
const enc = new TextEncoder()

// One s3rver for this file; a small page size so listings cross page boundaries.
const StoreLive = Layer.unwrapScoped(
  Effect.map(
    startS3rver([BUCKET]),
    (server) =>
      S3ObjectStore.layer({ bucket: BUCKET, pageSize: 2, events: "local" }).pipe(
        Layer.provide(AwsClients.layerS3(server.clients))
      )
  )
)

describe("S3ObjectStore on s3rver", () => {
  it.layer(StoreLive, { timeout: 60_000 })((it) => {
    it.effect("put is idempotent and reports sha256 and size", () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const key = unsafeKey("idem", "a.bin")
        const body = enc.encode("hello s3")
        const first = yield* store.put(key, body)
        const second = yield* store.put(key, body.slice())
        assert.isTrue(first.written)
        assert.isFalse(second.written)
        assert.strictEqual(first.sha256, createHash("sha256").update(body).digest("hex"))
        assert.strictEqual(second.sha256, first.sha256)
        assert.strictEqual(first.size, body.byteLength)
        const third = yield* store.put(key, enc.encode("changed"))
        assert.isTrue(third.written)
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(key)), enc.encode("changed"))
      }))

    it.effect("absent objects are None; delete of an absent key succeeds", () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const key = unsafeKey("absent", "x.json")
        assert.isTrue(Option.isNone(yield* store.get(key)))
        assert.isTrue(Option.isNone(yield* store.head(key)))
        yield* store.delete(key)
        yield* store.put(key, enc.encode("{}"))
        assert.isTrue(Option.isSome(yield* store.head(key)))
        yield* store.delete(key)
        assert.isTrue(Option.isNone(yield* store.get(key)))
      }))

    it.effect("list pages through truncated listings in key order", () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const names = ["e.txt", "a.txt", "c.txt", "b.txt", "d.txt"]
        for (const n of names) yield* store.put(unsafeKey("paged", n), enc.encode(n))
        yield* store.put(unsafeKey("pagedx", "z.txt"), enc.encode("other prefix"))
        const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("paged/")))
        assert.deepStrictEqual(listed.map((i) => i.key), [...names].sort().map((n) => `paged/${n}`))
        assert.deepStrictEqual(listed.map((i) => i.size), listed.map(() => 5))
      }))

    it.effect("invalid keys fail with InvalidKey before any request", () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const result = yield* Effect.either(store.put("no-dot/../x" as never, new Uint8Array(1)))
        assert.isTrue(Either.isLeft(result) && result.left.reason === "InvalidKey")
      }))

    it.effect("bytes survive exactly (binary, empty)", () =>
      Effect.gen(function*() {
        const store = yield* ObjectStore
        const bin = Uint8Array.from({ length: 256 }, (_, i) => i)
        yield* store.put(unsafeKey("bin", "all.bytes"), bin)
        yield* store.put(unsafeKey("bin", "empty.bytes"), new Uint8Array(0))
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(unsafeKey("bin", "all.bytes"))), bin)
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get(unsafeKey("bin", "empty.bytes"))), new Uint8Array(0))
      }))
  })
})

// core's ObjectStore contract, against s3rver: as deployed (events come from the bucket
// notification, so the stream is Unavailable) and with in-process events for writes through the store.
const contractLayer = (events: "local" | "none") =>
  Layer.unwrapScoped(Effect.map(startS3rver([BUCKET]), (server) =>
    // Whole pages: s3rver's continuation skips keys when `a.x` and folder `a/` share a prefix (its
    // folder walk is not S3's key order). Paging itself is tested above.
    S3ObjectStore.layer({ bucket: BUCKET, events }).pipe(
      Layer.provide(AwsClients.layerS3(server.clients))
    )))
suite("s3rver", contractLayer("none"), { events: false, numRuns: 10 })
suite("s3rver, local events", contractLayer("local"), { numRuns: 5 })

describe("S3ObjectStore events", () => {
  it.effect("without local events the stream fails with Unavailable", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const error = yield* Effect.flip(Stream.runCollect(store.events))
      assert.strictEqual(error.reason, "Unavailable")
    }).pipe(Effect.provide(
      S3ObjectStore.layer({ bucket: BUCKET }).pipe(
        Layer.provide(AwsClients.layerS3({ region: "us-east-1", s3Endpoint: "http://127.0.0.1:9" }))
      )
    )))
})

describe("S3ObjectStore errors", () => {
  it.effect("a missing bucket is an error, not an absent object", () =>
    Effect.gen(function*() {
      const server = yield* startS3rver([BUCKET])
      const result = yield* Effect.gen(function*() {
        const store = yield* ObjectStore
        return yield* Effect.either(store.get(unsafeKey("x", "y.json")))
      }).pipe(
        Effect.provide(
          S3ObjectStore.layer({ bucket: "no-such-bucket" }).pipe(Layer.provide(AwsClients.layerS3(server.clients)))
        )
      )
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.include(result.left.message, "NoSuchBucket")
    }).pipe(Effect.scoped), { timeout: 60_000 })
})

describe("S3ObjectStore retries (SDK mock)", () => {
  const slowDown = () =>
    Object.assign(new Error("Please reduce your request rate."), {
      name: "SlowDown",
      $metadata: { httpStatusCode: 503 }
    })
  const setup = () => {
    const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
    const mock = mockClient(client)
    const layer = S3ObjectStore.layer({ bucket: BUCKET, retry: { base: "10 millis", times: 3 } }).pipe(
      Layer.provide(Layer.succeed(AwsClients.S3, client))
    )
    return { mock, layer }
  }

  it.live("a throttled PutObject is retried through the one policy and then succeeds", () => {
    const { layer, mock } = setup()
    mock.on(HeadObjectCommand).rejects(Object.assign(new Error("nf"), { name: "NotFound" }))
    mock.on(PutObjectCommand).rejectsOnce(slowDown()).rejectsOnce(slowDown()).resolves({})
    return Effect.gen(function*() {
      const result = yield* (yield* ObjectStore).put(unsafeKey("r", "a.bin"), enc.encode("x"))
      assert.isTrue(result.written)
      assert.strictEqual(mock.commandCalls(PutObjectCommand).length, 3)
    }).pipe(Effect.provide(layer))
  })

  it.live("still throttled after the last retry: a retryable Throttled error naming the key", () => {
    const { layer, mock } = setup()
    mock.on(HeadObjectCommand).rejects(Object.assign(new Error("nf"), { name: "NotFound" }))
    mock.on(PutObjectCommand).rejects(slowDown())
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* ObjectStore).put(unsafeKey("r", "b.bin"), enc.encode("x")))
      assert.strictEqual(error.reason, "Throttled")
      assert.isTrue(error.retryable)
      assert.strictEqual(error.key, "r/b.bin")
      assert.strictEqual(mock.commandCalls(PutObjectCommand).length, 4)
    }).pipe(Effect.provide(layer))
  })

  it.live("listing pages are retried one by one (a throttled second page does not restart the listing)", () => {
    const { layer, mock } = setup()
    mock.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [{ Key: "p/a.bin" }],
      IsTruncated: true,
      NextContinuationToken: "t2"
    })
    mock.on(ListObjectsV2Command, { ContinuationToken: "t2" }).rejectsOnce(slowDown()).resolves({
      Contents: [{ Key: "p/b.bin" }],
      IsTruncated: false
    })
    mock.on(HeadObjectCommand).resolves({ ContentLength: 1, Metadata: { sha256: "0".repeat(64) } })
    return Effect.gen(function*() {
      const keys = Chunk.toReadonlyArray(yield* Stream.runCollect((yield* ObjectStore).list("p/"))).map((o) => o.key)
      assert.deepStrictEqual(keys, ["p/a.bin", "p/b.bin"])
      const tokens = mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.ContinuationToken)
      assert.deepStrictEqual(tokens, [undefined, "t2", "t2"])
    }).pipe(Effect.provide(layer))
  })

  it.live("access denied is not retried", () => {
    const { layer, mock } = setup()
    mock.on(HeadObjectCommand).rejects(
      Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } })
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* ObjectStore).put(unsafeKey("r", "c.bin"), enc.encode("x")))
      assert.strictEqual(error.reason, "AccessDenied")
      assert.isFalse(error.retryable)
      assert.strictEqual(mock.commandCalls(HeadObjectCommand).length, 1)
    }).pipe(Effect.provide(layer))
  })
})
