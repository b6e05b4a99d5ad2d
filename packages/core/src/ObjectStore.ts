/**
 * The `ObjectStore` port: put/get/list/delete of immutable byte objects by a key grammar that is
 * valid on S3 and on a filesystem, plus a stream of object-created events shaped like S3's.
 *
 * Key grammar (decided here, honoured by every backend): segments joined by `/`; each segment is
 * 1-128 characters of `[A-Za-z0-9_=-]` plus `.`; the LAST segment (the object's name) must contain a
 * `.` and no other segment may. So a key can never also be the folder of another key (`a.x` next
 * to `a.x/b.y` is impossible), `..` cannot appear as a segment, and no quote, space or backslash
 * ever reaches a path or SQL string.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { sha256Hex } from "./internal/hash.js"

const FOLDER = /^[A-Za-z0-9_=-]{1,128}$/
const NAME = /^[A-Za-z0-9_=-][A-Za-z0-9_=.-]{0,127}$/

/** True when `key` follows the key grammar. @category keys */
export const isValidKey = (key: string): boolean => {
  if (key.length === 0 || key.length > 1024) return false
  const parts = key.split("/")
  const name = parts[parts.length - 1]!
  if (!NAME.test(name) || !name.includes(".") || name.endsWith(".")) return false
  for (let i = 0; i < parts.length - 1; i++) if (!FOLDER.test(parts[i]!)) return false
  return true
}

/** An object key that follows the grammar above. @category keys */
export const ObjectKey = Schema.String.pipe(
  Schema.filter(isValidKey, { message: (i) => `invalid object key ${JSON.stringify(i.actual)}` }),
  Schema.brand("ObjectKey")
)
/** @category keys */
export type ObjectKey = typeof ObjectKey.Type

/** A listing prefix: `""`, or folders ending in `/` (`raw/`), or the start of a key. @category keys */
export const isValidPrefix = (prefix: string): boolean => prefix === "" || /^[A-Za-z0-9_=./-]{1,1024}$/.test(prefix)

/** Builds a key from parts, throwing a defect on a grammar violation (programmer error). @category keys */
export const unsafeKey = (...parts: ReadonlyArray<string>): ObjectKey => {
  const key = parts.join("/")
  if (!isValidKey(key)) throw new Error(`invalid object key ${JSON.stringify(key)}`)
  return key as ObjectKey
}

/**
 * What a listing says of an object: its key and size, known without reading the object (S3's
 * ListObjectsV2, a directory walk). @category models
 */
export interface ListedObject {
  readonly key: ObjectKey
  readonly size: number
  /**
   * The stored version's identity, as cheap as the listing: equal while the object is not rewritten,
   * different once other bytes are written (S3: the ETag, as Glue/boto3 sees it too; filesystem: from
   * `stat`; memory: the digest). Writing identical bytes again keeps it. Opaque: compare, never parse.
   */
  readonly etag: string
}

/** @category models */
export interface ObjectInfo extends ListedObject {
  /** Hex SHA-256 of the bytes (every backend computes it the same way). */
  readonly sha256: string
}

/** @category models */
export interface PutResult extends ObjectInfo {
  /** `false` when an identical object was already there: nothing was written, no event emitted. */
  readonly written: boolean
}

/** @category models */
export interface PutOptions {
  readonly contentType?: string
}

// ---------------------------------------------------------------------------------------------
// S3-shaped object-created events
// ---------------------------------------------------------------------------------------------

/** One record of an S3 event notification, the fields this project reads. @category events */
export const S3EventRecord = Schema.Struct({
  eventVersion: Schema.String,
  eventSource: Schema.Literal("aws:s3"),
  awsRegion: Schema.String,
  eventTime: Schema.String,
  eventName: Schema.String,
  s3: Schema.Struct({
    bucket: Schema.Struct({ name: Schema.String }),
    object: Schema.Struct({
      /** URL-encoded, as S3 sends it (`+` for space). */
      key: Schema.String,
      size: Schema.optional(Schema.Number),
      eTag: Schema.optional(Schema.String),
      sequencer: Schema.optional(Schema.String)
    })
  })
})
/** @category events */
export type S3EventRecord = typeof S3EventRecord.Type

/** An S3 event notification (`{ Records: [...] }`). @category events */
export const S3Event = Schema.Struct({ Records: Schema.Array(S3EventRecord) })
/** @category events */
export type S3Event = typeof S3Event.Type

/** Decodes the key of an S3 record (URL-encoded with `+` for spaces). @category events */
export const recordKey = (record: S3EventRecord): string => decodeURIComponent(record.s3.object.key.replace(/\+/g, " "))

/** Builds the event a store emits after writing an object. @category events */
export const makeCreatedRecord = (
  bucket: string,
  info: ListedObject,
  now: Date,
  region = "local"
): S3EventRecord => ({
  eventVersion: "2.1",
  eventSource: "aws:s3",
  awsRegion: region,
  eventTime: now.toISOString(),
  eventName: "ObjectCreated:Put",
  s3: {
    bucket: { name: bucket },
    object: {
      key: encodeURIComponent(info.key).replace(/%2F/g, "/"),
      size: info.size,
      eTag: info.etag,
      sequencer: now.getTime().toString(16).toUpperCase().padStart(16, "0")
    }
  }
})

// ---------------------------------------------------------------------------------------------
// Error and port
// ---------------------------------------------------------------------------------------------

/** @category errors */
export class ObjectStoreError extends Schema.TaggedError<ObjectStoreError>()("ObjectStoreError", {
  reason: Schema.Literal(
    "InvalidKey",
    "AccessDenied",
    "NoSpace",
    "Throttled",
    "Unavailable",
    "Corrupt",
    "Unknown"
  ),
  method: Schema.String,
  key: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `ObjectStore.${this.method} failed (${this.reason})${this.key !== undefined ? ` for ${this.key}` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  get retryable(): boolean {
    return this.reason === "Throttled" || this.reason === "Unavailable"
  }
}

/**
 * @category tags
 */
export class ObjectStore extends Context.Tag("@b3-pipeline/core/ObjectStore")<ObjectStore, {
  /** A name for the store in events and messages (the bucket, or the warehouse folder). */
  readonly bucket: string
  /** Writes atomically. Writing the same bytes again is a no-op (`written: false`, no event). */
  readonly put: (key: ObjectKey, body: Uint8Array, options?: PutOptions) => Effect.Effect<PutResult, ObjectStoreError>
  /** Absent is `None`, not an error. */
  readonly get: (key: ObjectKey) => Effect.Effect<Option.Option<Uint8Array>, ObjectStoreError>
  readonly head: (key: ObjectKey) => Effect.Effect<Option.Option<ObjectInfo>, ObjectStoreError>
  /**
   * Every object whose key starts with `prefix`, in key order: keys and sizes only, never the
   * objects' bytes (a listing costs O(objects listed), not O(bytes stored); `head` gives the hash).
   */
  readonly list: (prefix: string) => Stream.Stream<ListedObject, ObjectStoreError>
  /** Deleting an absent key succeeds. */
  readonly delete: (key: ObjectKey) => Effect.Effect<void, ObjectStoreError>
  /**
   * Object-created events for writes through this store instance, from subscription on. Backends
   * fed by a real notification system (S3) may not offer this; they fail the stream with reason
   * "Unavailable".
   */
  readonly events: Stream.Stream<S3EventRecord, ObjectStoreError>
}>() {}

/** The service shape, for adapters. @category models */
export type ObjectStoreService = Context.Tag.Service<ObjectStore>

const invalidKey = (method: string, key: string) =>
  new ObjectStoreError({ reason: "InvalidKey", method, key, detail: "the key breaks the key grammar" })

/**
 * Validates a key or prefix at the edge of a backend (keys are branded, but a cast can lie).
 *
 * @category constructors
 */
export const checkKey = (method: string, key: string): Effect.Effect<ObjectKey, ObjectStoreError> =>
  isValidKey(key) ? Effect.succeed(key as ObjectKey) : Effect.fail(invalidKey(method, key))

/** @category constructors */
export const checkPrefix = (method: string, prefix: string): Effect.Effect<string, ObjectStoreError> =>
  isValidPrefix(prefix) ? Effect.succeed(prefix) : Effect.fail(invalidKey(method, prefix))

/**
 * An in-memory store (tests, property tests). Bytes are copied in and out, so a caller mutating its
 * buffer never changes a stored object.
 *
 * @category layers
 */
export const makeMemory = (bucket = "memory"): Effect.Effect<ObjectStoreService> =>
  Effect.gen(function*() {
    const objects = new Map<string, { readonly body: Uint8Array; readonly sha256: string }>()
    const pubsub = yield* PubSub.unbounded<S3EventRecord>()
    const infoOf = (key: string, o: { readonly body: Uint8Array; readonly sha256: string }): ObjectInfo => ({
      key: key as ObjectKey,
      size: o.body.byteLength,
      sha256: o.sha256,
      etag: o.sha256
    })
    return ObjectStore.of({
      bucket,
      put: (key, body) =>
        Effect.gen(function*() {
          yield* checkKey("put", key)
          const sha256 = sha256Hex(body)
          const existing = objects.get(key)
          if (existing !== undefined && existing.sha256 === sha256) {
            return { ...infoOf(key, existing), written: false }
          }
          const stored = { body: body.slice(), sha256 }
          objects.set(key, stored)
          const info = infoOf(key, stored)
          yield* PubSub.publish(pubsub, makeCreatedRecord(bucket, info, new Date()))
          return { ...info, written: true }
        }),
      get: (key) =>
        checkKey("get", key).pipe(
          Effect.map(() => Option.map(Option.fromNullable(objects.get(key)), (o) => o.body.slice()))
        ),
      head: (key) =>
        checkKey("head", key).pipe(
          Effect.map(() => Option.map(Option.fromNullable(objects.get(key)), (o) => infoOf(key, o)))
        ),
      list: (prefix) =>
        Stream.unwrap(
          checkPrefix("list", prefix).pipe(Effect.map(() =>
            Stream.fromIterable(
              [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((k): ListedObject => ({
                key: k as ObjectKey,
                size: objects.get(k)!.body.byteLength,
                etag: objects.get(k)!.sha256
              }))
            )
          ))
        ),
      delete: (key) => checkKey("delete", key).pipe(Effect.map(() => void objects.delete(key))),
      events: Stream.fromPubSub(pubsub)
    })
  })

/** @category layers */
export const layerMemory: Layer.Layer<ObjectStore> = Layer.effect(ObjectStore, makeMemory())
