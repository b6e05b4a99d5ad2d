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
import { cli, UsageError } from "./Cli.js"

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    typeof e === "object" && e !== null && "_tag" in e
    ? String(e._tag)
    : String(e)

/**
 * Runs the command line `argv` (`[node, script, ...args]`) and succeeds with its exit code; every
 * failure is printed on stderr as one `b3: ...` line. A command that sets `process.exitCode`
 * (a batch with failed inputs) exits with it.
 *
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  cli(argv).pipe(
    Effect.as(0),
    Effect.catchAll((e) => {
      if (ValidationError.isValidationError(e)) return Effect.succeed(2) // @effect/cli already printed it
      if (e instanceof UsageError) return Effect.sync(() => (process.stderr.write(`b3: ${e.message}\n`), 2))
      if (ConfigError.isConfigError(e)) {
        return Effect.sync(() => (process.stderr.write(
          `b3: configuration: ${messageOf(e)}\n` +
            "    (--target aws reads B3_BUCKET, B3_GLUE_JOB, B3_ATHENA_WORKGROUP, AWS_REGION...: see the README, \"On AWS\")\n"
        ),
          2)
        )
      }
      return Effect.sync(() => (process.stderr.write(`b3: ${messageOf(e)}\n`), 1))
    }),
    Effect.catchAllDefect((d) => Effect.sync(() => (process.stderr.write(`b3: internal error: ${messageOf(d)}\n`), 1))),
    Effect.map((code) => code === 0 ? Number(process.exitCode ?? 0) : code),
    Effect.provide(NodeContext.layer)
  )
