/**
 * Keeps the JavaScript heap of a long `b3` process (a year's `replay`, a `refine --all`) near what it
 * holds live, so that its resident memory stays flat across the days it works through.
 *
 * V8 sizes its heap from how fast the program allocates, not from what it keeps: a backfill keeps
 * 40-60 MB live, yet V8 let the heap grow to 3-4 times that, and the process's peak RSS grew with
 * the run. The command line
 * cannot set V8's heap flags (`b3` runs as `node bin/b3.js`, and a child process with other flags
 * would survive a SIGKILL of its parent, which the writer lock's crash semantics rule out), so this
 * module watches the heap from inside: every `intervalMs` it reads V8's heap statistics (a few
 * microseconds) and, when the heap in use has grown past `grow` times what the last full collection
 * left plus `slack` (and past `floor`), it asks V8 for a full collection, which also returns the
 * freed pages to the system. A 250-day replay asked for 4 of them (250 ms in all) and peaked at
 * 325 MB, against 411 MB without them, in the same time (209 s and 208 s, run one after the other).
 *
 * The collection is V8's `gc()`, exposed with `v8.setFlagsFromString("--expose-gc")` (the way
 * Jest's leak detector reaches it), looked up the first time a collection is due: a short command
 * (a query) never pays for the V8 context that lookup creates. Where it yields no function, the
 * budget stops there.
 * Only the process's owner starts it: `Run.ts` (the `b3` program), never a library module, so a
 * service that imports the packages keeps its own memory policy. `B3_HEAP_BUDGET=off` turns it off;
 * `B3_HEAP_BUDGET=report` prints, at exit, how many collections it asked for and what they cost.
 *
 * @since 0.1.0
 */
import * as v8 from "node:v8"
import { runInNewContext } from "node:vm"

const MB = 1024 * 1024

/** @category models */
export interface Options {
  /** How often the heap is looked at, in ms (default 200). */
  readonly intervalMs?: number
  /** Collect when the heap in use exceeds `grow` x the last collection's live bytes + `slack` (default 1.5). */
  readonly grow?: number
  /** Bytes (default 32 MiB). */
  readonly slack?: number
  /** Never collect below this many bytes in use (default 96 MiB: short commands never pay for one). */
  readonly floor?: number
}

/** @category models */
export interface HeapBudget {
  /** Full collections asked for so far, the ms they took, and the live bytes the last one left. */
  readonly stats: () => { readonly collections: number; readonly ms: number; readonly liveBytes: number }
  readonly stop: () => void
}

/**
 * True when a full collection is due: `used` bytes in use, `live` bytes left by the last one.
 *
 * @category policy
 */
export const due = (used: number, live: number, options: Options = {}): boolean =>
  used > Math.max(options.floor ?? 96 * MB, live * (options.grow ?? 1.5) + (options.slack ?? 32 * MB))

/** V8's full collection, or undefined where it cannot be reached. */
const fullCollection = (): (() => void) | undefined => {
  try {
    v8.setFlagsFromString("--expose-gc")
    const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined")
    return typeof gc === "function" ? () => void gc() : undefined
  } catch {
    return undefined
  }
}

/**
 * Starts watching this process's heap (an unref'd timer: it never keeps the process alive).
 * Undefined when turned off (`B3_HEAP_BUDGET=off`).
 *
 * @category running
 */
export const start = (options: Options = {}, env: NodeJS.ProcessEnv = process.env): HeapBudget | undefined => {
  if (env["B3_HEAP_BUDGET"] === "off") return undefined
  /** V8's collection once looked up; null where V8 offers none. */
  let gc: (() => void) | null | undefined
  let collections = 0
  let ms = 0
  let live = 0
  const timer = setInterval(() => {
    if (!due(v8.getHeapStatistics().used_heap_size, live, options)) return
    gc ??= fullCollection() ?? null
    if (gc === null) return clearInterval(timer)
    const t0 = performance.now()
    gc()
    ms += performance.now() - t0
    collections++
    live = v8.getHeapStatistics().used_heap_size
  }, options.intervalMs ?? 200)
  timer.unref()
  if (env["B3_HEAP_BUDGET"] === "report") {
    process.once("exit", () => {
      process.stderr.write(
        `b3: heap budget: ${collections} full collection(s) in ${Math.round(ms)} ms; ${
          Math.round(live / MB)
        } MiB live after the last\n`
      )
    })
  }
  return {
    stats: () => ({ collections, ms, liveBytes: live }),
    stop: () => clearInterval(timer)
  }
}
