/**
 * Runs the real `bin/b3.js` as a child process. Asynchronous on purpose: a synchronous spawn blocks
 * vitest's worker (and any server the test itself runs) for the whole command, and a loaded machine
 * then times out the worker's RPC.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The `b3` entry point every CLI test runs. */
export const bin = fileURLToPath(new URL("../../bin/b3.js", import.meta.url))

/** What a finished `b3` printed and its exit code (`null` when a signal or the timeout ended it). */
export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `node bin/b3.js ...args` in `cwd` with `env` (default: this process's, without colours). */
export const runB3 = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" }
): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, encoding: "utf8", timeout: 120_000, env },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    )
  })
