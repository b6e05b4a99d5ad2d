/**
 * Runs an ES module script in a fresh `node` process and reads its one result: the script prints a
 * line `<MARKER> <json>` on stdout (after an empty line, so a partial line of the handler's own
 * logging cannot prefix it); the promise holds the parsed JSON, or fails with the exit code and the
 * tail of stderr when the process failed or printed no such line.
 */
import { spawn } from "node:child_process"

export interface MarkedRun {
  /** The module script (`node --input-type=module -e`). */
  readonly script: string
  /** The line's marker, e.g. `ANSWER`. */
  readonly marker: string
  /** The child's whole environment (nothing inherited but what is given). */
  readonly env: Record<string, string>
  /** Node options before the script (e.g. `--import` of a preload). */
  readonly nodeArgs?: ReadonlyArray<string>
}

export const runMarked = <A>(run: MarkedRun): Promise<A> =>
  new Promise((ok, fail) => {
    const child = spawn(process.execPath, [...(run.nodeArgs ?? []), "--input-type=module", "-e", run.script], {
      env: run.env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    child.on("error", fail)
    child.on("exit", (code) => {
      const prefix = `${run.marker} `
      const line = out.split("\n").find((l) => l.startsWith(prefix))
      if (code !== 0 || line === undefined) fail(new Error(`exit ${code}: ${err.slice(-1500)}`))
      else ok(JSON.parse(line.slice(prefix.length)) as A)
    })
  })
