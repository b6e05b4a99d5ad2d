/**
 * Saved payloads on disk -> `Payload`s: a downloaded CSV (`IBOVDia_03-10-25.csv`), a saved
 * `GetPortfolioDay`/`GetTheoricalPortfolio` JSON body, a `GetDownloadPortfolioDay` base64 body, or a
 * folder archived by the raw layer (`<sha256>/page-001.json` + `request.json`).
 *
 * @since 0.1.0
 */
import { IndexCode, Language, RefDate } from "@b3-pipeline/core/Domain"
import * as Payloads from "@b3-pipeline/core/Payloads"
import type { Payload, RequestRecord } from "@b3-pipeline/core/PortfolioSource"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
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
}

/** The index code named in a file name (`IBOVDia_03-10-25.csv`, `GetPortfolioDay_IBXX_...json`). @category parsing */
export const indexFromName = Payloads.indexFromName

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
 * Reads one saved payload (core's `Payloads.fromFile`). The index comes from `--index`, else the
 * file's name or (CSV) its title line; the language is detected from the text unless given.
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

const RequestJson = Schema.Struct({
  request: Schema.Struct({
    indexCode: IndexCode,
    method: Schema.Literal("GetPortfolioDay", "GetTheoricalPortfolio", "GetDownloadPortfolioDay"),
    language: Language,
    segment: Schema.Literal("1", "2")
  }),
  fetchedAt: Schema.String,
  origin: Schema.optional(Schema.String),
  refDate: Schema.optional(RefDate)
})

/**
 * Reads a payload folder archived by the raw layer (`request.json` + `page-NNN.*`).
 *
 * @category constructors
 */
export const payloadFromArchive = (dir: string): Effect.Effect<Payload, InputError> =>
  Effect.gen(function*() {
    const fail = (detail: string) => new InputError({ path: dir, detail })
    const text = yield* Effect.tryPromise({
      try: () => fs.readFile(path.join(dir, "request.json"), "utf8"),
      catch: () => fail("no readable request.json")
    })
    const meta = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => fail("request.json is not JSON")
    })
    const decoded = yield* Schema.decodeUnknown(RequestJson)(meta, { onExcessProperty: "ignore" }).pipe(
      Effect.mapError((e) => fail(`request.json: ${e.message}`))
    )
    const names = (yield* Effect.tryPromise({ try: () => fs.readdir(dir), catch: () => fail("cannot list") }))
      .filter((n) => /^page-\d+\./.test(n)).sort()
    if (names.length === 0) return yield* fail("no page-NNN files")
    const pages = yield* Effect.forEach(names, (n) =>
      Effect.tryPromise({
        try: () => fs.readFile(path.join(dir, n)),
        catch: () => fail(`cannot read ${n}`)
      }).pipe(
        Effect.map((b) => ({
          bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
          request: record(path.join(dir, n), { ...decoded.request }, new Date(decoded.fetchedAt))
        }))
      ))
    return {
      request: decoded.request,
      pages,
      fetchedAt: decoded.fetchedAt,
      origin: `archive:${path.resolve(dir)}`,
      ...(decoded.refDate !== undefined ? { refDate: decoded.refDate } : {})
    } satisfies Payload
  })

/** What `b3 replay DIR` will ingest: payload files and archived payload folders, in name order. @category parsing */
export const discover = (
  dir: string
): Effect.Effect<ReadonlyArray<{ kind: "file" | "archive"; path: string }>, InputError> =>
  Effect.tryPromise({
    try: async () => {
      const out: Array<{ kind: "file" | "archive"; path: string }> = []
      const walk = async (d: string): Promise<void> => {
        const entries = (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
        if (entries.some((e) => e.isFile() && e.name === "request.json")) {
          out.push({ kind: "archive", path: d })
          return
        }
        for (const e of entries) {
          const p = path.join(d, e.name)
          if (e.isDirectory()) await walk(p)
          else if (e.isFile() && /\.(csv|json|txt)$/i.test(e.name)) out.push({ kind: "file", path: p })
        }
      }
      await walk(dir)
      return out
    },
    catch: (e) =>
      new InputError({ path: dir, detail: `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
  })
