/**
 * The `ObjectStore` contract, written once and run against every backend (memory here; the
 * filesystem and S3 stores in their packages): `suite("filesystem", layer)`.
 *
 * Each test works under its own random folder, so backends shared across tests (`it.layer`) and
 * re-runs against a persistent store do not interfere.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FC from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import type { ObjectKey } from "../ObjectStore.js"
import { isValidKey, ObjectStore, recordKey } from "../ObjectStore.js"

const FOLDER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=-".split("")

const chars = (alphabet: ReadonlyArray<string>, min: number, max: number) =>
  FC.array(FC.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(""))

/** A folder segment of the key grammar (short, to keep keys readable). */
export const folderArbitrary: FC.Arbitrary<string> = chars(FOLDER_CHARS, 1, 12)

/** An object name of the key grammar: contains a `.`, does not end with one. */
export const nameArbitrary: FC.Arbitrary<string> = FC.tuple(
  FC.constantFrom(...FOLDER_CHARS),
  chars([...FOLDER_CHARS, "."], 0, 10),
  chars(FOLDER_CHARS, 1, 5)
).map(([first, middle, ext]) => `${first}${middle}.${ext}`)

/**
 * Arbitrary valid object keys: 0-3 folders then a name. Every value passes `isValidKey`.
 *
 * @category arbitraries
 */
export const keyArbitrary: FC.Arbitrary<ObjectKey> = FC.tuple(
  FC.array(folderArbitrary, { maxLength: 3 }),
  nameArbitrary
)
  .map(([folders, name]) => [...folders, name].join("/") as ObjectKey)

/** Keys that break the grammar, one per rule. */
export const invalidKeys: ReadonlyArray<string> = [
  "",
  "noext",
  "a/noext",
  "/a.x",
  "a//b.x",
  "a/../b.x",
  "../b.x",
  "a.x/b.y",
  "a b.x",
  "a/b c/d.x",
  "a\\b.x",
  "a'b.x",
  "a/b.",
  ".hidden",
  "a/" + "x".repeat(129) + "/b.x",
  "ünï/b.x"
]

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const bytesOf = (s: string) => new TextEncoder().encode(s)
let counter = 0
const freshFolder = () =>
  `contract-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** Options for backends that cannot offer every feature. */
export interface SuiteOptions {
  /** `false` for stores whose `events` fail with `Unavailable` (S3: notifications go elsewhere). */
  readonly events?: boolean
  /** fast-check runs per property (default 50). */
  readonly numRuns?: number
}

/**
 * Runs the ObjectStore contract against `layer` (built once for the suite).
 */
export const suite = <E>(name: string, layer: Layer.Layer<ObjectStore, E>, options: SuiteOptions = {}) => {
  const numRuns = options.numRuns ?? 50
  describe(`ObjectStore contract (${name})`, () => {
    it.layer(layer, { timeout: "60 seconds" })((it) => {
      it.effect("put then get returns the same bytes; head reports size and sha256", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${freshFolder()}/a/b.json` as ObjectKey
          const body = bytesOf("{\"hello\":\"wörld\"}")
          const put = yield* store.put(key, body)
          assert.strictEqual(put.written, true)
          assert.strictEqual(put.key, key)
          assert.strictEqual(put.size, body.byteLength)
          assert.strictEqual(put.sha256, sha256(body))
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(key)), body)
          const head = Option.getOrThrow(yield* store.head(key))
          assert.deepStrictEqual(head, { key, size: body.byteLength, sha256: sha256(body), etag: put.etag })
          assert.isTrue(put.etag.length > 0)
        }))

      it.effect("absent keys are None for get and head", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${freshFolder()}/missing.bin` as ObjectKey
          assert.isTrue(Option.isNone(yield* store.get(key)))
          assert.isTrue(Option.isNone(yield* store.head(key)))
        }))

      it.effect("a second put of the same bytes writes nothing; different bytes replace", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${freshFolder()}/x.txt` as ObjectKey
          const first = yield* store.put(key, bytesOf("one"))
          assert.strictEqual(first.written, true)
          const again = yield* store.put(key, bytesOf("one"))
          assert.strictEqual(again.written, false)
          assert.strictEqual(again.sha256, sha256(bytesOf("one")))
          // the version identity survives a no-op put, and changes with the bytes
          assert.strictEqual(again.etag, first.etag)
          const other = yield* store.put(key, bytesOf("two!"))
          assert.strictEqual(other.written, true)
          assert.strictEqual(other.size, 4)
          assert.notStrictEqual(other.etag, first.etag)
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(key)), bytesOf("two!"))
          const third = yield* store.put(key, bytesOf("six!"))
          assert.notStrictEqual(third.etag, other.etag)
          assert.strictEqual(Option.getOrThrow(yield* store.head(key)).etag, third.etag)
        }))

      it.effect("stored bytes are not aliased to the caller's buffers", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${freshFolder()}/alias.bin` as ObjectKey
          const body = new Uint8Array([1, 2, 3])
          yield* store.put(key, body)
          body[0] = 9
          const got = Option.getOrThrow(yield* store.get(key))
          assert.deepStrictEqual(got, new Uint8Array([1, 2, 3]))
          got[1] = 9
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(key)), new Uint8Array([1, 2, 3]))
        }))

      it.effect("empty objects round-trip", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${freshFolder()}/empty.bin` as ObjectKey
          const put = yield* store.put(key, new Uint8Array(0))
          assert.strictEqual(put.size, 0)
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(key)), new Uint8Array(0))
        }))

      it.effect("list returns the objects under a prefix, in key order, and nothing else", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const root = freshFolder()
          const keys = [
            `${root}/b/z.x`,
            `${root}/a.x`,
            `${root}/a/b.y`,
            `${root}/a-b/c.d`,
            `${root}/B/c.d`,
            `${root}/a/a.y`
          ]
          for (const k of keys) yield* store.put(k as ObjectKey, bytesOf(k))
          const all = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/`)))
          assert.deepStrictEqual(all.map((i) => i.key), [...keys].sort())
          // keys, sizes and version identities only: a listing never reads (nor hashes) the objects' bytes
          for (const info of all) {
            const head = Option.getOrThrow(yield* store.head(info.key))
            assert.deepStrictEqual(info, { key: info.key, size: bytesOf(info.key).byteLength, etag: head.etag })
          }
          const underA = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/a/`)))
          assert.deepStrictEqual(underA.map((i) => i.key), [`${root}/a/a.y`, `${root}/a/b.y`])
          // a prefix that is not a whole folder
          const startsA = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/a`)))
          assert.deepStrictEqual(startsA.map((i) => i.key), [
            `${root}/a-b/c.d`,
            `${root}/a.x`,
            `${root}/a/a.y`,
            `${root}/a/b.y`
          ])
          const none = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/nothing/`)))
          assert.deepStrictEqual(none, [])
        }))

      it.effect("an object named a.x and a folder a/ live side by side", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const root = freshFolder()
          const file = `${root}/a.x` as ObjectKey
          const nested = `${root}/a/b.y` as ObjectKey
          const folderLike = `${root}/a/a.x` as ObjectKey
          yield* store.put(file, bytesOf("file"))
          yield* store.put(nested, bytesOf("nested"))
          yield* store.put(folderLike, bytesOf("deeper"))
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(file)), bytesOf("file"))
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(nested)), bytesOf("nested"))
          assert.deepStrictEqual(Option.getOrThrow(yield* store.get(folderLike)), bytesOf("deeper"))
        }))

      it.effect("delete removes an object; deleting an absent key succeeds", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const root = freshFolder()
          const key = `${root}/gone.bin` as ObjectKey
          const kept = `${root}/kept.bin` as ObjectKey
          yield* store.put(key, bytesOf("x"))
          yield* store.put(kept, bytesOf("y"))
          yield* store.delete(key)
          assert.isTrue(Option.isNone(yield* store.get(key)))
          assert.isTrue(Option.isNone(yield* store.head(key)))
          yield* store.delete(key)
          const left = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/`)))
          assert.deepStrictEqual(left.map((i) => i.key), [kept])
          // a deleted key can be written again, as a new object
          assert.strictEqual((yield* store.put(key, bytesOf("x"))).written, true)
        }))

      it.effect("keys that break the grammar fail with InvalidKey on every method", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          for (const bad of invalidKeys) {
            assert.isFalse(isValidKey(bad), bad)
            const key = bad as ObjectKey
            for (
              const [method, effect] of [
                ["put", store.put(key, bytesOf("x"))],
                ["get", store.get(key)],
                ["head", store.head(key)],
                ["delete", store.delete(key)]
              ] as const
            ) {
              const exit = yield* Effect.exit(effect as Effect.Effect<unknown, { readonly reason: string }>)
              assert.isTrue(Exit.isFailure(exit), `${method} ${JSON.stringify(bad)} should fail`)
              const reason = yield* Effect.flip(effect as Effect.Effect<unknown, { readonly reason: string }>).pipe(
                Effect.map((e) => e.reason)
              )
              assert.strictEqual(reason, "InvalidKey", `${method} ${JSON.stringify(bad)}`)
            }
          }
          const listBad = yield* Effect.flip(Stream.runCollect(store.list("a b/")))
          assert.strictEqual(listBad.reason, "InvalidKey")
        }))

      if (options.events !== false) {
        it.effect("every write emits one object-created event with its key; a no-op put emits none", () =>
          Effect.gen(function*() {
            const store = yield* ObjectStore
            const root = freshFolder()
            const first = `${root}/one.json` as ObjectKey
            const second = `${root}/sub/two.json` as ObjectKey
            const collector = yield* store.events.pipe(
              Stream.filter((r) => recordKey(r).startsWith(`${root}/`)),
              Stream.take(3),
              Stream.runCollect,
              Effect.fork
            )
            for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
            yield* store.put(first, bytesOf("1"))
            yield* store.put(first, bytesOf("1")) // identical: no event
            yield* store.put(second, bytesOf("2"))
            yield* store.put(first, bytesOf("3")) // replaced: an event
            const records = Chunk.toReadonlyArray(yield* Fiber.join(collector))
            assert.deepStrictEqual(records.map(recordKey), [first, second, first])
            for (const r of records) {
              assert.strictEqual(r.eventSource, "aws:s3")
              assert.isTrue(r.eventName.startsWith("ObjectCreated:"))
              assert.strictEqual(r.s3.bucket.name, store.bucket)
            }
            assert.strictEqual(records[0]?.s3.object.size, 1)
          }))
      }

      it.effect.prop(
        "arbitrary valid keys round-trip and list under their folder",
        { key: keyArbitrary, body: FC.uint8Array({ maxLength: 64 }) },
        ({ body, key }) =>
          Effect.gen(function*() {
            const store = yield* ObjectStore
            const root = freshFolder()
            const full = `${root}/${key}` as ObjectKey
            assert.isTrue(isValidKey(full))
            const put = yield* store.put(full, body)
            assert.strictEqual(put.written, true)
            assert.deepStrictEqual(Option.getOrThrow(yield* store.get(full)), body)
            const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/`)))
            assert.deepStrictEqual(listed.map((i) => i.key), [full])
            yield* store.delete(full)
            assert.isTrue(Option.isNone(yield* store.head(full)))
          }),
        { fastCheck: { numRuns } }
      )

      it.effect.prop(
        "sibling objects and folders of arbitrary names coexist, listed in key order",
        { keys: FC.uniqueArray(keyArbitrary, { minLength: 1, maxLength: 6 }) },
        ({ keys }) =>
          Effect.gen(function*() {
            const store = yield* ObjectStore
            const root = freshFolder()
            const fulls = keys.map((k) => `${root}/${k}` as ObjectKey)
            for (const k of fulls) yield* store.put(k, bytesOf(k))
            const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(`${root}/`)))
            assert.deepStrictEqual(listed.map((i) => i.key), [...fulls].sort())
            for (const k of fulls) assert.deepStrictEqual(Option.getOrThrow(yield* store.get(k)), bytesOf(k))
          }),
        { fastCheck: { numRuns } }
      )

      it.effect.prop(
        "strings outside the grammar are rejected with InvalidKey",
        { text: FC.string({ maxLength: 40 }) },
        ({ text }) =>
          Effect.gen(function*() {
            const store = yield* ObjectStore
            if (isValidKey(text)) return
            const error = yield* Effect.flip(store.put(text as ObjectKey, bytesOf("x")))
            assert.strictEqual(error.reason, "InvalidKey")
          }),
        { fastCheck: { numRuns } }
      )
    })
  })
}
