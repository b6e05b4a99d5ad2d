/**
 * Entry point of the `b3` command. Exit codes: 0 success, 1 some input or stage failed (a summary
 * names each), 2 usage error (see `Main.ts`).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { main } from "./Main.js"

NodeRuntime.runMain(main(process.argv), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) onExit(typeof exit.value === "number" ? exit.value : 1)
    else onExit(Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
  }
})
