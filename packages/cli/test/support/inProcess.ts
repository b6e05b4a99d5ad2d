/**
 * Runs `b3` in this process: `Main.main` (the effect `bin.ts` runs) with an Effect `Console` that
 * captures stdout and stderr, the exit code returned by the program. No process is spawned, so a test
 * pays for DuckDB and the adapters once per file, not once per command.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Console as NodeConsole } from "node:console"
import { Writable } from "node:stream"
import { main } from "../../src/Main.js"

/** What a finished `b3` printed and its exit code. */
export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const sink = (chunks: Array<string>) =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk))
      done()
    }
  })

/**
 * An Effect `Console` over a Node console writing into memory: the text is formatted exactly as
 * `globalThis.console` formats it for a real stdout and stderr (without colours).
 */
export const captureConsole = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const unsafe = new NodeConsole({ stdout: sink(out), stderr: sink(err), colorMode: false })
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    assert: (condition, ...args) => Effect.sync(() => unsafe.assert(condition, ...args)),
    clear: Effect.sync(() => unsafe.clear()),
    count: (label) => Effect.sync(() => unsafe.count(label)),
    countReset: (label) => Effect.sync(() => unsafe.countReset(label)),
    debug: (...args) => Effect.sync(() => unsafe.debug(...args)),
    dir: (item, options) => Effect.sync(() => unsafe.dir(item, options)),
    dirxml: (...args) => Effect.sync(() => unsafe.dirxml(...args)),
    error: (...args) => Effect.sync(() => unsafe.error(...args)),
    group: (options) =>
      Effect.sync(() =>
        options?.collapsed === true ? unsafe.groupCollapsed(options.label) : unsafe.group(options?.label)
      ),
    groupEnd: Effect.sync(() => unsafe.groupEnd()),
    info: (...args) => Effect.sync(() => unsafe.info(...args)),
    log: (...args) => Effect.sync(() => unsafe.log(...args)),
    table: (data, properties) => Effect.sync(() => unsafe.table(data, properties as Array<string>)),
    time: (label) => Effect.sync(() => unsafe.time(label)),
    timeEnd: (label) => Effect.sync(() => unsafe.timeEnd(label)),
    timeLog: (label, ...args) => Effect.sync(() => unsafe.timeLog(label, ...args)),
    trace: (...args) => Effect.sync(() => unsafe.trace(...args)),
    warn: (...args) => Effect.sync(() => unsafe.warn(...args)),
    unsafe
  }
  return { console, stdout: () => out.join(""), stderr: () => err.join("") }
}

/**
 * `b3 ...args` in this process. `env` sets (a string) or removes (`undefined`) environment variables
 * for the run and restores them after it: do not run two such calls at once.
 */
export const runInProcess = async (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = {}
): Promise<Ran> => {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const)
  const set = (entries: ReadonlyArray<readonly [string, string | undefined]>) => {
    for (const [k, v] of entries) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  set(Object.entries(env))
  try {
    const captured = captureConsole()
    const code = await Effect.runPromise(Effect.withConsole(main(["node", "b3", ...args]), captured.console))
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  } finally {
    set(saved)
  }
}
