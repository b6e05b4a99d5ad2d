/**
 * Payloads from bytes you already have: a saved B3 response body or downloaded CSV, from memory
 * (`fromBytes`) or from a file through @effect/platform's `FileSystem` (`fromFile`). The request
 * record of the single page is filled in (method `BYTES` or `FILE`, the file's URL and mtime), so
 * the raw layer archives it like a fetched one.
 *
 * The method is told from the bytes (`B3Wire.detectMethod`: JSON with a `date` -> `GetPortfolioDay`,
 * other JSON -> `GetTheoricalPortfolio`, anything else -> `GetDownloadPortfolioDay`, whose codec reads
 * both the base64 body and the decoded CSV); the index code from the options, else a CSV's title
 * line, else the file name (`IBOVDia_03-10-25.csv`). JSON bodies carry no index code.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { detectMethod } from "./B3Wire.js"
import type { Language, RefDate, Segment } from "./Domain.js"
import { ALL_INDEX_CODES, IndexCode } from "./Domain.js"
import type { FetchMethod, Payload, RequestRecord } from "./PortfolioSource.js"
import { request } from "./PortfolioSource.js"

/** @category errors */
export class PayloadInputError extends Schema.TaggedError<PayloadInputError>()("PayloadInputError", {
  reason: Schema.Literal("Unreadable", "UnknownIndex"),
  /** The file, or the `name` given to `fromBytes`. */
  path: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.path ?? "payload"}: ${this.detail}`
  }
  get retryable(): boolean {
    return false
  }
}

/** @category models */
export interface PayloadOptions {
  readonly indexCode?: IndexCode | undefined
  /** Detected from the bytes when absent. */
  readonly method?: FetchMethod | undefined
  /** Detected from the text by the codec when absent (`pt-br` is recorded in the request). */
  readonly language?: Language | undefined
  readonly segment?: Segment | undefined
  /** The date, for payloads that carry none (`GetTheoricalPortfolio`), or to override it. */
  readonly refDate?: RefDate | undefined
  /** ISO time of the fetch; now by default (`fromFile`: the file's mtime). */
  readonly fetchedAt?: string | undefined
  /** For messages and the request record; `fromFile` passes the path. */
  readonly name?: string | undefined
  readonly origin?: string | undefined
}

const knownCodes = new Set<string>(ALL_INDEX_CODES)

/** The index code named in a file name (`IBOVDia_03-10-25.csv`, `GetPortfolioDay_IBXX_...json`). @category parsing */
export const indexFromName = (file: string): IndexCode | undefined => {
  const base = file.split(/[\\/]/).pop() ?? file
  for (const token of base.split(/[^A-Za-z0-9]+|(?<=[A-Z0-9])(?=Dia)/)) {
    const upper = token.replace(/Dia$/, "")
    if (knownCodes.has(upper)) return upper as IndexCode
  }
  return undefined
}

/** The index code in a CSV's title line (`IBOV - Carteira do Dia 03/10/25`), through a UTF-8 or UTF-16LE BOM. */
const titleIndex = (bytes: Uint8Array): IndexCode | undefined => {
  const head = bytes.subarray(0, 400)
  const text = head[0] === 0xff && head[1] === 0xfe ?
    new TextDecoder("utf-16le").decode(head.subarray(2)) :
    new TextDecoder("latin1").decode(head).replace(/^\u00ef\u00bb\u00bf/, "")
  const code = /^\s*([A-Z][A-Z0-9]{2,5}) - /.exec(text)?.[1]
  return code !== undefined && Schema.is(IndexCode)(code) ? code : undefined
}

const build = (
  bytes: Uint8Array,
  options: PayloadOptions,
  page: { readonly method: string; readonly url: string; readonly startedAt: string }
): Effect.Effect<Payload, PayloadInputError> => {
  // a CSV's title names its index: it wins over a guess from the file name (only indexCode overrides it)
  const indexCode = options.indexCode ?? titleIndex(bytes) ??
    (options.name !== undefined ? indexFromName(options.name) : undefined)
  if (indexCode === undefined) {
    return Effect.fail(
      new PayloadInputError({
        reason: "UnknownIndex",
        ...(options.name !== undefined ? { path: options.name } : {}),
        detail: "cannot tell the index code (JSON bodies carry none): give indexCode, e.g. IBOV"
      })
    )
  }
  const req = request(indexCode, {
    method: options.method ?? detectMethod(bytes),
    ...(options.language !== undefined ? { language: options.language } : {}),
    ...(options.segment !== undefined ? { segment: options.segment } : {})
  })
  const record: RequestRecord = {
    method: page.method,
    url: page.url,
    params: { index: indexCode, language: req.language },
    status: 200,
    headers: {},
    startedAt: page.startedAt,
    durationMs: 0,
    attempt: 1
  }
  return Effect.succeed(
    {
      request: req,
      pages: [{ bytes, request: record }],
      fetchedAt: options.fetchedAt ?? page.startedAt,
      origin: options.origin ?? (options.name !== undefined ? `bytes:${options.name}` : "bytes"),
      ...(options.refDate !== undefined ? { refDate: options.refDate } : {})
    } satisfies Payload
  )
}

/**
 * A one-page payload from bytes in memory.
 *
 * @category constructors
 */
export const fromBytes = (bytes: Uint8Array, options: PayloadOptions = {}): Effect.Effect<Payload, PayloadInputError> =>
  Effect.flatMap(Clock.currentTimeMillis, (ms) => {
    const at = options.fetchedAt ?? new Date(ms).toISOString()
    return build(bytes, options, {
      method: "BYTES",
      url: `bytes:${options.name ?? "payload"}`,
      startedAt: at
    })
  })

/** The absolute form of a path (POSIX or Windows), without touching the file system. */
const absolutePath = (file: string): string =>
  file.startsWith("/") || /^[A-Za-z]:[\\/]/.test(file) ?
    file :
    `${typeof process !== "undefined" ? process.cwd() : ""}/${file.replace(/^\.\//, "")}`

/**
 * A one-page payload from a file, read through `FileSystem` (`NodeFileSystem.layer` on Node). The
 * fetch time is the file's modification time unless given.
 *
 * @category constructors
 */
export const fromFile = (
  file: string,
  options: PayloadOptions = {}
): Effect.Effect<Payload, PayloadInputError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const unreadable = (e: { readonly message: string }) =>
      new PayloadInputError({ reason: "Unreadable", path: file, detail: `cannot read: ${e.message}` })
    const bytes = yield* fs.readFile(file).pipe(Effect.mapError(unreadable))
    const info = yield* fs.stat(file).pipe(Effect.mapError(unreadable))
    const mtime = info.mtime._tag === "Some" ?
      info.mtime.value.toISOString() :
      new Date(yield* Clock.currentTimeMillis).toISOString()
    const absolute = absolutePath(file)
    return yield* build(bytes, { name: file, origin: `file:${absolute}`, ...options }, {
      method: "FILE",
      url: `file://${absolute}`,
      startedAt: options.fetchedAt ?? mtime
    })
  })
