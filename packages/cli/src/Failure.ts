/**
 * How a failed `b3` command ends: one `b3: ...` line on stderr and its exit code (2 for a usage or
 * configuration mistake, 1 for anything else). Shared by the full program (`Main.ts`, which first
 * lets @effect/cli's own parse errors through) and the quick path of `b3 query` (`QueryMain.ts`).
 *
 * @since 0.1.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Stdio from "./Stdio.js"
import { UsageError } from "./Usage.js"

/** A failure's text: its non-empty `message`, else its `_tag`, else the value as text. @category printing */
export const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    typeof e === "object" && e !== null && "_tag" in e
    ? String(e._tag)
    : String(e)

/**
 * Prints a command's failure on stderr and succeeds with its exit code: a `UsageError` or a
 * `ConfigError` (`--target aws` without its settings) 2, anything else 1.
 *
 * @category printing
 */
export const report = (e: unknown): Effect.Effect<number> => {
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
}

/** Prints a defect (a bug, a broken installation) on stderr and succeeds with exit code 1. @category printing */
export const reportDefect = (d: unknown): Effect.Effect<number> =>
  Effect.as(Stdio.err(`b3: internal error: ${messageOf(d)}`), 1)
