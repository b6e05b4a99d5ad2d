/**
 * Entry point of the `b3` command. Exit codes: 0 success, 1 some input or stage failed (a summary
 * names each), 2 usage error.
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { cli, UsageError } from "./Cli.js"

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    typeof e === "object" && e !== null && "_tag" in e
    ? String(e._tag)
    : String(e)

const main = cli(process.argv).pipe(
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
  Effect.provide(NodeContext.layer)
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) {
      const code = typeof exit.value === "number" ? exit.value : 1
      onExit(code === 0 ? Number(process.exitCode ?? 0) : code)
    } else onExit(Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
  }
})
