/**
 * How `b3` prints @effect/cli's help, version and parse errors: without the generic type lines
 * ("A user-defined piece of text.") and without terminal escapes unless the stream is a terminal and
 * `NO_COLOR` is unset. Loaded by every command, so it stays small.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { stripVTControlCharacters } from "node:util"
import { PlainConsole } from "./Stdio.js"

/**
 * Whether a stream may carry terminal escapes (colour, bold): only a terminal, and only when
 * `NO_COLOR` is unset or empty (https://no-color.org).
 *
 * @category terminal
 */
export const useColour = (stream: { readonly isTTY?: boolean } = process.stdout): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

// The type paragraphs @effect/cli puts before each option's own description ("A user-defined piece of
// text.", "An existing file.", ...): they say nothing the usage line does not, so help drops them.
const genericLine =
  /^\s*(?:A user-defined piece of text(?: that is confidential)?\.|A true or false value\.|One of the following: .*|An integer\.|A floating point number\.|A date without a time-zone in the ISO-8601 format.*|An? (?:existing )?(?:file or directory|file|directory)(?: that must not exist)?\.)\s*$/

/**
 * Help and error text from @effect/cli as printed by `b3`: without the generic type paragraphs, and
 * without terminal escapes unless `colour`.
 *
 * @category terminal
 */
export const cleanHelp = (text: string, colour: boolean): string => {
  const lines = text.split("\n")
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    if (genericLine.test(stripVTControlCharacters(line))) {
      if ((lines[i + 1] ?? "x").trim() === "") i++ // and the blank line after it
      continue
    }
    out.push(line)
  }
  const joined = out.join("\n")
  return colour ? joined : stripVTControlCharacters(joined)
}

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
  Effect.consoleWith((console) =>
    Effect.withConsole(Effect.provideService(self, PlainConsole, console), {
      ...console,
      log: (...args: ReadonlyArray<unknown>) => console.log(...cleanArgs(args, useColour(process.stdout))),
      error: (...args: ReadonlyArray<unknown>) => console.error(...cleanArgs(args, useColour(process.stderr)))
    })
  )
