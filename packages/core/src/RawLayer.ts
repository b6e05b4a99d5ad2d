/**
 * The `RawLayer` port (stage 3, write raw): the exact payload bytes and a Parquet file of the rows,
 * under deterministic keys, safe to re-run; and the quarantine for payloads that fail to parse.
 *
 * Layout (see `Tables.ts`):
 * - `raw/b3_portfolio_raw/ref_date=D/index_code=C/part-00000.parquet`: the table file, replaced
 *   atomically when a different payload arrives for the same (index, date);
 * - `raw/b3_portfolio_payloads/ref_date=D/index_code=C/<sha256>/page-NNN.<ext>` and `request.json`: every
 *   payload ever received, keyed by content, never overwritten;
 * - `quarantine/<fetched date>/<index>/<sha256>/page-NNN.<ext>` and `error.json`.
 *
 * `<sha256>` is the SHA-256 of all pages' bytes concatenated in page order (for one page, the hash
 * of the file: `cat page-*.json | sha256sum` checks it). Page extensions: `.json` for JSON bodies,
 * `.txt` for the base64 `GetDownloadPortfolioDay` body, `.csv` for CSV files.
 *
 * `fetched_at` in the Parquet is the time of the FIRST fetch of those exact bytes: `request.json`
 * is written once per payload hash and never overwritten, and a later fetch of identical bytes
 * reads its `fetchedAt` back. So the Parquet is a function of the payload bytes and the first
 * fetch, and re-fetching an unchanged portfolio is "unchanged" (no object, no event). The request
 * records of such later identical fetches are not kept (they add nothing to the data's history).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { B3ParseError } from "./B3ParseError.js"
import type { IndexCode, Portfolio, RefDate } from "./Domain.js"
import { sha256Hex } from "./internal/hash.js"
import { encodeRawParquet } from "./internal/rawParquetEncode.js"
import type { ObjectKey } from "./ObjectStore.js"
import { ObjectStore, ObjectStoreError, unsafeKey } from "./ObjectStore.js"
import type { Payload } from "./PortfolioSource.js"
import { PAYLOAD_PREFIX, QUARANTINE_PREFIX, rawParquetKey } from "./Tables.js"

/** @category models */
export interface RawWrite {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  readonly parquetKey: ObjectKey
  readonly payloadKeys: ReadonlyArray<ObjectKey>
  readonly rows: number
  /** `unchanged`: the same payload was already stored; nothing was written, no event fired. */
  readonly outcome: "created" | "replaced" | "unchanged"
}

/**
 * What a `RawLayerError` wraps: the store's own typed error (reason `Store`), or the `Error` thrown
 * while encoding or decoding (anything thrown that is not an `Error` is wrapped in one).
 * Narrow with `cause instanceof ObjectStoreError` (or `Predicate.isTagged(cause, "ObjectStoreError")`).
 *
 * @category errors
 */
export const RawLayerErrorCause = Schema.Union(ObjectStoreError, Schema.instanceOf(Error))
/** @category errors */
export type RawLayerErrorCause = typeof RawLayerErrorCause.Type

/** @category errors */
export class RawLayerError extends Schema.TaggedError<RawLayerError>()("RawLayerError", {
  reason: Schema.Literal("Store", "Encode", "Decode"),
  method: Schema.String,
  key: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(RawLayerErrorCause)
}) {
  override get message(): string {
    return `RawLayer.${this.method} failed (${this.reason})${this.key !== undefined ? ` for ${this.key}` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  /** Derived from the cause: a throttled or unavailable store is worth another try; bad bytes are not. */
  get retryable(): boolean {
    return this.cause instanceof ObjectStoreError && this.cause.retryable
  }
}

const asError = (cause: unknown): Error => cause instanceof Error ? cause : new Error(String(cause))

/** @category tags */
export class RawLayer extends Context.Tag("@b3-pipeline/core/RawLayer")<RawLayer, {
  readonly write: (payload: Payload, portfolio: Portfolio) => Effect.Effect<RawWrite, RawLayerError>
  /** Keeps a payload that failed to parse, with its error beside it. Returns the error file's key. */
  readonly quarantine: (payload: Payload, error: B3ParseError) => Effect.Effect<ObjectKey, RawLayerError>
}>() {}

// ---------------------------------------------------------------------------------------------
// The implementation, on any ObjectStore
// ---------------------------------------------------------------------------------------------

/** SHA-256 (hex) of a payload: all pages' bytes concatenated in page order. @category keys */
export const payloadSha256 = (payload: Payload): string => {
  const [only, ...more] = payload.pages
  if (only !== undefined && more.length === 0) return sha256Hex(only.bytes)
  const total = payload.pages.reduce((n, p) => n + p.bytes.byteLength, 0)
  const all = new Uint8Array(total)
  let at = 0
  for (const p of payload.pages) {
    all.set(p.bytes, at)
    at += p.bytes.byteLength
  }
  return sha256Hex(all)
}

const firstNonSpace = (bytes: Uint8Array): number => {
  for (const b of bytes.subarray(0, 4096)) {
    // skip whitespace and a UTF-8 BOM
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf) return b
  }
  return -1
}

/** The file extension of a payload page: `json`, `txt` (base64 download) or `csv`. @category keys */
export const pageExtension = (payload: Payload, bytes: Uint8Array): "json" | "txt" | "csv" => {
  const first = firstNonSpace(bytes)
  if (payload.request.method === "GetDownloadPortfolioDay") {
    // the base64 body, sometimes JSON-quoted; a saved, already decoded CSV is still a CSV
    return bytes.subarray(0, 4096).includes(0x3b) ? "csv" : "txt"
  }
  if (first === 0x7b || first === 0x5b) return "json"
  return bytes.subarray(0, 4096).includes(0x3b) ? "csv" : "txt"
}

/** Key of page `i` (0-based) under a payload folder. @category keys */
const pageKey = (folder: string, i: number, ext: string): ObjectKey =>
  unsafeKey(`${folder}page-${String(i + 1).padStart(3, "0")}.${ext}`)

/** Folder of an archived payload. @category keys */
export const payloadFolder = (refDate: RefDate, indexCode: IndexCode, sha256: string): string =>
  `${PAYLOAD_PREFIX}ref_date=${refDate}/index_code=${indexCode}/${sha256}/`

/** Folder of a quarantined payload. @category keys */
export const quarantineFolder = (payload: Payload, sha256: string): string =>
  folderOf(payload.fetchedAt, payload.request.indexCode, sha256)

/** The quarantine folder of a fetch time, an index code (one that could not name a folder: `unknown-index`) and a hash. */
const folderOf = (fetchedAt: string, indexCode: string, sha256: string): string => {
  const day = /^\d{4}-\d{2}-\d{2}/.test(fetchedAt) ? fetchedAt.slice(0, 10) : "undated"
  const index = /^[A-Za-z0-9_=-]{1,128}$/.test(indexCode) ? indexCode : "unknown-index"
  return `${QUARANTINE_PREFIX}${day}/${index}/${sha256}/`
}

/** The `error` object of a quarantine folder's `error.json`. */
const errorDocument = (error: B3ParseError) => ({
  _tag: error._tag,
  reason: error.reason,
  format: error.format,
  ...(error.page !== undefined ? { page: error.page } : {}),
  ...(error.row !== undefined ? { row: error.row } : {}),
  ...(error.field !== undefined ? { field: error.field } : {}),
  ...(error.value !== undefined ? { value: error.value } : {}),
  detail: error.detail,
  message: error.message
})

const encoder = new TextEncoder()
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value, null, 2) + "\n")

const storeError = (method: string) => (cause: ObjectStoreError) =>
  new RawLayerError({
    reason: "Store",
    method,
    ...(cause.key !== undefined ? { key: cause.key } : {}),
    detail: cause.message,
    cause
  })

const requestDocument = (payload: Payload, sha256: string, keys: ReadonlyArray<ObjectKey>) => ({
  payloadSha256: sha256,
  fetchedAt: payload.fetchedAt,
  origin: payload.origin,
  request: payload.request,
  ...(payload.refDate !== undefined ? { refDate: payload.refDate } : {}),
  pages: payload.pages.map((p, i) => ({
    key: keys[i],
    size: p.bytes.byteLength,
    sha256: sha256Hex(p.bytes),
    request: p.request
  }))
})

/**
 * The raw layer on an `ObjectStore`: platform-neutral, shared by every backend.
 *
 * @category constructors
 */
export const make: Effect.Effect<Context.Tag.Service<RawLayer>, never, ObjectStore> = Effect.gen(function*() {
  const store = yield* ObjectStore

  const putPages = (method: string, payload: Payload, folder: string) =>
    Effect.forEach(payload.pages, (page, i) => {
      const key = pageKey(folder, i, pageExtension(payload, page.bytes))
      return store.put(key, page.bytes).pipe(Effect.as(key))
    }).pipe(Effect.mapError(storeError(method)))

  /** The first fetch time of these bytes, from their `request.json`, when they were archived before. */
  const firstFetchedAt = (key: ObjectKey) =>
    store.get(key).pipe(
      Effect.mapError(storeError("write")),
      Effect.flatMap(Option.match({
        onNone: () => Effect.succeed(Option.none<string>()),
        onSome: (bytes) =>
          Effect.try({
            try: () => {
              const doc = JSON.parse(new TextDecoder().decode(bytes)) as { fetchedAt?: unknown }
              if (typeof doc.fetchedAt !== "string") throw new Error("no fetchedAt")
              return Option.some(doc.fetchedAt)
            },
            catch: (cause) =>
              new RawLayerError({
                reason: "Decode",
                method: "write",
                key,
                detail: `unreadable request.json: ${String(cause)}`,
                cause: asError(cause)
              })
          })
      }))
    )

  const write = Effect.fn("RawLayer.write")(function*(payload: Payload, portfolio: Portfolio) {
    const sha256 = payloadSha256(payload)
    const folder = payloadFolder(portfolio.refDate, portfolio.indexCode, sha256)
    const requestKey = unsafeKey(`${folder}request.json`)
    const previous = yield* firstFetchedAt(requestKey)
    const fetchedAt = Option.getOrElse(previous, () => payload.fetchedAt)
    const pageKeys = yield* putPages("write", payload, folder)
    if (Option.isNone(previous)) {
      yield* store.put(requestKey, json(requestDocument(payload, sha256, pageKeys)), {
        contentType: "application/json"
      })
        .pipe(Effect.mapError(storeError("write")))
    }
    const parquetKey = rawParquetKey(portfolio.refDate, portfolio.indexCode)
    const bytes = yield* Effect.try({
      try: () => encodeRawParquet(portfolio, { payloadSha256: sha256, fetchedAt }),
      catch: (cause) =>
        new RawLayerError({
          reason: "Encode",
          method: "write",
          key: parquetKey,
          detail: String(cause),
          cause: asError(cause)
        })
    })
    const before = yield* store.head(parquetKey).pipe(Effect.mapError(storeError("write")))
    // the payload objects are in place: now the Parquet, whose creation triggers the refine
    const put = yield* store.put(parquetKey, bytes, { contentType: "application/vnd.apache.parquet" })
      .pipe(Effect.mapError(storeError("write")))
    const outcome: RawWrite["outcome"] = !put.written ? "unchanged" : Option.isSome(before) ? "replaced" : "created"
    return {
      indexCode: portfolio.indexCode,
      refDate: portfolio.refDate,
      parquetKey,
      payloadKeys: [...pageKeys, requestKey],
      rows: portfolio.size,
      outcome
    } satisfies RawWrite
  })

  const quarantine = Effect.fn("RawLayer.quarantine")(function*(payload: Payload, error: B3ParseError) {
    const sha256 = payloadSha256(payload)
    const folder = quarantineFolder(payload, sha256)
    const pageKeys = yield* putPages("quarantine", payload, folder)
    const errorKey = unsafeKey(`${folder}error.json`)
    const doc = {
      error: errorDocument(error),
      ...requestDocument(payload, sha256, pageKeys)
    }
    yield* store.put(errorKey, json(doc), { contentType: "application/json" }).pipe(
      Effect.mapError(storeError("quarantine"))
    )
    return errorKey
  })

  return RawLayer.of({ write, quarantine })
})

/** What is known of a payload too large to load: where it came from and its SHA-256 (computed by streaming). @category models */
export interface LargePayload {
  readonly indexCode: string
  readonly fetchedAt: string
  readonly origin: string
  readonly sha256: string
  readonly size: number
  /** Page extension (`csv`, `json`, `txt`). */
  readonly extension: string
}

/**
 * Quarantines a payload too large to hold in memory (a `TooLarge` error): its bytes arrive as a
 * stream of chunks, each stored as `page-001.<ext>.part-NNNNN` under the usual quarantine folder,
 * so memory stays at one chunk. `cat page-001.<ext>.part-*` rebuilds the file; `error.json`
 * lists the parts. Returns the error file's key.
 *
 * @category constructors
 */
export const quarantineStream = <E>(
  payload: LargePayload,
  chunks: Stream.Stream<Uint8Array, E>,
  error: B3ParseError
): Effect.Effect<ObjectKey, RawLayerError | E, ObjectStore> =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const folder = folderOf(payload.fetchedAt, payload.indexCode, payload.sha256)
    const parts: Array<ObjectKey> = []
    yield* Stream.runForEach(chunks, (chunk) => {
      const key = unsafeKey(`${folder}page-001.${payload.extension}.part-${String(parts.length + 1).padStart(5, "0")}`)
      parts.push(key)
      return store.put(key, chunk).pipe(Effect.mapError(storeError("quarantine")))
    })
    const errorKey = unsafeKey(`${folder}error.json`)
    const doc = {
      error: errorDocument(error),
      payloadSha256: payload.sha256,
      fetchedAt: payload.fetchedAt,
      origin: payload.origin,
      size: payload.size,
      parts,
      rebuild: `cat ${folder}page-001.${payload.extension}.part-* > page-001.${payload.extension}`
    }
    yield* store.put(errorKey, json(doc), { contentType: "application/json" }).pipe(
      Effect.mapError(storeError("quarantine"))
    )
    return errorKey
  }).pipe(Effect.withSpan("RawLayer.quarantineStream"))

/**
 * `RawLayer` on whatever `ObjectStore` is provided (memory, filesystem, S3).
 *
 * @category layers
 */
export const layer: Layer.Layer<RawLayer, never, ObjectStore> = Layer.effect(RawLayer, make)
