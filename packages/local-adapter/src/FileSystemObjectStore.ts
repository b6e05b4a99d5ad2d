/**
 * The `ObjectStore` port on a warehouse folder: the folder mirrors the bucket (`<root>/raw/...`,
 * `<root>/refined/...`).
 *
 * - Every call is plain node:fs, synchronous except the fsync (a backfill puts
 *   four small objects a payload; through @effect/platform's asynchronous `FileSystem` each of their
 *   ~20 calls was a hand-off to libuv's thread pool and an effect around it). Folders this instance
 *   created are remembered, so a put into a known folder makes no `mkdir`; a folder removed behind
 *   its back (another process, `b3 forget`) is created again when the write finds it missing.
 *   A listing reads one folder per step, so a long walk lets the event loop run between folders.
 * - Writes are atomic: the bytes go to `.tmp-<random>` in the target folder (a name the key grammar
 *   can never produce, since a key's name cannot start with `.`), then are renamed over the key. The
 *   temp file is fsynced before the rename only for keys under the `durable` prefixes (see `Options`).
 * - Writing identical bytes is a no-op (`written: false`, no event): the existing file is hashed
 *   (hashes are cached by path, size and mtime, so a re-run does not read every file twice).
 * - `list` walks only folders that can hold keys under the prefix, skips temp files and anything
 *   else outside the key grammar, and returns keys in key order with their sizes: one `stat` per
 *   object, never a read of its bytes (hashes are computed on `put` and `head` only).
 * - Failures carry the path: EACCES/EPERM/EROFS -> `AccessDenied`, ENOSPC -> `NoSpace`, others `Unknown`.
 *
 * @since 0.1.0
 */
import * as ObjectStorePort from "@b3-pipeline/core/ObjectStore"
import { isValidKey, ObjectStore, ObjectStoreError, sha256Hex } from "@b3-pipeline/core/ObjectStore"
import type { ListedObject, ObjectInfo, ObjectKey, ObjectStoreService } from "@b3-pipeline/core/ObjectStore"
import { PAYLOAD_PREFIX, QUARANTINE_PREFIX } from "@b3-pipeline/core/Tables"
import * as Path from "@effect/platform/Path"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { classify, describe } from "./internal/fsError.js"
import { Lru } from "./internal/lru.js"
import type { Io } from "./internal/nodeIo.js"
import { nodeIo } from "./internal/nodeIo.js"

/**
 * A file's etag, from its stat alone: size, modification time and inode. Every write is an atomic
 * rename of a new file (a new inode and mtime) and identical bytes are never rewritten, so the etag
 * changes exactly when the object's bytes may have. (Only three rewrites of equal size within one
 * clock tick that also reuse the first file's inode could repeat an etag.)
 */
const etagOf = (size: number, mtime: number, ino: number): string =>
  `${size.toString(16)}-${mtime.toString(16)}-${ino.toString(16)}`

/** Hashes and folders an instance keeps in memory (the objects of the latest dates). */
const CACHED_OBJECTS = 4096

/** Prefix of the temporary files this store writes (never a valid key name). @category constants */
export const TEMP_PREFIX = ".tmp-"

/**
 * Prefixes fsynced by default: the payload archive and the quarantine hold the only copy of what B3
 * served (the history cannot be fetched again), so they must survive a power loss. Everything else
 * (raw Parquet, refined/, serving/) is derived from them and is rebuilt by re-running ingest/refine.
 * Without fsync a write is still atomic against a crash or SIGKILL of the process (temp + rename: the
 * kernel has the bytes once `write` returns); only a power loss or kernel crash could lose a recent
 * derived file, at a saving of 6-18 ms per write on this class of disk.
 *
 * @category constants
 */
export const DURABLE_PREFIXES: ReadonlyArray<string> = [PAYLOAD_PREFIX, QUARANTINE_PREFIX]

/** @category models */
export interface Options {
  /**
   * Which writes are fsynced before their rename: `true` every write, `false` none, or the keys under
   * these prefixes. Default `DURABLE_PREFIXES`.
   */
  readonly durable?: boolean | ReadonlyArray<string>
  /** The filesystem calls (node:fs by default; tests inject failures). */
  readonly io?: Io
}

const durableTest = (durable: Options["durable"]): (key: string) => boolean => {
  const option = durable ?? DURABLE_PREFIXES
  if (option === true) return () => true
  if (option === false) return () => false
  return (key) => option.some((prefix) => key.startsWith(prefix))
}

/** A temp name no other writer picks (no clock involved: a random UUID). */
const randomSuffix = (): string => randomUUID()

/**
 * Builds the store on `root` (created on first write).
 *
 * @category constructors
 */
export const make = (
  root: string,
  options: Options = {}
): Effect.Effect<ObjectStoreService, never, Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const isDurable = durableTest(options.durable)
    // Bounded: a backfill writes or heads each object once or twice, in date order.
    const hashCache = new Lru<string, { readonly size: number; readonly mtime: number; readonly sha256: string }>(
      CACHED_OBJECTS
    )

    const pathOf = (key: string): string => path.join(root, ...key.split("/"))

    const fail = (method: string, key: string, file: string) => (cause: unknown): ObjectStoreError => {
      const reason = classify(cause)
      return new ObjectStoreError({
        reason: reason === "NotFound" ? "Unknown" : reason,
        method,
        key,
        detail: describe(file, cause),
        cause
      })
    }

    const io = options.io ?? nodeIo
    /** Folders this instance created or found (the latest ones): a put into one of them makes no `mkdir`. */
    const folders = new Lru<string, true>(CACHED_OBJECTS)

    const infoOf = (method: string, key: string, file: string) =>
      Effect.try({
        try: (): Option.Option<ObjectInfo> => {
          const stat = io.stat(file)
          if (stat === undefined || !stat.isFile) return Option.none()
          const etag = etagOf(stat.size, stat.mtime, stat.ino)
          const cached = hashCache.get(file)
          if (cached !== undefined && cached.size === stat.size && cached.mtime === stat.mtime) {
            return Option.some({ key: key as ObjectKey, size: stat.size, sha256: cached.sha256, etag })
          }
          const bytes = io.readFile(file)
          if (bytes === undefined) return Option.none() // removed between the stat and the read
          const sha256 = sha256Hex(bytes)
          hashCache.set(file, { size: bytes.byteLength, mtime: stat.mtime, sha256 })
          return Option.some({ key: key as ObjectKey, size: bytes.byteLength, sha256, etag })
        },
        catch: fail(method, key, file)
      })

    /** Opens a new temp file in `dir`, creating `dir` first unless this instance already did. */
    const openTemp = (dir: string, temp: string): number => {
      if (folders.has(dir)) {
        try {
          return io.openExclusive(temp)
        } catch (e) {
          if (classify(e) !== "NotFound") throw e
          folders.delete(dir) // the folder was removed behind this instance's back: create it again
        }
      }
      io.mkdir(dir)
      folders.set(dir, true)
      return io.openExclusive(temp)
    }

    /**
     * Temp file, bytes, fsync (durable keys), close, rename over the key: a reader sees the old
     * object or the new one, never a part. On failure the temp file is removed. Uninterruptible,
     * so an interrupted put leaves no open descriptor and no temp file.
     */
    const writeAtomic = (key: string, file: string, body: Uint8Array) => {
      const dir = path.dirname(file)
      const temp = path.join(dir, `${TEMP_PREFIX}${randomSuffix()}`)
      let fd: number | undefined
      const cleanUp = Effect.sync(() => {
        if (fd !== undefined) {
          try {
            io.close(fd)
          } catch {
            // already failing: the first error is the one reported
          }
          fd = undefined
        }
        try {
          io.unlink(temp)
        } catch {
          // never created, or already gone
        }
      })
      const open = Effect.try({
        try: () => {
          fd = openTemp(dir, temp)
          if (body.byteLength > 0) io.writeAll(fd, body)
        },
        catch: fail("put", key, file)
      })
      const sync = Effect.async<void, ObjectStoreError>((resume) => {
        io.fsync(fd as number, (error) =>
          resume(error === undefined || error === null ? Effect.void : Effect.fail(fail("put", key, file)(error))))
      })
      const commit = Effect.try({
        try: () => {
          const opened = fd as number
          fd = undefined
          io.close(opened)
          io.rename(temp, file)
        },
        catch: fail("put", key, file)
      })
      return Effect.uninterruptible(
        open.pipe(
          Effect.zipRight(isDurable(key) ? sync : Effect.void),
          Effect.zipRight(commit),
          Effect.tapError(() =>
            cleanUp
          )
        )
      )
    }

    const get = (key: ObjectKey) => {
      const file = pathOf(key)
      return Effect.try({
        try: () => Option.fromNullable(io.readFile(file)),
        catch: fail("get", key, file)
      })
    }

    const write = (key: ObjectKey, body: Uint8Array, { sha256 }: { readonly sha256: string }) =>
      Effect.gen(function*() {
        const file = pathOf(key)
        yield* writeAtomic(key, file, body)
        // The new file's stat: its etag, and the cache entry that makes the next put of the same bytes cheap.
        const stat = yield* Effect.try({
          try: () => io.stat(file),
          catch: fail("put", key, file)
        })
        if (stat === undefined) {
          hashCache.delete(file)
          return yield* Effect.fail(fail("put", key, file)(new Error("ENOENT: gone right after its rename")))
        }
        hashCache.set(file, { size: body.byteLength, mtime: stat.mtime, sha256 })
        return etagOf(stat.size, stat.mtime, stat.ino)
      })

    /**
     * Every key under `prefix`, sorted, walking only folders that can match. One synchronous
     * `readdir` per folder, each its own step, so a long walk still lets the event loop run between
     * folders: a year's raw table is ~9,250 folders, and through the asynchronous `FileSystem` each
     * was a thread-pool round trip (a backfill's re-check listed its 250 date folders in 1.2-1.8 s).
     */
    const listKeys = (prefix: string) =>
      Effect.gen(function*() {
        const out: Array<string> = []
        const walk = (folderKey: string): Effect.Effect<void, ObjectStoreError> => {
          const dir = folderKey === "" ? root : pathOf(folderKey.slice(0, -1))
          return Effect.flatMap(
            Effect.try({
              try: () => {
                const subs: Array<string> = []
                for (const name of io.readdir(dir) ?? []) {
                  if (name.startsWith(".")) continue
                  if (name.includes(".")) {
                    const key = folderKey + name
                    if (key.startsWith(prefix) && isValidKey(key)) out.push(key)
                  } else {
                    const sub = `${folderKey}${name}/`
                    if (sub.startsWith(prefix) || prefix.startsWith(sub)) subs.push(sub)
                  }
                }
                return subs
              },
              catch: fail("list", prefix, dir)
            }),
            (subs) => Effect.forEach(subs, walk, { discard: true })
          )
        }
        yield* walk("")
        return out.sort()
      })

    const list = (prefix: string) =>
      Stream.unwrap(
        Effect.gen(function*() {
          const keys = yield* listKeys(prefix)
          // stat'd 256 keys a step (an effect per key cost more than its stat)
          return Stream.fromIterable(keys).pipe(
            Stream.rechunk(256),
            Stream.mapChunksEffect((chunk) => {
              let key = ""
              return Effect.try({
                try: () => {
                  const out: Array<ListedObject> = []
                  for (key of chunk) {
                    const stat = io.stat(pathOf(key))
                    // removed between the walk and the stat: not listed
                    if (stat !== undefined && stat.isFile) {
                      out.push({
                        key: key as ObjectKey,
                        size: stat.size,
                        etag: etagOf(stat.size, stat.mtime, stat.ino)
                      })
                    }
                  }
                  return Chunk.unsafeFromArray(out)
                },
                catch: (cause) => fail("list", key, pathOf(key))(cause)
              })
            })
          )
        })
      )

    const del = (key: ObjectKey) =>
      Effect.suspend(() => {
        const file = pathOf(key)
        hashCache.delete(file)
        return Effect.try({
          try: () => {
            try {
              io.unlink(file)
            } catch (e) {
              if (classify(e) !== "NotFound") throw e
            }
          },
          catch: fail("delete", key, file)
        })
      })

    return yield* ObjectStorePort.make({
      bucket: root,
      get,
      head: (key) => infoOf("head", key, pathOf(key)),
      write,
      list,
      delete: del
    }, { name: "FileSystemObjectStore" })
  })

/**
 * The store on a warehouse folder.
 *
 * @category layers
 */
export const layer = (
  root: string,
  options: Options = {}
): Layer.Layer<ObjectStore, never, Path.Path> => Layer.effect(ObjectStore, make(root, options))
