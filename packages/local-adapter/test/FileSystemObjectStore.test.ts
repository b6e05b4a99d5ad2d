import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import { suite } from "@b3-pipeline/core/testing/ObjectStoreContract"
import { NodeContext } from "@effect/platform-node"
import * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FileSystemObjectStore from "../src/FileSystemObjectStore.js"
import { cleanupWarehouses, tempWarehouse } from "./fixtures.js"

afterAll(cleanupWarehouses)

suite(
  "filesystem",
  Layer.unwrapScoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return FileSystemObjectStore.layer(yield* fs.makeTempDirectoryScoped())
  })).pipe(Layer.provide(NodeContext.layer))
)

const bytes = (s: string) => new TextEncoder().encode(s)

/** A FileSystem whose writes fail with an errno (a full disk, a read-only mount). */
const failingWrites = (code: string) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (real) => {
      const error = (method: string, p: string) =>
        new PlatformError.SystemError({
          reason: code === "EROFS" ? "PermissionDenied" : "Unknown",
          module: "FileSystem",
          method,
          pathOrDescriptor: p,
          syscall: method,
          description: `${code}: injected, ${method} '${p}'`,
          cause: Object.assign(new Error(`${code}: injected`), { code })
        })
      return {
        ...real,
        open: (p: string, options?: FileSystem.OpenFileOptions) =>
          options?.flag?.startsWith("w") === true ? Effect.fail(error("open", p)) : real.open(p, options),
        writeFile: (p: string) => Effect.fail(error("writeFile", p))
      } as FileSystem.FileSystem
    })
  ).pipe(Layer.provide(NodeContext.layer))

describe("FileSystemObjectStore", () => {
  it.effect("writes files under the warehouse, atomically, leaving no temp file; lists skip temp files", () => {
    const root = tempWarehouse()
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const key = "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV/part-00000.parquet" as ObjectKey
      yield* store.put(key, bytes("v1"))
      const dir = path.join(root, "raw/b3_portfolio_raw/ref_date=2025-04-07/index_code=IBOV")
      assert.deepStrictEqual(fs.readdirSync(dir), ["part-00000.parquet"])
      fs.writeFileSync(path.join(dir, ".tmp-left-by-a-crash"), "half")
      fs.writeFileSync(path.join(dir, "not a key.parquet"), "stray")
      const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("raw/")))
      assert.deepStrictEqual(listed.map((i) => i.key), [key])
      assert.strictEqual(fs.readFileSync(path.join(root, key), "utf8"), "v1")
    }).pipe(Effect.provide(FileSystemObjectStore.layer(root).pipe(Layer.provide(NodeContext.layer))))
  })

  it.effect("a file changed behind the store's back is re-hashed (no stale no-op)", () => {
    const root = tempWarehouse()
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const key = "a/b.txt" as ObjectKey
      yield* store.put(key, bytes("one"))
      fs.writeFileSync(path.join(root, key), "other bytes")
      fs.utimesSync(path.join(root, key), new Date(0), new Date(1000))
      assert.strictEqual((yield* store.put(key, bytes("one"))).written, true)
      assert.strictEqual(fs.readFileSync(path.join(root, key), "utf8"), "one")
    }).pipe(Effect.provide(FileSystemObjectStore.layer(root).pipe(Layer.provide(NodeContext.layer))))
  })

  it.effect("a full disk is NoSpace with the path, and nothing is left behind", () => {
    const root = tempWarehouse()
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const error = yield* Effect.flip(store.put("x/y.bin" as ObjectKey, bytes("data")))
      assert.strictEqual(error.reason, "NoSpace")
      assert.strictEqual(error.key, "x/y.bin")
      assert.include(error.detail ?? "", path.join(root, "x"))
      assert.include(error.message, "ENOSPC")
      assert.notInclude(error.message, "    at ")
      assert.deepStrictEqual(fs.readdirSync(path.join(root, "x")), [])
      assert.isTrue(Option.isNone(yield* store.get("x/y.bin" as ObjectKey)))
    }).pipe(
      Effect.provide(
        FileSystemObjectStore.layer(root).pipe(Layer.provide(failingWrites("ENOSPC")), Layer.provide(NodeContext.layer))
      )
    )
  })

  it.effect("a read-only warehouse is AccessDenied with the path", () => {
    const root = tempWarehouse()
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const error = yield* Effect.flip(store.put("x/y.bin" as ObjectKey, bytes("data")))
      assert.strictEqual(error.reason, "AccessDenied")
      assert.include(error.detail ?? "", root)
      assert.include(error.detail ?? "", "EROFS")
    }).pipe(
      Effect.provide(
        FileSystemObjectStore.layer(root).pipe(Layer.provide(failingWrites("EROFS")), Layer.provide(NodeContext.layer))
      )
    )
  })

  it.effect("a warehouse under a regular file cannot be written: AccessDenied naming the path", () => {
    const file = path.join(tempWarehouse(), "a-file")
    fs.writeFileSync(file, "not a folder")
    const root = path.join(file, "warehouse")
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      const error = yield* Effect.flip(store.put("x/y.bin" as ObjectKey, bytes("data")))
      assert.strictEqual(error.reason, "AccessDenied")
      assert.include(error.detail ?? "", root)
      // reads of such a store are absent values or typed errors, never defects
      const got = yield* Effect.either(store.get("x/y.bin" as ObjectKey))
      assert.isTrue(got._tag === "Left" ? got.left._tag === "ObjectStoreError" : Option.isNone(got.right))
    }).pipe(Effect.provide(FileSystemObjectStore.layer(root).pipe(Layer.provide(NodeContext.layer))))
  })
})

/** The real FileSystem, counting the fsyncs of the files it opens. */
const countingSyncs = (counter: { syncs: number }) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (real) => ({
      ...real,
      open: (p: string, options?: FileSystem.OpenFileOptions) =>
        Effect.map(real.open(p, options), (handle) =>
          Object.defineProperty(Object.create(handle), "sync", {
            value: Effect.zipRight(Effect.sync(() => counter.syncs++), handle.sync)
          }) as FileSystem.File)
    } as FileSystem.FileSystem))
  ).pipe(Layer.provide(NodeContext.layer))

describe("FileSystemObjectStore durability", () => {
  const payloadKey = "raw/b3_portfolio_payloads/index_code=IBOV/fetched=2025-04-07/page-001.json" as ObjectKey
  const refinedKey = "refined/b3_portfolio_refined/ref_date=2025-04-07/ticker=PETR4/part-00000.parquet" as ObjectKey
  const syncsWith = (options: FileSystemObjectStore.Options) => {
    const root = tempWarehouse()
    const counter = { syncs: 0 }
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* store.put(payloadKey, bytes("payload"))
      yield* store.put(refinedKey, bytes("derived"))
      assert.strictEqual(fs.readFileSync(path.join(root, ...payloadKey.split("/")), "utf8"), "payload")
      assert.strictEqual(fs.readFileSync(path.join(root, ...refinedKey.split("/")), "utf8"), "derived")
      return counter.syncs
    }).pipe(
      Effect.provide(
        FileSystemObjectStore.layer(root, options).pipe(
          Layer.provide(countingSyncs(counter)),
          Layer.provide(NodeContext.layer)
        )
      )
    )
  }

  it.effect("by default fsyncs the payload archive only; durable: true fsyncs all, false none", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* syncsWith({}), 1)
      assert.strictEqual(yield* syncsWith({ durable: true }), 2)
      assert.strictEqual(yield* syncsWith({ durable: false }), 0)
      assert.strictEqual(yield* syncsWith({ durable: ["refined/"] }), 1)
    }))
})
