/**
 * The `ObjectStore` port on a warehouse folder, through @effect/platform's `FileSystem`: the folder
 * mirrors the bucket (`<root>/raw/...`, `<root>/refined/...`).
 *
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
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { classify, describe } from "./internal/fsError.js"

/**
 * A file's etag, from its stat alone: size, modification time and inode. Every write is an atomic
 * rename of a new file (a new inode and mtime) and identical bytes are never rewritten, so the etag
 * changes exactly when the object's bytes may have. (Only three rewrites of equal size within one
 * clock tick that also reuse the first file's inode could repeat an etag.)
 */
const etagOf = (stat: FileSystem.File.Info): string => {
  const mtime = Option.match(stat.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
  const ino = Option.getOrElse(stat.ino, () => 0)
  return `${Number(stat.size).toString(16)}-${mtime.toString(16)}-${ino.toString(16)}`
}

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
): Effect.Effect<ObjectStoreService, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const isDurable = durableTest(options.durable)
    const hashCache = new Map<string, { readonly size: number; readonly mtime: number; readonly sha256: string }>()

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

    /** Stat of a file, `None` when absent. */
    const statFile = (method: string, key: string, file: string) =>
      fs.stat(file).pipe(
        Effect.map(Option.some),
        Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeedNone : Effect.fail(e)),
        Effect.mapError(fail(method, key, file))
      )

    const infoOf = (method: string, key: string, file: string) =>
      Effect.gen(function*() {
        const stat = yield* statFile(method, key, file)
        if (Option.isNone(stat) || stat.value.type !== "File") return Option.none<ObjectInfo>()
        const size = Number(stat.value.size)
        const mtime = Option.match(stat.value.mtime, { onNone: () => -1, onSome: (d) => d.getTime() })
        const etag = etagOf(stat.value)
        const cached = hashCache.get(file)
        if (cached !== undefined && cached.size === size && cached.mtime === mtime && mtime !== -1) {
          return Option.some<ObjectInfo>({ key: key as ObjectKey, size, sha256: cached.sha256, etag })
        }
        const bytes = yield* fs.readFile(file).pipe(Effect.mapError(fail(method, key, file)))
        const sha256 = sha256Hex(bytes)
        hashCache.set(file, { size: bytes.byteLength, mtime, sha256 })
        return Option.some<ObjectInfo>({ key: key as ObjectKey, size: bytes.byteLength, sha256, etag })
      })

    const writeAtomic = (key: string, file: string, body: Uint8Array) =>
      Effect.gen(function*() {
        const dir = path.dirname(file)
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(fail("put", key, dir)))
        const temp = path.join(dir, `${TEMP_PREFIX}${randomSuffix()}`)
        const written = Effect.scoped(Effect.gen(function*() {
          const handle = yield* fs.open(temp, { flag: "wx" })
          if (body.byteLength > 0) yield* handle.writeAll(body)
          if (isDurable(key)) yield* handle.sync
        })).pipe(
          Effect.zipRight(fs.rename(temp, file)),
          Effect.mapError(fail("put", key, file))
        )
        yield* written.pipe(
          Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
        )
      })

    const get = (key: ObjectKey) => {
      const file = pathOf(key)
      return fs.readFile(file).pipe(
        Effect.map(Option.some),
        Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeedNone : Effect.fail(e)),
        Effect.mapError(fail("get", key, file))
      )
    }

    const write = (key: ObjectKey, body: Uint8Array, { sha256 }: { readonly sha256: string }) =>
      Effect.gen(function*() {
        const file = pathOf(key)
        yield* writeAtomic(key, file, body)
        // The new file's stat: its etag, and the cache entry that makes the next put of the same bytes cheap.
        const stat = yield* fs.stat(file).pipe(Effect.mapError(fail("put", key, file)))
        Option.match(stat.mtime, {
          onNone: () => hashCache.delete(file),
          onSome: (d) => hashCache.set(file, { size: body.byteLength, mtime: d.getTime(), sha256 })
        })
        return etagOf(stat)
      })

    /** Every key under `prefix`, sorted, walking only folders that can match. */
    const listKeys = (prefix: string) =>
      Effect.gen(function*() {
        const out: Array<string> = []
        const walk = (folderKey: string): Effect.Effect<void, ObjectStoreError> =>
          Effect.gen(function*() {
            const dir = folderKey === "" ? root : pathOf(folderKey.slice(0, -1))
            const entries = yield* fs.readDirectory(dir).pipe(
              Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.succeed([]) : Effect.fail(e)),
              Effect.mapError(fail("list", prefix, dir))
            )
            const subs: Array<string> = []
            for (const name of entries) {
              if (name.startsWith(".")) continue
              if (name.includes(".")) {
                const key = folderKey + name
                if (key.startsWith(prefix) && isValidKey(key)) out.push(key)
              } else {
                const sub = `${folderKey}${name}/`
                if (sub.startsWith(prefix) || prefix.startsWith(sub)) subs.push(sub)
              }
            }
            // sibling folders are read concurrently (a table's history is thousands of folders)
            yield* Effect.forEach(subs, walk, { concurrency: 16, discard: true })
          })
        yield* walk("")
        return out.sort()
      })

    const list = (prefix: string) =>
      Stream.unwrap(
        Effect.gen(function*() {
          const keys = yield* listKeys(prefix)
          return Stream.fromIterable(keys).pipe(
            Stream.mapEffect((key) =>
              statFile("list", key, pathOf(key)).pipe(
                // removed between the walk and the stat: not listed
                Effect.map((stat): Option.Option<ListedObject> =>
                  Option.isSome(stat) && stat.value.type === "File" ?
                    Option.some({ key: key as ObjectKey, size: Number(stat.value.size), etag: etagOf(stat.value) }) :
                    Option.none()
                )
              ), { concurrency: 8 }),
            Stream.filterMap((o) => o)
          )
        })
      )

    const del = (key: ObjectKey) =>
      Effect.gen(function*() {
        const file = pathOf(key)
        hashCache.delete(file)
        yield* fs.remove(file).pipe(
          Effect.catchAll((e) => classify(e) === "NotFound" ? Effect.void : Effect.fail(e)),
          Effect.mapError(fail("delete", key, file))
        )
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
): Layer.Layer<ObjectStore, never, FileSystem.FileSystem | Path.Path> => Layer.effect(ObjectStore, make(root, options))
