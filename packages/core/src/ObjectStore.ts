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
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { sha256Hex } from "./internal/hash.js"

export {
  /** Hex SHA-256 of bytes: the digest every backend reports (one implementation for the house). */
  sha256Hex,
  /** Hex SHA-256 of a byte stream, one chunk in memory at a time. */
  sha256HexOfStream
} from "./internal/hash.js"

const FOLDER = /^[A-Za-z0-9_=-]{1,128}$/
const NAME = /^[A-Za-z0-9_=-][A-Za-z0-9_=.-]{0,127}$/

/** True when `key` follows the key grammar. @category keys */
export const isValidKey = (key: string): boolean => {
  if (key.length === 0 || key.length > 1024) return false
  const parts = key.split("/")
  const name = parts.pop()
  if (name === undefined || !NAME.test(name) || !name.includes(".") || name.endsWith(".")) return false
  return parts.every((folder) => FOLDER.test(folder))
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
 * What a backend implements: the primitive operations on keys already checked against the grammar.
 * `make` adds the rest (key checks, the "same bytes: not written" rule, the SHA-256, the events).
 *
 * @category models
 */
export interface ObjectStoreImpl {
  /** A name for the store in events and messages (the bucket, or the warehouse folder). */
  readonly bucket: string
  /** Absent is `None`. */
  readonly get: (key: ObjectKey) => Effect.Effect<Option.Option<Uint8Array>, ObjectStoreError>
  /** Absent is `None`; the SHA-256 the same as `sha256Hex` of the stored bytes. */
  readonly head: (key: ObjectKey) => Effect.Effect<Option.Option<ObjectInfo>, ObjectStoreError>
  /**
   * Writes `body` atomically, replacing any object at `key` (the caller has already seen that the
   * bytes differ); `sha256` is `sha256Hex(body)`. Returns the new version's etag.
   */
  readonly write: (
    key: ObjectKey,
    body: Uint8Array,
    written: { readonly sha256: string; readonly contentType: string | undefined }
  ) => Effect.Effect<string, ObjectStoreError>
  /** Every object whose key starts with `prefix` (a valid prefix), in key order. */
  readonly list: (prefix: string) => Stream.Stream<ListedObject, ObjectStoreError>
  /** Deleting an absent key succeeds. */
  readonly delete: (key: ObjectKey) => Effect.Effect<void, ObjectStoreError>
}

/** @category models */
export interface MakeOptions {
  /** Names the spans of `put` and `get` (`<name>.put`); none without it. */
  readonly name?: string | undefined
  /** Region written into the event records (default `"local"`). */
  readonly region?: string | undefined
  /**
   * `true` (default): publish an object-created record for each write through this instance. A
   * string: no events, and the `events` stream fails with `Unavailable` and this detail.
   */
  readonly events?: true | string | undefined
}

/** Re-labels a failure of a primitive called on behalf of another method (`head` inside `put`). */
const asMethod = (method: string) => (e: ObjectStoreError): ObjectStoreError =>
  e.method === method ? e : new ObjectStoreError({
    reason: e.reason,
    method,
    ...(e.key !== undefined ? { key: e.key } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {})
  })

/**
 * Builds the port from a backend's primitive operations. Owned here, once for every backend: the
 * key and prefix checks (`InvalidKey` before the backend is called), the SHA-256 of what is put,
 * "the same bytes again: nothing written, no event" (decided on the backend's `head`), and the
 * object-created events.
 *
 * @category constructors
 */
export const make = (impl: ObjectStoreImpl, options: MakeOptions = {}): Effect.Effect<ObjectStoreService> =>
  Effect.gen(function*() {
    const pubsub = yield* PubSub.unbounded<S3EventRecord>()
    const publishes = options.events === undefined || options.events === true
    const traced = <A, E>(method: string, key: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      options.name === undefined
        ? effect
        : Effect.withSpan(effect, `${options.name}.${method}`, { attributes: { key } })

    const put: ObjectStoreService["put"] = (key, body, putOptions) =>
      traced(
        "put",
        key,
        Effect.gen(function*() {
          yield* checkKey("put", key)
          const sha256 = sha256Hex(body)
          const existing = yield* Effect.mapError(impl.head(key), asMethod("put"))
          if (Option.isSome(existing) && existing.value.sha256 === sha256) {
            return { ...existing.value, written: false }
          }
          const etag = yield* Effect.mapError(
            impl.write(key, body, { sha256, contentType: putOptions?.contentType }),
            asMethod("put")
          )
          const info: ObjectInfo = { key, size: body.byteLength, sha256, etag }
          if (publishes) {
            const now = yield* Clock.currentTimeMillis
            yield* PubSub.publish(pubsub, makeCreatedRecord(impl.bucket, info, new Date(now), options.region))
          }
          return { ...info, written: true }
        })
      )

    return ObjectStore.of({
      bucket: impl.bucket,
      put,
      get: (key) => traced("get", key, Effect.zipRight(checkKey("get", key), impl.get(key))),
      head: (key) => Effect.zipRight(checkKey("head", key), impl.head(key)),
      list: (prefix) => Stream.unwrap(Effect.map(checkPrefix("list", prefix), () => impl.list(prefix))),
      delete: (key) => Effect.zipRight(checkKey("delete", key), impl.delete(key)),
      events: publishes ?
        Stream.fromPubSub(pubsub) :
        Stream.fail(new ObjectStoreError({ reason: "Unavailable", method: "events", detail: String(options.events) }))
    })
  })

/**
 * An in-memory store (tests, property tests). Bytes are copied in and out, so a caller mutating its
 * buffer never changes a stored object.
 *
 * @category layers
 */
export const makeMemory = (bucket = "memory"): Effect.Effect<ObjectStoreService> =>
  // suspended: each run of the effect (each build of `layerMemory`) starts from an empty store
  Effect.suspend(() => {
    const objects = new Map<string, { readonly body: Uint8Array; readonly sha256: string }>()
    const infoOf = (key: ObjectKey, o: { readonly body: Uint8Array; readonly sha256: string }): ObjectInfo => ({
      key,
      size: o.body.byteLength,
      sha256: o.sha256,
      etag: o.sha256
    })
    return make({
      bucket,
      get: (key) => Effect.sync(() => Option.map(Option.fromNullable(objects.get(key)), (o) => o.body.slice())),
      head: (key) => Effect.sync(() => Option.map(Option.fromNullable(objects.get(key)), (o) => infoOf(key, o))),
      write: (key, body, { sha256 }) =>
        Effect.sync(() => {
          objects.set(key, { body: body.slice(), sha256 })
          return sha256
        }),
      list: (prefix) =>
        Stream.suspend(() =>
          Stream.fromIterable(
            [...objects.entries()].filter(([k]) => k.startsWith(prefix)).sort((
              [a],
              [b]
            ) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, o]): ListedObject => ({ key: k as ObjectKey, size: o.body.byteLength, etag: o.sha256 }))
          )
        ),
      delete: (key) => Effect.sync(() => void objects.delete(key))
    })
  })

/** @category layers */
export const layerMemory: Layer.Layer<ObjectStore> = Layer.effect(ObjectStore, makeMemory())
