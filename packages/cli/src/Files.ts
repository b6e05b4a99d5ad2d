/**
 * Saved payloads on disk -> `Payload`s: a downloaded CSV (`IBOVDia_03-10-25.csv`), a saved
 * `GetPortfolioDay`/`GetTheoricalPortfolio` JSON body, a `GetDownloadPortfolioDay` base64 body, or a
 * folder archived by the raw layer (`<sha256>/page-001.json` + `request.json`).
 *
 * @since 0.1.0
 */
import * as B3Wire from "@b3-pipeline/core/B3Wire"
import { IndexCode, Language, RefDate } from "@b3-pipeline/core/Domain"
import { sha256HexOfStream } from "@b3-pipeline/core/ObjectStore"
import * as Payloads from "@b3-pipeline/core/Payloads"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import type { Payload, RequestRecord } from "@b3-pipeline/core/PortfolioSource"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** A file that cannot become a payload (unreadable, unknown index...). @category errors */
export class InputError extends Data.TaggedError("InputError")<{ readonly path: string; readonly detail: string }> {
  override get message() {
    return `${this.path}: ${this.detail}`
  }
}

/** @category models */
export interface FileOptions {
  readonly indexCode?: IndexCode | undefined
  readonly language?: Language | undefined
  readonly refDate?: RefDate | undefined
  /** `--allow-unknown-index`. */
  readonly allowUnknownIndex?: boolean | undefined
  /** `--max-payload-mb`, in bytes (default `B3Wire.DEFAULT_MAX_PAYLOAD_BYTES`). */
  readonly maxPayloadBytes?: number | undefined
}

/** The index code named in a file name (`IBOVDia_03-10-25.csv`, `GetPortfolioDay_IBXX_...json`). @category parsing */
export const indexFromName: (file: string) => IndexCode | undefined = Payloads.indexFromName

const record = (file: string, params: Record<string, unknown>, mtime: Date): RequestRecord => ({
  method: "FILE",
  url: `file://${path.resolve(file)}`,
  params,
  status: 200,
  headers: {},
  startedAt: mtime.toISOString(),
  durationMs: 0,
  attempt: 1
})

/**
 * Reads one saved payload. The index comes from `--index`, else (CSV) its title line, else the
 * file's name; the language is detected from the text unless given.
 *
 * @category constructors
 */
export const payloadFromFile = (file: string, options: FileOptions = {}): Effect.Effect<Payload, InputError> =>
  Payloads.fromFile(path.resolve(file), {
    name: file,
    indexCode: options.indexCode,
    language: options.language,
    refDate: options.refDate
  }).pipe(
    Effect.mapError((e) =>
      new InputError({
        path: file,
        detail: e.reason === "UnknownIndex" ?
          "cannot tell the index code (JSON bodies carry none): pass --index CODE, e.g. --index IBOV" :
          e.detail
      })
    ),
    Effect.provide(NodeFileSystem.layer)
  )

/** The options of `Pipeline.ingestPayload` that the file options carry. */
const ingestOptions = (options: FileOptions): B3Wire.IngestOptions => ({
  ...(options.language !== undefined ? { language: options.language } : {}),
  ...(options.allowUnknownIndex === true ? { allowUnknownIndex: true } : {}),
  ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {})
})

const CHUNK = 8 * 1024 * 1024

const fileChunks = (file: string) =>
  Stream.fromAsyncIterable(
    createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>,
    (e) => new InputError({ path: file, detail: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
  ).pipe(Stream.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)))

/**
 * A file over the size limit: never loaded, its SHA-256 computed and its bytes quarantined by
 * streaming (one chunk in memory at a time); fails with the `TooLarge` parse error.
 */
const quarantineOversized = (file: string, size: number, mtime: Date, options: FileOptions) =>
  Effect.gen(function*() {
    const error = Either.getOrThrow(Either.flip(B3Wire.checkSize("file", size, options.maxPayloadBytes)))
    const sha256 = yield* sha256HexOfStream(fileChunks(file))
    const ext = (/\.(csv|json|txt)$/i.exec(file)?.[1] ?? "txt").toLowerCase()
    yield* RawLayer.quarantineStream(
      {
        indexCode: options.indexCode ?? indexFromName(file) ?? "unknown-index",
        fetchedAt: mtime.toISOString(),
        origin: `file:${path.resolve(file)}`,
        sha256,
        size,
        extension: ext
      },
      fileChunks(file),
      error
    )
    return yield* Effect.fail(error)
  })

/**
 * Ingests one saved file (`b3 ingest --file`, `b3 replay`): the size is checked from the file's
 * metadata before anything is read (an oversized file is quarantined by streaming, never loaded),
 * then `payloadFromFile` and `Pipeline.ingestPayload` with the plausibility options.
 *
 * @category constructors
 */
export const ingestFile = (file: string, options: FileOptions = {}) =>
  Effect.gen(function*() {
    const stat = yield* Effect.tryPromise({
      try: () => fs.stat(file),
      catch: (e) =>
        new InputError({ path: file, detail: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
    })
    if (stat.size > (options.maxPayloadBytes ?? B3Wire.DEFAULT_MAX_PAYLOAD_BYTES)) {
      return yield* quarantineOversized(file, stat.size, stat.mtime, options)
    }
    const payload = yield* payloadFromFile(file, options)
    return yield* Pipeline.ingestPayload(payload, ingestOptions(options))
  })

/**
 * Ingests one archived payload folder (`b3 replay`), with the plausibility options.
 *
 * @category constructors
 */
export const ingestArchive = (dir: string, options: FileOptions = {}) =>
  Effect.flatMap(payloadFromArchive(dir), (payload) => Pipeline.ingestPayload(payload, ingestOptions(options)))

const RequestJson = Schema.Struct({
  request: Schema.Struct({
    indexCode: IndexCode,
    method: Schema.Literal("GetPortfolioDay", "GetTheoricalPortfolio", "GetDownloadPortfolioDay"),
    language: Language,
    segment: Schema.Literal("1", "2")
  }),
  fetchedAt: Schema.String,
  origin: Schema.optional(Schema.String),
  refDate: Schema.optional(RefDate),
  pages: Schema.optional(Schema.Array(Schema.Struct({ request: Schema.optional(Schema.Unknown) })))
})

/** A request record as archived (`request.json`'s `pages[].request`), when it has the record's shape. */
const isRequestRecord = (u: unknown): u is RequestRecord =>
  typeof u === "object" && u !== null && typeof (u as RequestRecord).method === "string" &&
  typeof (u as RequestRecord).url === "string" && typeof (u as RequestRecord).startedAt === "string"

/** The first schema issue on one line: `request.json: request.language: Expected ...`. */
const oneLine = (e: ParseResult.ParseError): string => {
  const first = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
  if (first === undefined) return "not the archive's shape"
  const where = first.path.length > 0 ? `${first.path.join(".")}: ` : ""
  return `${where}${(first.message.split("\n")[0] ?? "").slice(0, 160)}`
}

/**
 * Reads a payload folder archived by the raw layer (`request.json` + `page-NNN.*`).
 *
 * @category constructors
 */
export const payloadFromArchive = (dir: string): Effect.Effect<Payload, InputError> =>
  Effect.gen(function*() {
    const fail = (detail: string) => new InputError({ path: dir, detail })
    // Synchronous reads: an archived folder holds a few small files, and a replay reads thousands of
    // folders; each asynchronous read is four round trips through libuv's thread pool.
    const text = yield* Effect.try({
      try: () => readFileSync(path.join(dir, "request.json"), "utf8"),
      catch: () => fail("no readable request.json")
    })
    const meta = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => fail("request.json is not JSON")
    })
    const decoded = yield* Schema.decodeUnknown(RequestJson)(meta, { onExcessProperty: "ignore" }).pipe(
      Effect.mapError((e) => fail(`request.json: ${oneLine(e)}`))
    )
    const names = (yield* Effect.try({ try: () => readdirSync(dir), catch: () => fail("cannot list") }))
      .filter((n) => /^page-\d+\./.test(n)).sort()
    if (names.length === 0) return yield* fail("no page-NNN files")
    const pages = yield* Effect.forEach(names, (n, i) =>
      Effect.try({
        try: () => readFileSync(path.join(dir, n)),
        catch: () => fail(`cannot read ${n}`)
      }).pipe(
        Effect.map((b) => {
          // the archived record of the original fetch, so a rebuilt archive holds the same request.json
          const archived = decoded.pages?.[i]?.request
          return {
            bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
            request: isRequestRecord(archived) ?
              archived :
              record(path.join(dir, n), { ...decoded.request }, new Date(decoded.fetchedAt))
          }
        })
      ))
    return {
      request: decoded.request,
      pages,
      fetchedAt: decoded.fetchedAt,
      origin: decoded.origin ?? `archive:${path.resolve(dir)}`,
      ...(decoded.refDate !== undefined ? { refDate: decoded.refDate } : {})
    } satisfies Payload
  })

/** One input `b3 replay` found. @category models */
export interface Found {
  readonly kind: "file" | "archive"
  readonly path: string
  /** The archived `fetchedAt`, or a saved file's modification time; `""` when unreadable. */
  readonly fetchedAt: string
  /** Inputs of one group may hold the same (index, date): they run one after the other, in order. */
  readonly group: string
}

const archivedFetchedAt = (dir: string): string => {
  try {
    const doc = JSON.parse(readFileSync(path.join(dir, "request.json"), "utf8")) as { fetchedAt?: unknown }
    return typeof doc.fetchedAt === "string" ? doc.fetchedAt : ""
  } catch {
    return "" // ingesting it will say what is wrong
  }
}

/**
 * What `b3 replay DIR` will ingest: payload files and archived payload folders, ordered by fetch
 * time (`fetchedAt` of an archive's `request.json`, a saved file's modification time), then by
 * path. Ingested in that order, the payload fetched LAST of each (index, date) is the one the raw
 * table keeps, whatever the folder names (SHA-256) are: a warehouse rebuilt from its archive holds
 * what the original held. Archived folders are grouped by their `ref_date=/index_code=` folder;
 * saved files, whose (index, date) is only known once parsed, form one group.
 *
 * @category parsing
 */
export const discover = (dir: string): Effect.Effect<ReadonlyArray<Found>, InputError> =>
  Effect.try({
    // synchronous calls: a year's archive is ~9,000 folders of two small files (see payloadFromArchive)
    try: () => {
      const out: Array<Found> = []
      const walk = (d: string): void => {
        const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
        if (entries.some((e) => e.isFile() && e.name === "request.json")) {
          out.push({ kind: "archive", path: d, fetchedAt: archivedFetchedAt(d), group: path.dirname(d) })
          return
        }
        for (const e of entries) {
          const p = path.join(d, e.name)
          if (e.isDirectory()) walk(p)
          else if (e.isFile() && /\.(csv|json|txt)$/i.test(e.name)) {
            const mtime = statSync(p).mtime.toISOString()
            out.push({ kind: "file", path: p, fetchedAt: mtime, group: "saved files" })
          }
        }
      }
      walk(dir)
      return out.sort((a, b) =>
        a.fetchedAt < b.fetchedAt ? -1 : a.fetchedAt > b.fetchedAt ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0
      )
    },
    catch: (e) =>
      new InputError({ path: dir, detail: `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
  })
