/**
 * A local B3: an HTTP server on 127.0.0.1 that speaks B3's index protocol exactly
 * (`GET /indexProxy/indexCall/<Method>/<base64(JSON params)>`), serving deterministic, realistic
 * portfolios from core's `Generate.generatePortfolio` encoded by core's `B3Encode`, with
 * programmable fault injection (see `Faults.ts`) and request statistics for tests.
 *
 * The simulated "today" is a constant by default (2025-10-03, a Friday), so that tests, benchmarks
 * and demos see the same bytes every run; pass `today` to move it.
 *
 * @since 0.1.0
 */
import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { IndexCode, Language, Portfolio, RefDate, Segment } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"
import type { Fault, FaultPlan, SimRequest } from "./Faults.js"

/** The path every call goes under, as on B3. @category constants */
export const BASE_PATH = "/indexProxy/indexCall"

/** The default simulated trading day. @category constants */
export const DEFAULT_TODAY = "2025-10-03" as RefDate

/** @category models */
export interface SimulatorOptions {
  /** Default 0 (any free port). */
  readonly port?: number
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** The trading day served (the header date). Default `DEFAULT_TODAY`. */
  readonly today?: RefDate
  /** Generator seed. Default: the generator's own. */
  readonly seed?: number
  /** Index codes answered besides B3's 37; any other code gets an empty page. */
  readonly extraIndices?: ReadonlyArray<string>
  /** Member counts by index code, instead of the generator's realistic default. */
  readonly sizes?: Readonly<Record<string, number>>
  /** Wrap the download's base64 in JSON quotes. Default true. */
  readonly downloadQuoted?: boolean
  /** Gzip every 200 body with `content-encoding: gzip`, asked for or not (as a CDN may). Default false. */
  readonly gzip?: boolean
  readonly faults?: FaultPlan
}

/** Live counters, for tests. @category models */
export interface SimulatorStats {
  /** Requests received. */
  readonly total: number
  readonly inFlight: number
  /** Most requests in flight at once. */
  readonly maxInFlight: number
  /** Faults injected. */
  readonly faults: number
  readonly byMethod: Readonly<Record<string, number>>
  /** Every request: its number, method, params, the fault injected (if any) and the status sent. */
  readonly log: ReadonlyArray<
    {
      readonly n: number
      readonly path: string
      readonly method: string
      readonly fault: string | undefined
      status: number
    }
  >
  /** Zeroes the counters, the log and the per-path try counts. */
  readonly reset: () => void
}

/** @category models */
export interface Simulator {
  /** Base URL to give a source: `http://127.0.0.1:<port>/indexProxy/indexCall`. */
  readonly url: string
  readonly port: number
  readonly today: RefDate
  readonly stats: SimulatorStats
  /** Replaces the fault plan (for a server shared by several tests). */
  readonly setFaults: (plan: FaultPlan | undefined) => void
  /** The portfolio served for an index (what a fetch + decode must give back). */
  readonly portfolio: (indexCode: IndexCode, segment: Segment) => Portfolio
  /** Stops listening and drops every open connection (hung ones included). */
  readonly close: () => Promise<void>
}

const KNOWN_METHODS = new Set([
  "GetPortfolioDay",
  "GetTheoricalPortfolio",
  "GetQuartelyPreview",
  "GetDownloadPortfolioDay"
])

const HTML_CHALLENGE = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head>" +
  "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>"

const HTML_520 = "<!DOCTYPE html><html><head><title>sistemaswebb3-listados.b3.com.br | 520: Web server is returning " +
  "an unknown error</title></head><body>Error code 520</body></html>"

const decodeParams = (b64: string): Record<string, unknown> | undefined => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, "base64").toString("utf8"))
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

const utf8 = new TextEncoder()

interface Answer {
  readonly status: number
  readonly contentType: string
  readonly body: Uint8Array
  readonly headers?: Readonly<Record<string, string>>
}

const jsonAnswer = (status: number, value: unknown): Answer => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: utf8.encode(JSON.stringify(value))
})

/**
 * Starts a simulator; resolves once it listens.
 *
 * @category constructors
 */
export const startServer = (options: SimulatorOptions = {}): Promise<Simulator> => {
  const today = options.today ?? DEFAULT_TODAY
  const known = new Set<string>([...ALL_INDEX_CODES, ...(options.extraIndices ?? [])])
  let plan: FaultPlan | undefined = options.faults
  const quoted = options.downloadQuoted ?? true

  // stats
  let total = 0
  let inFlight = 0
  let maxInFlight = 0
  let faults = 0
  let byMethod: Record<string, number> = {}
  let log: Array<{ n: number; path: string; method: string; fault: string | undefined; status: number }> = []
  let repeats = new Map<string, number>()

  // caches: the generator and encoders are deterministic, so each answer is computed once
  const portfolios = new Map<string, Portfolio>()
  const answers = new Map<string, ReadonlyArray<Uint8Array>>()

  const portfolio = (indexCode: IndexCode, segment: Segment): Portfolio => {
    const key = `${indexCode}|${segment}`
    let p = portfolios.get(key)
    if (p === undefined) {
      const size = options.sizes?.[indexCode]
      p = generatePortfolio({
        indexCode,
        refDate: today,
        segment,
        ...(size !== undefined ? { size } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {})
      })
      portfolios.set(key, p)
    }
    return p
  }

  const pagesOf = (
    method: string,
    indexCode: IndexCode,
    language: Language,
    segment: Segment,
    pageSize: number
  ): ReadonlyArray<Uint8Array> => {
    const key = `${method}|${indexCode}|${language}|${segment}|${pageSize}`
    let pages = answers.get(key)
    if (pages === undefined) {
      pages = method === "GetPortfolioDay"
        ? B3Encode.encodePortfolioDay(portfolio(indexCode, segment), { language, pageSize })
        : method === "GetDownloadPortfolioDay"
        ? [B3Encode.encodeDownload(portfolio(indexCode, "1"), { quoted })]
        : B3Encode.encodeTheoricalPortfolio(portfolio(indexCode, "1"), { language, pageSize })
      answers.set(key, pages)
    }
    return pages
  }

  /** Re-serializes a JSON page with another `page` envelope (out-of-range pages, changed totals). */
  const rewritePage = (bytes: Uint8Array, edit: (page: any, doc: any) => void): Uint8Array => {
    const doc = JSON.parse(Buffer.from(bytes).toString("utf8"))
    edit(doc.page, doc)
    return utf8.encode(JSON.stringify(doc))
  }

  /** The normal answer to a request (no fault). */
  const answer = (sim: SimRequest, changeTotals: number | undefined): Answer => {
    const p = sim.params
    if (!KNOWN_METHODS.has(sim.method)) {
      return { status: 404, contentType: "text/html", body: utf8.encode("<html><body>404 Not Found</body></html>") }
    }
    if (p === undefined) return jsonAnswer(400, { Message: "The request is invalid." })
    const language = p.language === undefined ? "pt-br" : p.language
    const index = p.index
    if ((language !== "pt-br" && language !== "en-us") || typeof index !== "string") {
      return jsonAnswer(400, { Message: "The request is invalid." })
    }
    if (sim.method === "GetDownloadPortfolioDay") {
      if (!known.has(index)) {
        return { status: 200, contentType: "application/json; charset=utf-8", body: utf8.encode("\"\"") }
      }
      const [body] = pagesOf(sim.method, index as IndexCode, language, "1", 1)
      return body === undefined
        ? jsonAnswer(500, { Message: "The simulator encoded no download body." })
        : { status: 200, contentType: "application/json; charset=utf-8", body }
    }
    const pageNumber = p.pageNumber ?? 1
    const pageSize = p.pageSize ?? 20
    const segment = p.segment === undefined ? "1" : String(p.segment)
    if (
      typeof pageNumber !== "number" || !Number.isInteger(pageNumber) || pageNumber < 1 ||
      typeof pageSize !== "number" || !Number.isInteger(pageSize) || pageSize < 1 ||
      (segment !== "1" && segment !== "2")
    ) {
      return jsonAnswer(400, { Message: "The request is invalid." })
    }
    if (!known.has(index)) {
      return jsonAnswer(200, {
        page: { pageNumber, pageSize, totalRecords: 0, totalPages: 0 },
        header: null,
        results: []
      })
    }
    const method = sim.method === "GetQuartelyPreview" ? "GetTheoricalPortfolio" : sim.method
    const pages = pagesOf(method, index as IndexCode, language, segment, pageSize)
    const [first] = pages
    if (first === undefined) throw new Error(`simulator: no page encoded for ${method} ${index}`)
    let body = pages[pageNumber - 1] ?? rewritePage(first, (page, doc) => {
      page.pageNumber = pageNumber
      doc.results = []
    })
    if (changeTotals !== undefined) {
      body = rewritePage(body, (page) => {
        page.totalRecords = Math.max(0, page.totalRecords + changeTotals)
        page.totalPages = Math.ceil(page.totalRecords / page.pageSize)
      })
    }
    return { status: 200, contentType: "application/json; charset=utf-8", body }
  }

  const send = (res: http.ServerResponse, a: Answer, n: number) => {
    if (res.destroyed) return
    const gz = options.gzip === true && a.status === 200
    const body = gz ? zlib.gzipSync(a.body) : a.body
    res.writeHead(a.status, {
      "content-type": a.contentType,
      "content-length": String(body.length),
      ...(gz ? { "content-encoding": "gzip" } : {}),
      "cf-ray": `${n.toString(16).padStart(16, "0")}-GRU`,
      ...a.headers
    })
    res.end(body)
  }

  const applyFault = (res: http.ServerResponse, fault: Fault, sim: SimRequest, n: number) => {
    switch (fault._tag) {
      case "Status":
        return send(res, {
          status: fault.status,
          contentType: fault.body === undefined ? "text/html; charset=UTF-8" : "application/json; charset=utf-8",
          body: utf8.encode(
            fault.body ?? (fault.status === 520 ? HTML_520 : `<html><body>${fault.status}</body></html>`)
          ),
          ...(fault.headers !== undefined ? { headers: fault.headers } : {})
        }, n)
      case "Hang":
        return // the socket stays open; close() destroys it
      case "Reset":
        return res.socket?.destroy()
      case "Html":
        return send(res, {
          status: fault.status,
          contentType: "text/html; charset=UTF-8",
          body: utf8.encode(HTML_CHALLENGE)
        }, n)
      case "JsonError":
        return send(res, jsonAnswer(fault.status, { Message: "An error has occurred." }), n)
      case "Delay": {
        const timer = setTimeout(() => send(res, answer(sim, undefined), n), fault.ms)
        res.on("close", () => clearTimeout(timer))
        return
      }
      case "ChangeTotals":
        return send(res, answer(sim, fault.delta), n)
      case "Truncate": {
        const a = answer(sim, undefined)
        const cut = a.body.subarray(0, Math.floor(a.body.length * Math.min(1, Math.max(0, fault.keep))))
        if (fault.declareFullLength) {
          res.writeHead(a.status, { "content-type": a.contentType, "content-length": String(a.body.length) })
          res.write(cut, () => res.socket?.destroy())
        } else {
          res.writeHead(a.status, { "content-type": a.contentType, "transfer-encoding": "chunked" })
          res.end(cut)
        }
        return
      }
    }
  }

  const server = http.createServer((req, res) => {
    const n = ++total
    inFlight++
    if (inFlight > maxInFlight) maxInFlight = inFlight
    res.on("close", () => void inFlight--)
    const url = new URL(req.url ?? "/", "http://localhost")
    const path = url.pathname
    let method = ""
    let params: Record<string, unknown> | undefined
    if (path.startsWith(BASE_PATH + "/")) {
      const rest = path.slice(BASE_PATH.length + 1).split("/")
      method = rest[0] ?? ""
      const encoded = rest[1]
      params = rest.length === 2 && encoded !== undefined ? decodeParams(decodeURIComponent(encoded)) : undefined
    }
    byMethod[method] = (byMethod[method] ?? 0) + 1
    const repeat = (repeats.get(path) ?? 0) + 1
    repeats.set(path, repeat)
    const sim: SimRequest = {
      n,
      method,
      params,
      indexCode: typeof params?.index === "string" ? params.index : undefined,
      pageNumber: typeof params?.pageNumber === "number" ? params.pageNumber : undefined,
      repeat,
      path
    }
    let fault: Fault | undefined
    try {
      fault = req.method === "GET" ? plan?.(sim) : undefined
    } catch {
      fault = undefined
    }
    const entry = { n, path, method, fault: fault?._tag, status: 0 }
    log.push(entry)
    res.on("finish", () => void (entry.status = res.statusCode))
    try {
      if (req.method !== "GET") {
        return send(res, { status: 405, contentType: "text/plain", body: utf8.encode("method not allowed") }, n)
      }
      if (fault !== undefined) {
        faults++
        return applyFault(res, fault, sim, n)
      }
      send(res, answer(sim, undefined), n)
    } catch (e) {
      send(res, { status: 500, contentType: "text/plain", body: utf8.encode(`simulator error: ${String(e)}`) }, n)
    }
  })
  server.keepAliveTimeout = 5_000

  const stats: SimulatorStats = {
    get total() {
      return total
    },
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    get faults() {
      return faults
    },
    get byMethod() {
      return byMethod
    },
    get log() {
      return log
    },
    reset: () => {
      total = 0
      maxInFlight = inFlight
      faults = 0
      byMethod = {}
      log = []
      repeats = new Map()
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      const host = options.host ?? "127.0.0.1"
      resolve({
        url: `http://${host}:${port}${BASE_PATH}`,
        port,
        today,
        stats,
        portfolio,
        setFaults: (p) => void (plan = p),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}

/**
 * A simulator for the life of a scope.
 *
 * @category constructors
 */
export const start = (options?: SimulatorOptions): Effect.Effect<Simulator, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(options)),
    (sim) => Effect.promise(() => sim.close())
  )

/** @category tags */
export class B3Simulator extends Context.Tag("@b3-pipeline/b3-simulator/B3Simulator")<B3Simulator, Simulator>() {}

/** @category layers */
export const layer = (options?: SimulatorOptions): Layer.Layer<B3Simulator> => Layer.scoped(B3Simulator, start(options))
