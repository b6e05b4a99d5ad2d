/**
 * Stack traces in terms of the TypeScript sources, resolved only when an error leaves a handler.
 *
 * `--enable-source-maps` makes Node parse the bundle's source map at load, on every cold start
 * (it doubled `onRawObjectCreated`'s cold start). Instead the bundles ship their `.map` files and a
 * failing invocation maps its error's stack here: the map of each bundle file named in the stack is
 * read then (once per process) and each `file:line:column` frame gains its original position.
 * A frame's position is found the way Node's `SourceMap.findEntry` finds it (the last mapping at or
 * before it), from the mappings decoded once into typed arrays: Node's class builds an array per
 * mapping and sorts them all, which for a bundle's entry (Effect and the SDK: a map of half a
 * megabyte) took 100-200 ms. Without a map, a frame is left as it was.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** A source map's mappings, decoded: one entry per mapping, in generated order. */
interface Decoded {
  readonly sources: ReadonlyArray<string>
  readonly count: number
  readonly genLine: Int32Array
  readonly genColumn: Int32Array
  /** -1: a mapping without a source. */
  readonly source: Int32Array
  readonly line: Int32Array
  readonly column: Int32Array
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const DIGITS = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE64.length; i++) DIGITS[BASE64.charCodeAt(i)] = i
const COMMA = 44
const SEMICOLON = 59

/** Decodes a v3 map's `mappings` (base64 VLQ); `undefined` when they do not decode. */
export const decodeMappings = (sources: ReadonlyArray<string>, mappings: string): Decoded | undefined => {
  const m = mappings
  const length = m.length
  // a segment takes at least one character and a separator
  const capacity = (length >> 1) + 1
  const genLine = new Int32Array(capacity)
  const genColumn = new Int32Array(capacity)
  const source = new Int32Array(capacity)
  const line = new Int32Array(capacity)
  const column = new Int32Array(capacity)
  let count = 0
  let l = 0
  let c = 0
  let s = 0
  let ol = 0
  let oc = 0
  let sorted = true
  let i = 0
  while (i < length) {
    const code = m.charCodeAt(i)
    if (code === SEMICOLON) {
      l++
      c = 0
      i++
      continue
    }
    if (code === COMMA) {
      i++
      continue
    }
    // one segment: 1, 4 or 5 VLQ fields (the generated column, then source, line, column, name)
    let n = 0
    let f0 = 0
    let f1 = 0
    let f2 = 0
    let f3 = 0
    while (i < length) {
      const at = m.charCodeAt(i)
      if (at === COMMA || at === SEMICOLON) break
      let result = 0
      let shift = 0
      let digit = 0
      do {
        const next = m.charCodeAt(i++)
        digit = next < 128 ? DIGITS[next] ?? -1 : -1
        if (digit < 0 || shift > 25) return undefined
        result |= (digit & 31) << shift
        shift += 5
      } while ((digit & 32) !== 0)
      const value = (result & 1) === 1 ? -(result >>> 1) : result >>> 1
      if (n === 0) f0 = value
      else if (n === 1) f1 = value
      else if (n === 2) f2 = value
      else if (n === 3) f3 = value
      n++
    }
    const previous = c
    c += f0
    if (c < previous) sorted = false
    genLine[count] = l
    genColumn[count] = c
    if (n >= 4) {
      s += f1
      ol += f2
      oc += f3
      source[count] = s
      line[count] = ol
      column[count] = oc
    } else {
      source[count] = -1
    }
    count++
  }
  if (!sorted) {
    // Node sorts the mappings by generated position (a stable sort); esbuild writes them sorted
    const order = Array.from({ length: count }, (_, k) => k).sort((a, b) =>
      (genLine[a] ?? 0) - (genLine[b] ?? 0) || (genColumn[a] ?? 0) - (genColumn[b] ?? 0)
    )
    const pick = (a: Int32Array) => Int32Array.from(order, (k) => (a[k] ?? 0))
    return {
      sources,
      count,
      genLine: pick(genLine),
      genColumn: pick(genColumn),
      source: pick(source),
      line: pick(line),
      column: pick(column)
    }
  }
  return { sources, count, genLine, genColumn, source, line, column }
}

const maps = new Map<string, Decoded | undefined>()

const mapOf = (file: string): Decoded | undefined => {
  if (maps.has(file)) return maps.get(file)
  let map: Decoded | undefined
  try {
    const json = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources?: unknown; mappings?: unknown }
    map = typeof json.mappings === "string" && Array.isArray(json.sources) ?
      decodeMappings(json.sources as Array<string>, json.mappings) :
      undefined
  } catch {
    map = undefined // no map beside the file (or not readable): frames stay as they are
  }
  maps.set(file, map)
  return map
}

/**
 * The original position of the generated `line:column` (0-based): that of the last mapping at or
 * before it, as Node's `SourceMap.findEntry` finds it; `undefined` when there is none or when that
 * mapping names no source.
 */
export const findOriginal = (
  map: Decoded,
  line: number,
  column: number
): { readonly source: string; readonly line: number; readonly column: number } | undefined => {
  let first = 0
  let count = map.count
  while (count > 1) {
    const step = count >> 1
    const middle = first + step
    if (
      line < (map.genLine[middle] ?? 0) ||
      (line === (map.genLine[middle] ?? 0) && column < (map.genColumn[middle] ?? 0))
    ) {
      count = step
    } else {
      first = middle
      count -= step
    }
  }
  if (map.count === 0) return undefined
  if (
    first === 0 &&
    (line < (map.genLine[0] ?? 0) || (line === (map.genLine[0] ?? 0) && column < (map.genColumn[0] ?? 0)))
  ) {
    return undefined
  }
  const source = map.source[first] ?? 0
  const name = source >= 0 ? map.sources[source] : undefined
  return name === undefined
    ? undefined
    : { source: name, line: (map.line[first] ?? 0), column: (map.column[first] ?? 0) }
}

// `file:///var/task/index.mjs:1:2345` or `/var/task/chunk-X.mjs:1:2345` inside a stack frame
const FRAME = /(file:\/\/[^\s()]+?|\/[^\s():]+?)\.(m?js):(\d+):(\d+)/g

/** One stack text with every bundle position followed by its source position. */
export const mapStack = (stack: string): string =>
  stack.replace(FRAME, (whole, path: string, ext: string, line: string, column: string) => {
    const file = path.startsWith("file://") ? fileURLToPath(`${path}.${ext}`) : `${path}.${ext}`
    const map = mapOf(file)
    if (map === undefined) return whole
    const entry = findOriginal(map, Number(line) - 1, Number(column) - 1)
    if (entry === undefined) return whole
    const source = entry.source.replace(/^(\.\.\/)+/, "")
    return `${source}:${entry.line + 1}:${entry.column + 1} [${whole}]`
  })

/** Rewrites `error.stack` (an `Error`, or an object with a `stack` string) in place; returns it. */
export const withSourceStack = <A>(error: A): A => {
  if (typeof error === "object" && error !== null && "stack" in error && typeof error.stack === "string") {
    try {
      ;(error as { stack: string }).stack = mapStack(error.stack)
    } catch {
      // a stack we cannot rewrite is reported as it was
    }
  }
  return error
}
