/**
 * The `b3` program as one effect from argv to an exit code (0 success, 1 some input or stage
 * failed, 2 usage error): `bin.ts` runs it in a process, tests run it in-process.
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import { cli } from "./Cli.js"
import * as Failure from "./Failure.js"
import { ExitCode } from "./Stdio.js"

/**
 * Runs the command line `argv` (`[node, script, ...args]`) and succeeds with its exit code: the code
 * a command asked for (`Stdio.exitWith`: a batch with failed inputs), else the failure's. Every
 * failure is printed on stderr (through `Console`) as one `b3: ...` line (`Failure`).
 *
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Effect.flatMap(Ref.make(0), (exitCode) =>
    cli(argv).pipe(
      Effect.provideService(ExitCode, exitCode),
      Effect.zipRight(Ref.get(exitCode)),
      // @effect/cli already printed its own parse errors
      Effect.catchAll((e) => ValidationError.isValidationError(e) ? Effect.succeed(2) : Failure.report(e)),
      Effect.catchAllDefect(Failure.reportDefect)
    )).pipe(Effect.provide(NodeContext.layer))
