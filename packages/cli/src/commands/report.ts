/**
 * `b3 report`: wired when the report module lands.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"

/** @category commands */
export const make = (_withTarget: unknown) =>
  Command.make("report", {}, () => Effect.void).pipe(
    Command.withDescription("Charts of the portfolio as one HTML page.")
  )
