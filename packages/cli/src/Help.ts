/**
 * How `b3` prints @effect/cli's help, version and parse errors: without the generic type lines
 * ("A user-defined piece of text.") and without terminal escapes unless the stream is a terminal and
 * `NO_COLOR` is unset. Loaded by every command, so it stays small.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { cleanHelp, useColour } from "./HelpText.js"
import { PlainConsole } from "./Stdio.js"

export { cleanHelp, useColour } from "./HelpText.js"

/**
 * Whether help printed on stdout and on stderr keeps its terminal escapes, asked at each print.
 * Default: `useColour` of the process's stream. `HelpSnapshot` asks for the escapes (and removes them
 * later where the stream is no terminal).
 *
 * @category terminal
 */
export class Colour extends Context.Reference<Colour>()("@b3-pipeline/cli/Colour", {
  defaultValue: (): { readonly stdout: () => boolean; readonly stderr: () => boolean } => ({
    stdout: () => useColour(process.stdout),
    stderr: () => useColour(process.stderr)
  })
}) {}

const cleanArgs = (args: ReadonlyArray<unknown>, colour: boolean): Array<unknown> =>
  args.map((a) => typeof a === "string" ? cleanHelp(a, colour) : a)

/**
 * Runs an effect with a console whose `log` (stdout) and `error` (stderr) pass text through
 * `cleanHelp`: this is where @effect/cli prints help, versions and parse errors. The console it
 * replaces is `PlainConsole` inside, for the commands' own output (`Stdio.withPlainConsole`).
 *
 * @category terminal
 */
export const withCleanConsole = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, PlainConsole>> =>
  Effect.flatMap(
    Colour,
    (colour) =>
      Effect.consoleWith((console) =>
        Effect.withConsole(Effect.provideService(self, PlainConsole, console), {
          ...console,
          log: (...args: ReadonlyArray<unknown>) => console.log(...cleanArgs(args, colour.stdout())),
          error: (...args: ReadonlyArray<unknown>) => console.error(...cleanArgs(args, colour.stderr()))
        })
      )
  )
