/**
 * Stack traces in terms of the TypeScript sources, resolved only when an error leaves a handler.
 *
 * `--enable-source-maps` makes Node parse the bundle's source map at load, on every cold start
 * (it doubled `onRawObjectCreated`'s cold start). Instead the bundles ship their `.map` files and a
 * failing invocation maps its error's stack here: the map of each bundle file named in the stack is
 * read then (once per process) and each `file:line:column` frame gains its original position.
 * Node's own `SourceMap` class does the decoding; without a map, a frame is left as it was.
 */
import { readFileSync } from "node:fs"
import { SourceMap } from "node:module"
import { fileURLToPath } from "node:url"

const maps = new Map<string, SourceMap | undefined>()

const mapOf = (file: string): SourceMap | undefined => {
  if (maps.has(file)) return maps.get(file)
  let map: SourceMap | undefined
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")))
  } catch {
    map = undefined // no map beside the file (or not readable): frames stay as they are
  }
  maps.set(file, map)
  return map
}

// `file:///var/task/index.mjs:1:2345` or `/var/task/chunk-X.mjs:1:2345` inside a stack frame
const FRAME = /(file:\/\/[^\s()]+?|\/[^\s():]+?)\.(m?js):(\d+):(\d+)/g

/** One stack text with every bundle position followed by its source position. */
export const mapStack = (stack: string): string =>
  stack.replace(FRAME, (whole, path: string, ext: string, line: string, column: string) => {
    const file = path.startsWith("file://") ? fileURLToPath(`${path}.${ext}`) : `${path}.${ext}`
    const map = mapOf(file)
    if (map === undefined) return whole
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as {
      readonly originalSource?: string
      readonly originalLine?: number
      readonly originalColumn?: number
    }
    if (entry.originalSource === undefined || entry.originalLine === undefined) return whole
    const source = entry.originalSource.replace(/^(\.\.\/)+/, "")
    return `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1} [${whole}]`
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
