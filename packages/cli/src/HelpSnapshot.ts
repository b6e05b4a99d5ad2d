/**
 * Builds the snapshot `QuickAnswer` answers from: the real program (`Main.main`) run in-process on
 * each of `QuickAnswer.commandLines`, its prints recorded with their terminal escapes. Run by
 * `scripts/build-cli.mjs` on the bundle it has just built.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import { command } from "./Cli.js"
import * as Help from "./Help.js"
import { main } from "./Main.js"
import type { Answer, Print, Snapshot } from "./QuickAnswer.js"
import { commandLines, key } from "./QuickAnswer.js"

/**
 * The program's answer to `args` (the arguments after `b3`), or `undefined` when it printed anything
 * but text through `console.log` and `console.error` (such a command line is left to the program).
 *
 * @category snapshot
 */
export const record = (args: ReadonlyArray<string>): Promise<Answer | undefined> => {
  const prints: Array<Print> = []
  let textOnly = true
  const printer = (stream: Print["stream"]) => (...printed: ReadonlyArray<unknown>) =>
    Effect.sync(() => {
      if (printed.every((a): a is string => typeof a === "string")) prints.push({ stream, args: printed })
      else textOnly = false
    })
  const program = Effect.consoleWith((console) =>
    Effect.withConsole(main(["node", "b3", ...args]), {
      ...console,
      log: printer("stdout"),
      error: printer("stderr")
    })
  ).pipe(Effect.provideService(Help.Colour, { stdout: () => true, stderr: () => true }))
  return Effect.runPromise(program).then((code) => textOnly ? { prints, code } : undefined)
}

/** The snapshot of every command line `QuickAnswer` answers. @category snapshot */
export const generate = async (): Promise<Snapshot> => {
  const answers: Record<string, Answer> = {}
  for (const args of commandLines([...HashMap.keys(Command.getSubcommands(command))])) {
    const answer = await record(args)
    if (answer !== undefined) answers[key(args)] = answer
  }
  return { answers }
}
