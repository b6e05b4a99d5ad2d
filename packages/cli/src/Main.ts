/**
 * The `b3` program as one effect from argv to an exit code (0 success, 1 some input or stage
 * failed, 2 usage error): `bin.ts` runs it in a process, tests run it in-process.
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import { cli, UsageError } from "./Cli.js"
import * as Stdio from "./Stdio.js"
import { ExitCode } from "./Stdio.js"

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    typeof e === "object" && e !== null && "_tag" in e
    ? String(e._tag)
    : String(e)

/**
 * Runs the command line `argv` (`[node, script, ...args]`) and succeeds with its exit code: the code
 * a command asked for (`Stdio.exitWith`: a batch with failed inputs), else the failure's. Every
 * failure is printed on stderr (through `Console`) as one `b3: ...` line.
 *
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Effect.flatMap(Ref.make(0), (exitCode) =>
    cli(argv).pipe(
      Effect.provideService(ExitCode, exitCode),
      Effect.zipRight(Ref.get(exitCode)),
      Effect.catchAll((e) => {
        if (ValidationError.isValidationError(e)) return Effect.succeed(2) // @effect/cli already printed it
        if (e instanceof UsageError) return Effect.as(Stdio.err(`b3: ${e.message}`), 2)
        if (ConfigError.isConfigError(e)) {
          return Effect.as(
            Stdio.err(
              `b3: configuration: ${messageOf(e)}\n` +
                "    (--target aws reads B3_BUCKET, B3_GLUE_JOB, B3_ATHENA_WORKGROUP, AWS_REGION...: see the README, \"On AWS\")"
            ),
            2
          )
        }
        return Effect.as(Stdio.err(`b3: ${messageOf(e)}`), 1)
      }),
      Effect.catchAllDefect((d) => Effect.as(Stdio.err(`b3: internal error: ${messageOf(d)}`), 1))
    )).pipe(Effect.provide(NodeContext.layer))
