/**
 * `ObjectStore` on Amazon S3 (or an S3-compatible store such as s3rver or MinIO).
 *
 * - `put` is idempotent: a `HeadObject` first, and identical bytes (same SHA-256) are not written
 *   again (`written: false`). New bytes go up with `x-amz-meta-sha256` (hex) and `ChecksumSHA256`
 *   (base64, verified by S3 on arrival).
 * - `head` reports the SHA-256 from the metadata, falling back to S3's full-object
 *   `ChecksumSHA256`, and at last to hashing the bytes (objects written by other tools). `list`
 *   reports keys and sizes from ListObjectsV2 alone: no request per object.
 * - Every S3 call goes through `internal/retry.ts` (`Retry.call`): throttling (`SlowDown`, 503) and
 *   network/service failures are retried there with the adapters' one policy, and a failure that
 *   is still transient after the last retry is a `Throttled`/`Unavailable` (retryable) error.
 * - `list` pages with `ListObjectsV2` (each page one retried call); S3 returns keys in UTF-8 binary
 *   order, which for this key grammar (ASCII) is the code-unit order of the other backends. (s3rver,
 *   the emulator the tests use, orders by its folder walk instead, which breaks order and
 *   continuation when an object `a.x` sits beside a folder `a/`: its contract run uses whole pages.)
 * - `events`: S3's notifications go to Lambda through the bucket notification, not to this
 *   process. With `events: "local"` the store publishes a record for each write made through this
 *   instance (what the other backends do); by default the stream fails with `Unavailable`.
 *
 * @since 0.1.0
 */
import type { _Object, HeadObjectCommandOutput } from "@aws-sdk/client-s3"
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand
} from "@aws-sdk/client-s3"
import * as ObjectStorePort from "@b3-pipeline/core/ObjectStore"
import { ObjectStore, ObjectStoreError, sha256Hex } from "@b3-pipeline/core/ObjectStore"
import type { ListedObject, ObjectInfo, ObjectKey } from "@b3-pipeline/core/ObjectStore"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { S3 } from "./ClientS3.js"
import { classify, describe } from "./internal/awsError.js"
import type { AwsFailure } from "./internal/awsError.js"
import * as Retry from "./internal/retry.js"

/** @category models */
export interface S3ObjectStoreConfig {
  readonly bucket: string
  /** Region written into locally published event records. */
  readonly region?: string | undefined
  /** Keys per `ListObjectsV2` page (S3's maximum, 1000, by default). */
  readonly pageSize?: number | undefined
  /** `"local"`: publish events for writes through this instance; `"none"` (default): fail the stream. */
  readonly events?: "local" | "none" | undefined
  /** Retry policy of every S3 call (default `Retry.defaultPolicy`: 200 ms doubling, 4 retries). */
  readonly retry?: Retry.RetryPolicy | undefined
}

const reasonOf = (failure: AwsFailure): ObjectStoreError["reason"] => {
  switch (failure) {
    case "AccessDenied":
      return "AccessDenied"
    case "Throttled":
      return "Throttled"
    case "Unavailable":
    case "Aborted":
      return "Unavailable"
    case "InvalidInput":
      return "InvalidKey"
    default:
      return "Unknown"
  }
}

const toError = (method: string, key: string | undefined, cause: unknown) =>
  new ObjectStoreError({
    reason: reasonOf(classify(cause)),
    method,
    ...(key !== undefined ? { key } : {}),
    detail: describe(cause),
    cause
  })

const HEX = /^[0-9a-f]{64}$/

/** A full-object ChecksumSHA256 (base64, no `-N` part suffix) as hex. */
const checksumHex = (checksum: string | undefined): string | undefined => {
  if (checksum === undefined || checksum.includes("-")) return undefined
  const hex = Buffer.from(checksum, "base64").toString("hex")
  return HEX.test(hex) ? hex : undefined
}

/** S3's ETag without its quotes (`"abc"` -> `abc`), the object's version identity in `ListedObject`. */
const etagOf = (etag: string | undefined): string => (etag ?? "").replace(/^"|"$/g, "")

const make = (config: S3ObjectStoreConfig) =>
  Effect.gen(function*() {
    const s3 = yield* S3
    const bucket = config.bucket

    const call = <A>(method: string, key: string | undefined, f: (signal: AbortSignal) => Promise<A>) =>
      Retry.call(f, { onError: (cause) => toError(method, key, cause), policy: config.retry })

    /** Absent (404 / NoSuchKey) as `None`. */
    const optional = <A>(
      method: string,
      key: string,
      f: (signal: AbortSignal) => Promise<A>
    ): Effect.Effect<Option.Option<A>, ObjectStoreError> =>
      call(method, key, async (signal) => {
        try {
          return Option.some(await f(signal))
        } catch (cause) {
          if (classify(cause) === "NotFound") return Option.none<A>()
          throw cause
        }
      })

    const readBody = (method: string, key: ObjectKey) =>
      optional(method, key, async (abortSignal) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal })
        if (out.Body === undefined) return new Uint8Array(0)
        return await out.Body.transformToByteArray()
      })

    const headRaw = (method: string, key: ObjectKey) =>
      optional(
        method,
        key,
        (abortSignal) =>
          s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }), { abortSignal })
      )

    /** ObjectInfo from a HeadObject, hashing the bytes when neither metadata nor checksum says. */
    const infoFromHead = (
      method: string,
      key: ObjectKey,
      out: HeadObjectCommandOutput
    ): Effect.Effect<Option.Option<ObjectInfo>, ObjectStoreError> => {
      const fromMeta = out.Metadata?.["sha256"]
      const known = fromMeta !== undefined && HEX.test(fromMeta) ? fromMeta : checksumHex(out.ChecksumSHA256)
      const size = out.ContentLength ?? 0
      const etag = etagOf(out.ETag)
      if (known !== undefined) return Effect.succeed(Option.some<ObjectInfo>({ key, size, sha256: known, etag }))
      return readBody(method, key).pipe(
        Effect.map(
          Option.map((body): ObjectInfo => ({ key, size: body.byteLength, sha256: sha256Hex(body), etag }))
        )
      )
    }

    const head = (method: string, key: ObjectKey): Effect.Effect<Option.Option<ObjectInfo>, ObjectStoreError> =>
      headRaw(method, key).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(Option.none<ObjectInfo>()),
          onSome: (out) => infoFromHead(method, key, out)
        }))
      )

    return yield* ObjectStorePort.make({
      bucket,
      get: (key) => readBody("get", key),
      head: (key) => head("head", key),
      write: (key, body, { contentType, sha256 }) =>
        call("put", key, (abortSignal) =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: body.byteLength,
              ContentType: contentType ?? "application/octet-stream",
              Metadata: { sha256 },
              // S3 verifies the bytes on arrival against this full-object checksum (base64).
              ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64")
            }),
            { abortSignal }
          )).pipe(Effect.map((written) => etagOf(written.ETag))),
      list: (prefix) =>
        Retry.pages(
          (token, abortSignal) =>
            s3.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                MaxKeys: config.pageSize ?? 1000,
                ...(prefix !== "" ? { Prefix: prefix } : {}),
                ...(token !== undefined ? { ContinuationToken: token } : {})
              }),
              { abortSignal }
            ),
          (page) => (page.IsTruncated === true ? page.NextContinuationToken : undefined),
          { onError: (cause) => toError("list", prefix, cause), policy: config.retry }
        ).pipe(
          // S3 sends each page in key order; S3-compatible stores may not (s3rver walks its folder tree),
          // so each page is sorted (a no-op on S3). Order ACROSS pages is the server's to keep.
          Stream.mapConcat((page) =>
            (page.Contents ?? []).slice().sort((
              a,
              b
            ) => ((a.Key ?? "") < (b.Key ?? "") ? -1 : a.Key === b.Key ? 0 : 1))
          ),
          Stream.filter((o): o is _Object & { Key: string } => o.Key !== undefined),
          Stream.map((o): ListedObject => ({
            key: o.Key as ObjectKey,
            size: Number(o.Size ?? 0),
            etag: etagOf(o.ETag)
          }))
        ),
      delete: (key) =>
        call(
          "delete",
          key,
          (abortSignal) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal })
        ).pipe(
          Effect.asVoid,
          Effect.catchIf((e) => e.reason === "Unknown" && classify(e.cause) === "NotFound", () => Effect.void)
        )
    }, {
      name: "S3ObjectStore",
      region: config.region ?? "local",
      events: config.events === "local" ?
        true :
        "S3 delivers object-created events through the bucket notification (Lambda), not to this process"
    })
  })

/** @category layers */
export const layer = (config: S3ObjectStoreConfig): Layer.Layer<ObjectStore, never, S3> =>
  Layer.effect(ObjectStore, make(config))

/** @category layers */
export const layerConfig = (
  config: Config.Config.Wrap<S3ObjectStoreConfig>
): Layer.Layer<ObjectStore, ConfigError.ConfigError, S3> =>
  Layer.effect(ObjectStore, Effect.flatMap(Config.unwrap(config), make))
