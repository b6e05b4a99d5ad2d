import type { ObjectKey } from "@b3-pipeline/core/ObjectStore"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import { suite } from "@b3-pipeline/core/testing/ObjectStoreContract"
import { NodeContext } from "@effect/platform-node"
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
import type { Io } from "../src/internal/nodeIo.js"
import { nodeIo } from "../src/internal/nodeIo.js"
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

/** An errno error as node:fs throws it. */
const errno = (code: string, syscall: string, p: string) =>
  Object.assign(new Error(`${code}: injected, ${syscall} '${p}'`), { code, syscall, path: p })

/** The store's filesystem calls, with writes failing with an errno (a full disk, a read-only mount). */
const failingWrites = (code: string): Io => ({
  ...nodeIo,
  openExclusive: (p) => {
    throw errno(code, "open", p)
  }
})
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
        FileSystemObjectStore.layer(root, { io: failingWrites("ENOSPC") }).pipe(Layer.provide(NodeContext.layer))
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
        FileSystemObjectStore.layer(root, { io: failingWrites("EROFS") }).pipe(Layer.provide(NodeContext.layer))
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

/** The store's filesystem calls, recording each call (name and file) in `calls`. */
const recording = (calls: Array<string>, base: Io = nodeIo): Io => {
  const fds = new Map<number, string>()
  const name = (p: string) => path.basename(p).startsWith(FileSystemObjectStore.TEMP_PREFIX) ? "temp" : path.basename(p)
  return {
    ...base,
    mkdir: (dir) => {
      calls.push(`mkdir ${path.basename(dir)}`)
      base.mkdir(dir)
    },
    openExclusive: (p) => {
      calls.push(`open ${name(p)}`)
      const fd = base.openExclusive(p)
      fds.set(fd, name(p))
      return fd
    },
    writeAll: (fd, b) => {
      calls.push(`write ${fds.get(fd)}`)
      base.writeAll(fd, b)
    },
    fsync: (fd, done) => {
      calls.push(`fsync ${fds.get(fd)}`)
      base.fsync(fd, done)
    },
    close: (fd) => {
      calls.push(`close ${fds.get(fd)}`)
      base.close(fd)
    },
    rename: (from, to) => {
      calls.push(`rename ${name(from)} ${name(to)}`)
      base.rename(from, to)
    },
    unlink: (p) => {
      calls.push(`unlink ${name(p)}`)
      base.unlink(p)
    }
  }
}

describe("FileSystemObjectStore writes", () => {
  const payloadKey = "raw/b3_portfolio_payloads/ref_date=2025-04-07/index_code=IBOV/abc/page-001.json" as ObjectKey
  const withIo = (root: string, io: Io) =>
    Effect.provide(FileSystemObjectStore.layer(root, { io }).pipe(Layer.provide(NodeContext.layer)))

  it.effect("a durable put: temp file, bytes, fsync, close, then the rename over the key", () => {
    const root = tempWarehouse()
    const calls: Array<string> = []
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* store.put(payloadKey, bytes("payload"))
      assert.deepStrictEqual(calls, [
        "mkdir abc",
        "open temp",
        "write temp",
        "fsync temp",
        "close temp",
        "rename temp page-001.json"
      ])
      assert.deepStrictEqual(fs.readdirSync(path.dirname(path.join(root, payloadKey))), ["page-001.json"])
    }).pipe(withIo(root, recording(calls)))
  })

  it.effect("a put into a folder it created makes no mkdir; a folder removed behind its back is created again", () => {
    const root = tempWarehouse()
    const calls: Array<string> = []
    return Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* store.put("a/b/one.txt" as ObjectKey, bytes("1"))
      yield* store.put("a/b/two.txt" as ObjectKey, bytes("2"))
      assert.deepStrictEqual(calls.filter((c) => c.startsWith("mkdir")), ["mkdir b"])
      // removed by someone else (another process, `b3 forget`) after this store created it
      fs.rmSync(path.join(root, "a"), { recursive: true })
      yield* store.put("a/b/two.txt" as ObjectKey, bytes("2"))
      yield* store.put("a/b/three.txt" as ObjectKey, bytes("3"))
      assert.deepStrictEqual(calls.filter((c) => c.startsWith("mkdir")), ["mkdir b", "mkdir b"])
      assert.deepStrictEqual(fs.readdirSync(path.join(root, "a", "b")).sort(), ["three.txt", "two.txt"])
      assert.strictEqual(fs.readFileSync(path.join(root, "a", "b", "two.txt"), "utf8"), "2")
    }).pipe(withIo(root, recording(calls)))
  })

  it.effect("a write failing after its temp file was opened (disk full, fsync error) leaves the old object and no temp file", () => {
    const root = tempWarehouse()
    const calls: Array<string> = []
    const key = "raw/b3_portfolio_payloads/x/page-001.json" as ObjectKey
    const dir = path.join(root, "raw", "b3_portfolio_payloads", "x")
    const failing = (what: "writeAll" | "fsync"): Io =>
      recording(calls, {
        ...nodeIo,
        ...(what === "writeAll" ?
          {
            writeAll: (fd: number) => {
              throw errno("ENOSPC", "write", String(fd))
            }
          } :
          { fsync: (_fd: number, done: (e: unknown) => void) => done(errno("EIO", "fsync", "")) })
      })
    return Effect.gen(function*() {
      yield* Effect.provide(
        Effect.flatMap(ObjectStore, (store) => store.put(key, bytes("old"))),
        FileSystemObjectStore.layer(root).pipe(Layer.provide(NodeContext.layer))
      )
      for (const what of ["writeAll", "fsync"] as const) {
        calls.length = 0
        const error = yield* Effect.flip(
          Effect.flatMap(ObjectStore, (store) => store.put(key, bytes("new"))).pipe(
            withIo(root, failing(what))
          )
        )
        assert.strictEqual(error.reason, what === "writeAll" ? "NoSpace" : "Unknown")
        assert.include(error.detail ?? "", path.join(dir, "page-001.json"))
        assert.deepStrictEqual(calls.slice(-2), ["close temp", "unlink temp"])
        assert.notInclude(calls.join(","), "rename")
        assert.deepStrictEqual(fs.readdirSync(dir), ["page-001.json"])
        assert.strictEqual(fs.readFileSync(path.join(dir, "page-001.json"), "utf8"), "old")
      }
    })
  })
})

/** The store's filesystem calls, counting fsyncs. */
const countingSyncs = (counter: { syncs: number }): Io => ({
  ...nodeIo,
  fsync: (fd, done) => {
    counter.syncs++
    nodeIo.fsync(fd, done)
  }
})

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
        FileSystemObjectStore.layer(root, { ...options, io: countingSyncs(counter) }).pipe(
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
