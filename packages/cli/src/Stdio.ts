/**
 * How `b3` speaks: every line for stdout or stderr goes through Effect's `Console` (so a test runs
 * the whole command in-process with a console that captures it), and a command that wants a
 * non-zero exit code says so through `ExitCode` (read once by `Main.main`, set on the process once
 * by `bin.ts`).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/**
 * The exit code a command asks for when it ends normally (a batch with failed inputs, a date still
 * stale: 1). Failures of the command itself map to their own codes in `Main.main`.
 *
 * @category tags
 */
export class ExitCode extends Context.Tag("@b3-pipeline/cli/ExitCode")<ExitCode, Ref.Ref<number>>() {}

/** Asks for exit code `code` (the highest code asked for wins). @category exit */
export const exitWith = (code: number): Effect.Effect<void, never, ExitCode> =>
  Effect.flatMap(ExitCode, (ref) => Ref.update(ref, (current) => Math.max(current, code)))

/**
 * The console of the command's own output, without the help cleaning that `Help.withCleanConsole`
 * applies to what @effect/cli prints (help, versions, parse errors).
 *
 * @category tags
 */
export class PlainConsole extends Context.Tag("@b3-pipeline/cli/PlainConsole")<PlainConsole, Console.Console>() {}

/** Runs `self` with the plain console (see `PlainConsole`). @category console */
export const withPlainConsole = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | PlainConsole> => Effect.flatMap(PlainConsole, (console) => Effect.withConsole(self, console))

// `Console.log` ends each call with a newline: the texts below are whole lines, so drop theirs.
const chomp = (text: string): string => text.endsWith("\n") ? text.slice(0, -1) : text

/** Whole lines on stdout (`text` ends with its newline, or one is added). @category console */
export const out = (text: string): Effect.Effect<void> => Console.log(chomp(text))

/** Whole lines on stderr (`text` ends with its newline, or one is added). @category console */
export const err = (text: string): Effect.Effect<void> => Console.error(chomp(text))
